"""Bad and awkward input to the API: a 4xx with one line, or a plain 200, never a 500 or an echo (issue 14).

Every request below carries the name "Zebediah" in its answer text. Each case asserts the
status, that an error's `detail` is one line, that no traceback is shown, and that the name
reaches neither the response (an error's or an upload's) nor any log record. Texts that
are odd but valid (right-to-left, emoji, zero-width only, NUL bytes) are tagged: 200.

Before issue 14's fixes: a lone surrogate was 500, an oversize chunked body 400, deeply
nested JSON 400, a 10^5-column CSV took 17 s, a .docx zip bomb was unzipped in memory,
and uploads echoed the file's text.
"""

from __future__ import annotations

import io
import logging
import zipfile

import pytest
from fastapi.testclient import TestClient

from pipeline.config import ServeParams
from pipeline.serve import create_app
from pipeline.tagger import Tagger

SECRET = "Zebediah"
ANSWER = f"{SECRET} explains the reasons behind every rota decision."
LIMITS = ServeParams(
    max_text_chars=2_000, max_batch=5, max_request_bytes=1_000_000, max_unzipped_bytes=2_000_000, max_upload_columns=2_000
)
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def client(trained, taxonomy, encoder, splitter):
    tagger = Tagger(trained[0], encoder=encoder, splitter=splitter)
    with TestClient(create_app(tagger, taxonomy, LIMITS), raise_server_exceptions=False) as client:
        yield client


def _json(route: str, body: bytes, headers: dict | None = None) -> dict:
    return {"method": "POST", "url": route, "content": body, "headers": JSON if headers is None else headers}


def _upload(name: str, content: bytes, column: str | None = None) -> dict:
    data = {"column": column} if column else None
    return {"method": "POST", "url": "/v1/upload", "files": {"file": (name, content, "application/octet-stream")}, "data": data}


def _chunks(size: int):
    yield b'{"text": "' + SECRET.encode()
    for _ in range(size // 10_000):
        yield b"x" * 10_000
    yield b'"}'


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _word_bomb() -> bytes:
    """A .docx-shaped zip of 30 KB whose document unzips to 30 MB (the limit here is 2 MB)."""
    return _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": SECRET.encode() + b"\0" * 30_000_000})


ERRORS = [
    # JSON that is not valid Unicode, too large or too deep
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah \\ud800 explains."}'), 422, id="lone-high-surrogate"),
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah \\udc00"}'), 422, id="lone-low-surrogate"),
    pytest.param(_json("/v1/score", b'{"texts": ["Fine.", "Zebediah \\ud83d"]}'), 422, id="surrogate-in-a-list"),
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah \xff\xfe"}'), 422, id="json-not-utf8"),
    pytest.param(_json("/v1/tag", _chunks(1_200_000)), 413, id="oversize-chunked-body"),
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah' + b"x" * 1_100_000 + b'"}'), 413, id="oversize-declared-body"),
    pytest.param(_json("/v1/tag", b"[" * 100_000), 422, id="nested-100000-brackets"),
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah", "x": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_000 + b"}"), 422,
                 id="nested-objects-beside-the-text"),
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah explains'), 422, id="unfinished-json"),
    pytest.param(_json("/v1/tag", b""), 422, id="empty-body"),
    # wrong content types
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah"}', {}), 422, id="no-content-type"),
    pytest.param(_json("/v1/tag", b'{"text": "Zebediah"}', {"Content-Type": "text/plain"}), 422, id="text-plain"),
    pytest.param(_json("/v1/tag", b"text=Zebediah", {"Content-Type": "application/x-www-form-urlencoded"}), 422,
                 id="form-encoded"),
    pytest.param(_json("/v1/upload", b'{"text": "Zebediah"}'), 422, id="json-to-the-upload-route"),
    pytest.param(_json("/v1/upload", b"--x\r\nZebediah", {"Content-Type": "multipart/form-data"}), 400,
                 id="multipart-without-boundary"),
    # JSON of the wrong shape
    pytest.param(_json("/v1/tag", b'["Zebediah"]'), 422, id="a-list-not-an-object"),
    pytest.param(_json("/v1/tag", b'"Zebediah"'), 422, id="a-string-not-an-object"),
    pytest.param(_json("/v1/tag", b"null"), 422, id="json-null"),
    pytest.param(_json("/v1/tag", b'{"text": null}'), 422, id="text-null"),
    pytest.param(_json("/v1/tag", b'{"text": 42}'), 422, id="text-a-number"),
    pytest.param(_json("/v1/tag", b'{"text": ["Zebediah"]}'), 422, id="text-a-list"),
    pytest.param(_json("/v1/tag", b'{"answer": "Zebediah"}'), 422, id="text-missing"),
    pytest.param(_json("/v1/score", b'{"texts": "Zebediah"}'), 422, id="texts-not-a-list"),
    pytest.param(_json("/v1/score", b'{"texts": {"a": "Zebediah"}}'), 422, id="texts-an-object"),
    pytest.param(_json("/v1/score", b'{"texts": ["Zebediah", 7]}'), 422, id="texts-holding-a-number"),
    # over the limits
    pytest.param(_json("/v1/score", ('{"texts": [' + ", ".join([f'"{ANSWER}"'] * 6) + "]}").encode()), 413,
                 id="texts-over-max-batch"),
    pytest.param(_json("/v1/tag", f'{{"text": "{ANSWER * 40}"}}'.encode()), 413, id="text-over-max-text-chars"),
    # wrong routes and methods
    pytest.param({"method": "GET", "url": "/v1/tag"}, 405, id="get-on-a-post-route"),
    pytest.param({"method": "PUT", "url": "/v1/score", "content": b'{"texts": ["Zebediah"]}'}, 405, id="put"),
    pytest.param(_json("/v2/tag", b'{"text": "Zebediah"}'), 404, id="unknown-route"),
    # uploads
    pytest.param(_upload("notes.pdf", b"%PDF-1.4 Zebediah"), 415, id="upload-wrong-extension"),
    pytest.param(_upload("notes", b"Zebediah"), 415, id="upload-no-extension"),
    pytest.param({"method": "POST", "url": "/v1/upload", "data": {"column": "Zebediah"}}, 422, id="upload-without-a-file"),
    pytest.param(_upload("answers.csv", b""), 422, id="upload-empty-csv"),
    pytest.param(_upload("answers.csv", b"text\n"), 422, id="upload-csv-header-only"),
    pytest.param(_upload("answers.csv", bytes(range(256)) * 8 + SECRET.encode()), 422, id="upload-binary-named-csv"),
    pytest.param(_upload("answers.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + SECRET.encode()), 422, id="upload-png-named-csv"),
    pytest.param(_upload("note.docx", b"PK\x03\x04 Zebediah, not a zip"), 422, id="upload-docx-not-a-zip"),
    pytest.param(_upload("note.docx", _zip({"note.txt": ANSWER.encode()})), 422, id="upload-zip-that-is-not-a-docx"),
    pytest.param(_upload("note.docx", _word_bomb()), 413, id="upload-docx-zip-bomb"),
    pytest.param(_upload("wide.csv", ",".join(f"c{i}" for i in range(100_000)).encode() + b"\nZebediah" + b",x" * 99_999),
                 413, id="upload-csv-100000-columns"),
    pytest.param(_upload("answers.csv", f"{ANSWER},4\nAnother answer from {SECRET},5\n".encode(), column="comment"), 422,
                 id="upload-csv-without-the-column"),
    pytest.param(_upload("answers.csv", ("text\n" + f"{ANSWER}\n" * 6).encode()), 413, id="upload-csv-over-max-batch"),
    pytest.param(_upload("note.txt", (ANSWER * 40).encode()), 413, id="upload-txt-over-max-text-chars"),
    pytest.param(_upload("note.txt", b"\x81\x8d\x8f Zebediah \x90\x9d"), 422, id="upload-txt-neither-utf8-nor-cp1252"),
]


@pytest.mark.parametrize(("request_kwargs", "status"), ERRORS)
def test_bad_input_is_one_line_4xx_without_echo(client, caplog, request_kwargs, status):
    with caplog.at_level(logging.DEBUG):
        answer = client.request(**request_kwargs)
    assert answer.status_code == status, answer.text
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and detail and "\n" not in detail and len(detail) < 300
    assert "Traceback" not in answer.text and 'File "' not in answer.text
    assert SECRET not in answer.text
    assert SECRET not in caplog.text


VALID = [
    pytest.param(f"{SECRET} يشرح أسباب كل قرار. {SECRET} מסביר כל החלטה.", "ok", id="right-to-left"),
    pytest.param(f"{SECRET} explains every rota decision 👍🏽🎉 and listens 🙂.", "ok", id="emoji"),
    pytest.param(f"{SECRET}\u202e explains the reasons\u202c behind every decision.", "ok", id="bidi-controls"),
    pytest.param(f"{SECRET}\0 explains the reasons\0 behind every decision.", "ok", id="nul-bytes-inside"),
    pytest.param("\u200b\u200c\u200d\ufeff\u2060", "empty", id="zero-width-only"),
    pytest.param("\0\0\0", "empty", id="nul-only"),
    pytest.param(f"{SECRET} " + "word " * 390, "ok", id="just-under-max-text-chars"),
]


@pytest.mark.parametrize(("text", "status"), VALID)
def test_odd_but_valid_text_is_tagged(client, caplog, text, status):
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/v1/tag", json={"text": text})
        batch = client.post("/v1/score", json={"texts": [text, None]})
    assert answer.status_code == 200 and batch.status_code == 200
    assert answer.json()["status"] == status
    assert [r["status"] for r in batch.json()["results"]] == [status, "empty"]
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("name", "content"),
    [("note.txt", f"{ANSWER}\n\nThe car park near {SECRET} is full.".encode()),
     ("answers.csv", f"text\n{ANSWER}\nThe car park near {SECRET} is full.\n".encode())],
)
def test_a_valid_upload_answers_without_its_text(client, caplog, name, content):
    """Only the evidence sentences come back (as for /v1/tag), never the rest of the file."""
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/v1/upload", files={"file": (name, content, "application/octet-stream")})
    assert answer.status_code == 200 and set(answer.json()) == {"kind", "filename", "column", "results"}
    assert "trust" in answer.json()["results"][0]["behaviours"]
    assert "car park" not in answer.text and SECRET not in caplog.text


def test_a_zip_bomb_is_refused_from_its_directory_without_unzipping(client, monkeypatch):
    import docx

    def unzip(*_):
        raise AssertionError("python-docx was asked to open the bomb")

    monkeypatch.setattr(docx, "Document", unzip)
    answer = client.post("/v1/upload", files={"file": ("note.docx", _word_bomb(), "application/octet-stream")})
    assert answer.status_code == 413
    assert answer.json()["detail"] == (
        "note.docx: would unzip to 30,000,016 bytes; the limit is 2,000,000 (serve.max_unzipped_bytes)"
    )
