"""A slow client cannot hold the server: headers, bodies and idle connections each have a deadline (issue 14).

uvicorn closes an idle keep-alive connection, but has no timeout for a request's headers
(a client could open a connection and send a byte now and then for ever) nor for its body.
These run the real server (`pipeline.serve.server`, as `behaviours serve` does) on a free
loopback port with the stand-in model and deadlines of a fraction of a second.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from pipeline.config import ServeParams
from pipeline.serve import create_app, server
from pipeline.tagger import Tagger

DEADLINES = ServeParams(header_timeout_seconds=0.5, body_timeout_seconds=0.5, keep_alive_seconds=0.5, max_header_bytes=4_096)
REQUEST = b"POST /v1/tag HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.fixture(scope="module")
def address(trained, taxonomy, encoder, splitter):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(Tagger(trained[0], encoder=encoder, splitter=splitter), taxonomy, DEADLINES)
    running = server(app, DEADLINES, "127.0.0.1", port)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    for _ in range(200):
        if running.started:
            break
        time.sleep(0.05)
    yield ("127.0.0.1", port)
    running.should_exit = True
    thread.join(timeout=10)


def _closed_within(connection: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """(whether the server closed the connection within `seconds`, what it sent before)."""
    connection.settimeout(seconds)
    received = b""
    try:
        while chunk := connection.recv(65_536):
            received += chunk
    except TimeoutError:
        return False, received
    return True, received


def _one_answer(connection: socket.socket) -> bytes:
    """One whole HTTP answer (headers and a Content-Length body) from the connection, which stays open."""
    connection.settimeout(5)
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65_536)
    head = received.partition(b"\r\n\r\n")[0].lower()
    length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
    while len(received.partition(b"\r\n\r\n")[2]) < length:
        received += connection.recv(65_536)
    return received


def test_a_connection_that_sends_nothing_is_closed(address):
    with socket.create_connection(address) as connection:
        started = time.monotonic()
        closed, _ = _closed_within(connection, 5)
    assert closed and time.monotonic() - started < 3


def test_headers_trickled_a_byte_at_a_time_are_cut_off_at_the_deadline(address):
    with socket.create_connection(address) as connection:
        started = time.monotonic()
        try:
            for byte in REQUEST:  # 0.1 s a byte: each byte is in time, the headers never are
                connection.sendall(bytes([byte]))
                time.sleep(0.1)
        except OSError:  # closed by the server while we were still sending
            pass
        closed, received = _closed_within(connection, 5)
    assert closed and received == b"" and time.monotonic() - started < 4


def test_a_body_that_trickles_is_answered_408_in_one_line(address):
    with socket.create_connection(address) as connection:
        connection.sendall(REQUEST + b"Content-Length: 100\r\n\r\n" + b'{"text": "Zebediah')
        closed, received = _closed_within(connection, 5)
    head, _, body = received.partition(b"\r\n\r\n")
    assert closed and head.startswith(b"HTTP/1.1 408")
    detail = json.loads(body)["detail"]
    assert detail == "the request body took over 0.5 s to arrive (serve.body_timeout_seconds)"
    assert b"Zebediah" not in received


def test_a_kept_alive_connection_idle_or_slow_with_its_next_request_is_closed(address):
    body = json.dumps({"text": "He explains every decision."}).encode()
    whole = REQUEST + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    for next_request in (b"", REQUEST[:10]):  # idle after an answer (keep-alive); the next headers never ending
        with socket.create_connection(address) as connection:
            connection.sendall(whole)
            assert _one_answer(connection).startswith(b"HTTP/1.1 200")
            started = time.monotonic()
            connection.sendall(next_request)
            closed, received = _closed_within(connection, 5)
        assert closed and received == b"" and time.monotonic() - started < 3


def test_headers_growing_over_the_limit_are_400(address):
    # h11 counts what it holds of unfinished headers (headers that arrive whole in one read are parsed at once)
    with socket.create_connection(address) as connection:
        connection.sendall(REQUEST + b"X-Padding: " + b"a" * 8_000)
        closed, received = _closed_within(connection, 5)
    assert closed and received.startswith(b"HTTP/1.1 400")
