"""The web app's routes and limits, through FastAPI's TestClient, with the stand-in model."""

from __future__ import annotations

import asyncio
import io
import logging
import threading

import docx
import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from pipeline.config import ServeParams
from pipeline.serve import Lane, create_app, locate
from pipeline.tagger import Tagger

TRUST = "He explains the reasons behind every rota decision."
NOTE = f"The car parking is terrible.\n\n{TRUST}   Nobody ever explained why the ward was closing."
LIMITS = ServeParams(max_text_chars=2_000, max_batch=5, max_request_bytes=60_000, max_unzipped_bytes=2_000_000)


@pytest.fixture(scope="module")
def client(trained, taxonomy, encoder, splitter):
    tagger = Tagger(trained[0], encoder=encoder, splitter=splitter)
    with TestClient(create_app(tagger, taxonomy, LIMITS)) as client:
        yield client


def test_health_and_taxonomy(client, taxonomy):
    assert client.get("/health").json()["status"] == "ok"
    behaviours = client.get("/v1/behaviours").json()
    assert [b["id"] for b in behaviours] == list(taxonomy.ids)
    assert all(b["colour"].startswith("#") and b["theme_name"] and b["description"] for b in behaviours)


def test_tag_finds_evidence_and_locates_it_in_the_text_as_sent(client):
    body = client.post("/v1/tag", json={"text": NOTE}).json()
    assert body["status"] == "ok" and "trust" in body["behaviours"]
    assert sorted(body["strengths"] + body["gaps"]) == sorted(body["behaviours"])
    for item in body["evidence"]:
        assert NOTE[item["start"] : item["end"]].split() == item["sentence"].split()
        assert item["polarity"] in "+-"
    assert "found" in body["message"]


def test_tag_says_plainly_when_no_behaviour_applies(client):
    body = client.post("/v1/tag", json={"text": "The canteen closes too early and lockers are broken."}).json()
    assert body["behaviours"] == [] and body["evidence"] == []
    assert body["message"] == "No behaviour from the framework found in this text."


def test_score_keeps_order_and_marks_blank_texts_empty(client):
    results = client.post("/v1/score", json={"texts": [TRUST, "", None, "Lockers are broken."]}).json()["results"]
    assert [r["status"] for r in results] == ["ok", "empty", "empty", "ok"]
    assert "trust" in results[0]["behaviours"] and results[3]["behaviours"] == []


def test_too_long_a_text_is_413_with_the_limit_named(client):
    answer = client.post("/v1/tag", json={"text": "word " * 500})
    assert answer.status_code == 413
    assert answer.json()["detail"] == "the text is 2,500 characters; the limit is 2,000 (serve.max_text_chars)"
    answer = client.post("/v1/score", json={"texts": [TRUST, "word " * 500]})
    assert answer.status_code == 413 and answer.json()["detail"].startswith("text 2 is 2,500 characters")


def test_too_many_texts_is_413(client):
    answer = client.post("/v1/score", json={"texts": [TRUST] * 6})
    assert answer.status_code == 413
    assert answer.json()["detail"] == "6 texts; at most 5 per request (serve.max_batch)"


def test_too_large_a_body_is_413_before_it_is_parsed(client):
    answer = client.post("/v1/score", content=b'{"texts": ["' + b"x" * 70_000 + b'"]}',
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and "serve.max_request_bytes" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"text": "unfinished', "malformed JSON"),
        (b'{"txt": "secret words"}', "text: Field required"),
        (b'{"text": 42}', "text: Input should be a valid string"),
        (b'{"texts": "not a list"}', None),
    ],
)
def test_malformed_requests_are_422_with_one_line_and_no_echo(client, body, detail):
    route = "/v1/score" if b"texts" in body else "/v1/tag"
    answer = client.post(route, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    message = answer.json()["detail"]
    assert isinstance(message, str) and "\n" not in message
    assert detail is None or message.endswith(detail)
    assert "secret" not in answer.text and "not a list" not in answer.text


def test_upload_a_text_note_and_a_word_document(client):
    answer = client.post("/v1/upload", files={"file": ("note.txt", NOTE.encode("cp1252"), "text/plain")}).json()
    assert answer["kind"] == "note" and "trust" in answer["results"][0]["behaviours"]
    for item in answer["results"][0]["evidence"]:  # offsets into the file's text, which the page reads itself
        assert NOTE[item["start"] : item["end"]].split() == item["sentence"].split()

    document = docx.Document()
    for paragraph in NOTE.split("\n\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    answer = client.post("/v1/upload", files={"file": ("appraisal.docx", buffer.getvalue(), "application/octet-stream")})
    assert answer.status_code == 200
    result = answer.json()["results"][0]
    assert "trust" in result["behaviours"]
    assert all(item["start"] is not None for item in result["evidence"])


def test_upload_a_csv_scores_every_row_of_the_chosen_column(client):
    csv = f"id;comment;site\n1;{TRUST};A\n2;Lockers are broken.;B\n3;;C\n".encode()
    body = client.post("/v1/upload", files={"file": ("answers.csv", csv, "text/csv")}).json()
    assert body["kind"] == "table" and body["column"] == "comment"
    assert [r["status"] for r in body["results"]] == ["ok", "ok", "empty"]
    answer = client.post("/v1/upload", files={"file": ("answers.csv", csv, "text/csv")}, data={"column": "nope"})
    assert answer.status_code == 422
    assert answer.json()["detail"] == "answers.csv: no column 'nope'; 3 columns: id, comment, site"


def test_upload_answers_never_carry_the_uploaded_text(client):
    """Issue 14, finding 7: every /v1/upload response carried the file's `text`/`texts`."""
    csv = f"id,comment\n1,{TRUST}\n2,Lockers are broken.\n".encode()
    table = client.post("/v1/upload", files={"file": ("answers.csv", csv, "text/csv")}).json()
    note = client.post("/v1/upload", files={"file": ("note.txt", NOTE.encode(), "text/plain")}).json()
    for body in (table, note):
        assert set(body) == {"kind", "filename", "column", "results"}
        assert "Lockers are broken" not in str(body) and "car parking" not in str(body)


def test_a_missing_column_names_the_headings_and_never_quotes_a_row(client):
    """A file without a header row: its first answers are the "headings", so long ones are not shown."""
    secret = "Zebediah Quark never explains any of the decisions he makes about the rota"
    csv = f"{secret},4\nAnother answer entirely,5\n".encode()
    answer = client.post("/v1/upload", files={"file": ("answers.csv", csv, "text/csv")}, data={"column": "comment"})
    assert answer.status_code == 422
    assert answer.json()["detail"] == "answers.csv: no column 'comment'; 2 columns: (column 1: a long heading, not shown), 4"
    assert "Zebediah" not in answer.text and "Another" not in answer.text


def test_upload_limits_and_types(client):
    rows = "text\n" + "\n".join([TRUST] * 6) + "\n"
    answer = client.post("/v1/upload", files={"file": ("many.csv", rows.encode(), "text/csv")})
    assert answer.status_code == 413
    answer = client.post("/v1/upload", files={"file": ("slides.pdf", b"%PDF-1.4", "application/pdf")})
    assert answer.status_code == 415 and ".txt, .docx, .csv" in answer.json()["detail"]
    answer = client.post("/v1/upload", files={"file": ("broken.docx", b"not a zip", "application/octet-stream")})
    assert answer.status_code == 422 and answer.json()["detail"] == "broken.docx: not a readable .docx file"


def test_page_is_self_contained(client):
    page = client.get("/").text
    assert "<textarea" in page and 'id="tag"' in page
    assert "http://" not in page and "https://" not in page  # no asset fetched from anywhere


@pytest.mark.parametrize("route", ["/", "/docs", "/openapi.json", "/health", "/v1/behaviours", "/redoc", "/nowhere"])
def test_no_page_of_the_server_names_an_outside_address(client, route):
    """Issue 14, finding 7: /docs was FastAPI's Swagger UI, whose script and styles come from a CDN (blank offline)."""
    answer = client.get(route)
    assert answer.status_code in (200, 404)
    assert "http://" not in answer.text and "https://" not in answer.text


def test_docs_is_an_offline_page_of_every_route(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for route in ("/v1/tag", "/v1/score", "/v1/upload", "/v1/behaviours", "/health", 'href="/openapi.json"'):
        assert route in page.text
    assert "<script" not in page.text
    assert client.get("/redoc").status_code == 404


def test_openapi_document_lists_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/health", "/v1/behaviours", "/v1/tag", "/v1/score", "/v1/upload"} <= set(paths)


def test_no_request_text_reaches_the_logs(client, caplog):
    secret = "Zebediah Quark explains the reasons behind every rota decision."
    with caplog.at_level(logging.DEBUG):
        client.post("/v1/tag", json={"text": secret})
        client.post("/v1/tag", json={"text": secret * 100})  # refused: 413
        client.post("/v1/tag", content=b'{"text": "Zebediah', headers={"Content-Type": "application/json"})
    assert "Zebediah" not in caplog.text


def test_locate_matches_across_folded_white_space():
    text = "First line.\n\nHe  explains\tthe reasons. Then more."
    start, end = locate(text, "He explains the reasons.")
    assert text[start:end] == "He  explains\tthe reasons."
    assert locate(text, "not there at all") is None


def test_a_csv_of_one_text_column_is_read_as_one_column(client):
    """pandas' own delimiter sniffing split a lone `text` column at the letter "t" (found writing issue 14's suite)."""
    csv = f"text\n{TRUST}\nThe car park is full.\n".encode()
    body = client.post("/v1/upload", files={"file": ("answers.csv", csv, "text/csv")}).json()
    assert body["column"] == "text" and len(body["results"]) == 2
    assert "trust" in body["results"][0]["behaviours"]


def test_a_lane_tags_what_waits_as_one_batch_and_answers_503_past_its_queue():
    """Issue 14's load test: 50 clients, one thread each, put each short answer behind every long note (p99 5.4 s)."""
    release, running, calls = threading.Event(), [], []

    def work(texts):
        running.append(texts)
        assert len(running) == 1, "two batches in one lane at once"
        calls.append(list(texts))
        if texts == ["first"]:
            release.wait(5)
        running.pop()
        return [text.upper() for text in texts]

    async def scenario():
        lane = Lane(work, max_waiting=3, max_batch=3)
        first = asyncio.create_task(lane.run(["first"]))
        await asyncio.sleep(0.1)  # first is being tagged; the next ones wait for its turn to end
        waiting = [asyncio.create_task(lane.run(texts)) for texts in (["a", "b"], ["c"], ["d"])]
        await asyncio.sleep(0.1)
        with pytest.raises(HTTPException) as refused:
            await lane.run(["e"])
        release.set()
        return await first, [await task for task in waiting], refused.value

    first, answers, refused = asyncio.run(scenario())
    assert first == ["FIRST"] and answers == [["A", "B"], ["C"], ["D"]]
    assert calls == [["first"], ["a", "b", "c"], ["d"]]  # batches of at most max_batch texts, in arrival order
    assert refused.status_code == 503 and refused.headers == {"Retry-After": "1"}
    assert refused.detail == "busy: 3 requests are waiting (serve.max_waiting); try again shortly"


def test_a_batch_that_fails_is_tagged_request_by_request_so_only_the_bad_one_fails():
    def work(texts):
        if "bad" in texts:
            raise ValueError("the model fell over")
        return [len(text) for text in texts]

    async def scenario():
        lane = Lane(work, max_waiting=10, max_batch=10)
        hold = asyncio.create_task(lane.run(["hold"]))
        tasks = [asyncio.create_task(lane.run(texts)) for texts in (["ok"], ["bad"], ["fine"])]
        return [await hold] + list(await asyncio.gather(*tasks, return_exceptions=True))

    hold, ok, bad, fine = asyncio.run(scenario())
    assert (hold, ok, fine) == ([4], [2], [4])
    assert isinstance(bad, HTTPException) and bad.status_code == 500 and bad.detail == "the text could not be tagged"
