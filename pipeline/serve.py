"""`behaviours serve`: a web page and a JSON API for tagging notes, on this machine only.

    GET  /             the page (pipeline/web/page.html: one file, no assets fetched from anywhere)
    GET  /docs         the routes, as one offline page (FastAPI's Swagger UI and ReDoc load a CDN: off)
    GET  /openapi.json the OpenAPI document
    GET  /health       liveness and which model is loaded
    GET  /v1/behaviours  the taxonomy: ids, names, themes, theme colours, descriptions
    POST /v1/tag       {"text": "..."} → one result
    POST /v1/score     {"texts": ["...", ...]} → one result per text, in order
    POST /v1/upload    a .txt / .docx note (one result) or a .csv of answers (one result per row)

The model is loaded once, before the app is built. Limits come from the `serve`
section of configs/params.yaml: a text longer than `max_text_chars`, more than
`max_batch` texts, a request body over `max_request_bytes` (counted as it streams,
chunked or not) or a .docx that would unzip to more than `max_unzipped_bytes` is
answered 413; a body slower than `body_timeout_seconds` 408; malformed JSON, JSON
nested too deeply, a text that is not valid Unicode or a wrong field 422; every one
with a one-line `detail`. No request text is ever logged, and no answer echoes it
back: an upload's results come without the file's text.

Each evidence sentence carries `start`/`end`: where it is in the text as sent, so a
page can highlight it without splitting the text again.
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re
import zipfile
from importlib.resources import files
from pathlib import PurePath

import pandas as pd
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipeline.config import ServeParams
from pipeline.tagger import Tagger, TagResult
from pipeline.taxonomy import Taxonomy

NOTE_TYPES = (".txt", ".docx")
TABLE_TYPES = (".csv",)


class TagRequest(BaseModel):
    text: str = Field(description="The text to tag: a note, an appraisal, a survey answer.")


class ScoreRequest(BaseModel):
    texts: list[str | None] = Field(description="Texts to tag, in order; null or blank ones come back `empty`.")


class Evidence(BaseModel):
    behaviour: str
    sentence: str
    score: float = Field(description="How strongly this sentence shows the behaviour, 0–1 (tagged at 0.5).")
    polarity: str = Field(description="`+` the sentence shows it as a strength, `-` as lacking.")
    polarity_score: float = Field(description="P(strength) for this sentence.")
    start: int | None = Field(description="Character offset of the sentence in the text as sent (null if not found).")
    end: int | None


class TagResponse(BaseModel):
    status: str = Field(description="`ok`, or `empty` for a blank text.")
    behaviours: list[str] = Field(description="Behaviours found, highest score first; empty when none applies.")
    strengths: list[str]
    gaps: list[str]
    scores: dict[str, float] = Field(description="Every behaviour's score, 0–1; tagged at 0.5.")
    probabilities: dict[str, float] = Field(
        description="Every behaviour's probability that a careful reader would mark it (calibrated with learned aggregation)."
    )
    polarity: dict[str, float] = Field(description="For each behaviour found, P(strength); `+` at 0.5 or more.")
    evidence: list[Evidence]
    message: str = Field(description="A plain sentence saying what was found.")


class ScoreResponse(BaseModel):
    results: list[TagResponse]


class UploadResponse(BaseModel):
    """The file's results, never its text: evidence offsets point into the note as read from the file (a .txt
    decoded as UTF-8, else Windows-1252; a .docx's paragraphs joined by line breaks), a table's results are its
    rows in order."""

    kind: str = Field(description="`note` (.txt, .docx: one text) or `table` (.csv: one text per row).")
    filename: str
    column: str | None = Field(description="The CSV column that was tagged (tables only).")
    results: list[TagResponse] = Field(description="One result for a note; one per data row of a table, in order.")


SURROGATE = re.compile(r"[\ud800-\udfff]")  # half of a UTF-16 pair: JSON's "\\ud800" decodes to one, UTF-8 has none


def one_line(detail: str) -> str:
    """An error's detail on one line (a library's message can hold line breaks)."""
    return " ".join(detail.split())


def locate(text: str, sentence: str, start: int = 0) -> tuple[int, int] | None:
    """Where `sentence` (as the splitter returned it: white space folded) occurs in `text`."""
    words = sentence.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(map(re.escape, words)))
    match = pattern.search(text, start) or pattern.search(text)
    return (match.start(), match.end()) if match else None


def _message(result: TagResult, taxonomy: Taxonomy) -> str:
    if result.status == "empty":
        return "The text is empty: nothing to tag."
    if not result.behaviours:
        return "No behaviour from the framework found in this text."
    names = [taxonomy[b].name for b in result.behaviours]
    return f"{len(names)} behaviour{'s' if len(names) > 1 else ''} found: {', '.join(names)}."


def response(text: str | None, result: TagResult, taxonomy: Taxonomy) -> TagResponse:
    """The API's view of one result, with evidence located in the text as sent."""
    evidence = []
    for item in result.evidence:
        span = locate(text, item["sentence"]) if text else None
        evidence.append(Evidence(**item, start=span[0] if span else None, end=span[1] if span else None))
    return TagResponse(
        status=result.status,
        behaviours=result.behaviours,
        strengths=result.strengths,
        gaps=result.gaps,
        scores=result.scores,
        probabilities=result.probabilities,
        polarity=result.polarity,
        evidence=evidence,
        message=_message(result, taxonomy),
    )


def check_unzipped_size(filename: str, content: bytes, limit: int) -> None:
    """Refuse a .docx (a zip) whose parts would unzip to more than `limit` bytes, from its directory alone.

    zipfile never returns more than an entry's declared size (and fails its CRC check if the
    entry holds more), so the declared sizes bound what python-docx can expand in memory.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unzipped = sum(entry.file_size for entry in archive.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise HTTPException(422, f"{filename}: not a readable .docx file") from None
    if unzipped > limit:
        raise HTTPException(
            413, f"{filename}: would unzip to {unzipped:,} bytes; the limit is {limit:,} (serve.max_unzipped_bytes)"
        )


def note_text(filename: str, content: bytes, max_unzipped_bytes: int) -> str:
    """The text of an uploaded .txt (UTF-8, or Windows-1252 as exported by older tools) or .docx."""
    if PurePath(filename).suffix.lower() == ".docx":
        import docx  # python-docx: only when a .docx arrives

        check_unzipped_size(filename, content, max_unzipped_bytes)
        try:
            document = docx.Document(io.BytesIO(content))
        except Exception:  # python-docx raises several kinds for a file that is not a Word document
            raise HTTPException(422, f"{filename}: not a readable .docx file") from None
        return "\n".join(paragraph.text for paragraph in document.paragraphs)
    return decoded(filename, content)


def decoded(filename: str, content: bytes) -> str:
    """An uploaded text file's characters: UTF-8 (a byte-order mark dropped), else Windows-1252 as older tools export."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise HTTPException(422, f"{filename}: not UTF-8 or Windows-1252 text")


def table_texts(filename: str, content: bytes, column: str | None, max_columns: int) -> tuple[str, list[str]]:
    """(column, texts) of an uploaded CSV: the named column, else `text`, else the column with the longest answers."""
    text = decoded(filename, content)
    header = text.partition("\n")[0]
    most = 1 + max(header.count(delimiter) for delimiter in DELIMITERS)  # at least as many columns as the file has
    if most > max_columns:
        raise HTTPException(
            413, f"{filename}: up to {most:,} columns; at most {max_columns:,} are read (serve.max_upload_columns)"
        )
    try:
        delimiter = csv.Sniffer().sniff(text[:SNIFF_CHARS], delimiters=DELIMITERS).delimiter
    except csv.Error:
        delimiter = ","  # one column (pandas' own sniffing would split a lone `text` column at its letters)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=delimiter, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        reason = one_line(str(exc)) or exc.__class__.__name__
        raise HTTPException(422, f"{filename}: cannot read as CSV ({reason})") from None
    if frame.empty or not len(frame.columns):
        raise HTTPException(422, f"{filename}: no rows")
    if column is None:
        column = "text" if "text" in frame.columns else max(frame.columns, key=lambda c: frame[c].str.len().mean())
    elif column not in frame.columns:
        raise HTTPException(422, f"{filename}: no column {column!r}; {column_names(frame.columns)}")
    return str(column), frame[column].tolist()


DELIMITERS, SNIFF_CHARS = ",;\t|", 65_536
HEADING_CHARS, HEADING_WORDS = 32, 4  # a longer header cell may be an answer (a file without a header row): not shown
HEADINGS_SHOWN = 20


def column_names(columns) -> str:
    """The header row, for an error line: short headings only, so a file without a header row never has its first
    answers quoted, and at most the first 20 of them."""
    names = [" ".join(str(name).split()) for name in columns]
    shown = [name if len(name) <= HEADING_CHARS and len(name.split()) <= HEADING_WORDS
             else f"(column {i + 1}: a long heading, not shown)"
             for i, name in enumerate(names[:HEADINGS_SHOWN])]
    more = f" and {len(names) - HEADINGS_SHOWN:,} more" if len(names) > HEADINGS_SHOWN else ""
    return f"{len(names):,} column{'s' if len(names) != 1 else ''}: {', '.join(shown)}{more}"


def api_page(openapi: dict) -> str:
    """/docs: every route of the OpenAPI document with its summary and description, as one HTML page that fetches
    nothing (the full schema is /openapi.json)."""
    rows = []
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            cells = (method.upper(), path, operation.get("summary", ""), operation.get("description", ""))
            rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    info = openapi.get("info", {})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(info.get("title", "API"))}: routes</title>
<link rel="icon" href="data:,">
<style>body {{ font: 1rem/1.5 system-ui, sans-serif; max-width: 60rem; margin: 1rem auto; padding: 0 1rem; }}
td, th {{ text-align: left; vertical-align: top; padding: 0.3rem 0.5rem; border-bottom: 1px solid #b1b4b6; }}
td:nth-child(2) {{ font-family: monospace; white-space: nowrap; }}</style></head>
<body><h1>{html.escape(info.get("title", "API"))}</h1><p>{html.escape(info.get("description", ""))}</p>
<p>The full OpenAPI document, with every request and response schema: <a href="/openapi.json">/openapi.json</a>
(open it in any OpenAPI viewer). This page fetches nothing from outside this machine.</p>
<table><thead><tr><th>method</th><th>route</th><th>what</th><th>more</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>
"""


class WholeBody:
    """ASGI middleware: each request body is read whole before the app sees it, within limits.

    Over `limit` bytes is answered 413 as soon as it is known: from Content-Length, or while
    counting a chunked body as it streams (the rest is never read). A body that has not all
    arrived within `seconds` is answered 408, so a client trickling bytes cannot hold a
    connection open. FastAPI turns an exception raised while it reads the body into a 400,
    hence reading it here, before FastAPI.
    """

    def __init__(self, app, limit: int, seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.seconds = seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._too_large(scope, send)
        chunks, size, more = [], 0, True
        try:
            async with asyncio.timeout(self.seconds):
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None  # the client has gone: no one to answer
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.limit:
                        return await self._too_large(scope, send)
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            detail = f"the request body took over {self.seconds:g} s to arrive (serve.body_timeout_seconds)"
            return await _answer(scope, send, 408, detail)
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: only a disconnect is left to wait for
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope, send):
        await _answer(scope, send, 413, f"request body over {self.limit:,} bytes (serve.max_request_bytes)")


async def _answer(scope, send, status: int, detail: str) -> None:
    """A one-line JSON answer sent before the app has run; the connection is closed, as its body was not all read."""

    async def no_body():
        return {"type": "http.disconnect"}

    response = JSONResponse({"detail": detail}, status_code=status, headers={"Connection": "close"})
    await response(scope, no_body, send)


class Lane:
    """Requests through the model in turn, each turn tagging every request then waiting as one batch; past
    `max_waiting` waiting, 503 with Retry-After.

    The app has two: requests of at most `serve.short_request_chars` characters in all, and
    the rest. With one lane and a thread per request, 50 clients on 2 cores queued each short
    answer behind every long note (benchmarks/serve_load.py: p99 5.4 s for short answers,
    2.5 GB); two lanes alone still gave 5.1 s, as 40 short answers tagged one by one take
    longer than one batch of them. `work` maps a list of texts to a list of results.
    """

    def __init__(self, work, max_waiting: int, max_batch: int) -> None:
        self.work, self.max_waiting, self.max_batch = work, max_waiting, max_batch
        self.pending: list[tuple[list, asyncio.Future]] = []
        self.turn = asyncio.Lock()

    async def run(self, texts: list) -> list:
        if len(self.pending) >= self.max_waiting:
            detail = f"busy: {len(self.pending):,} requests are waiting (serve.max_waiting); try again shortly"
            raise HTTPException(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        answer = asyncio.get_running_loop().create_future()
        self.pending.append((texts, answer))
        async with self.turn:  # whoever has the turn tags what is waiting; a request already tagged just returns
            if not answer.done():
                batch = self._next_batch()
                try:
                    await self._tag(batch)
                finally:  # cancelled (its client gone): the others of its batch are told to retry, not left waiting
                    for _, other in batch:
                        if not other.done():
                            other.set_exception(HTTPException(503, "interrupted: try again", headers={"Retry-After": "1"}))
        return answer.result()

    def _next_batch(self) -> list[tuple[list, asyncio.Future]]:
        size, taken = 0, 0
        for texts, _ in self.pending:
            if taken and size + len(texts) > self.max_batch:
                break
            size, taken = size + len(texts), taken + 1
        batch, self.pending = self.pending[:taken], self.pending[taken:]
        return batch

    async def _tag(self, batch: list[tuple[list, asyncio.Future]]) -> None:
        try:
            results = await run_in_threadpool(self.work, [text for texts, _ in batch for text in texts])
        except Exception:
            if len(batch) == 1:
                batch[0][1].set_exception(HTTPException(500, "the text could not be tagged"))
                return
            for request in batch:  # one request's texts failed the batch: each alone, so only that one fails
                await self._tag([request])
            return
        at = 0
        for texts, answer in batch:
            answer.set_result(results[at : at + len(texts)])
            at += len(texts)


RETRY_AFTER_SECONDS = 1


def create_app(tagger: Tagger, taxonomy: Taxonomy, params: ServeParams) -> FastAPI:
    """The web app around an already loaded tagger."""
    app = FastAPI(
        title="System Leadership Behaviours tagger",
        description="Tags free text with the thirteen behaviours of the System Leadership Behaviours Framework, "
        "with the sentences that are the evidence and whether each shows a strength or a gap. Runs locally.",
        version="1",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: /docs below is one offline page
        redoc_url=None,
    )
    app.add_middleware(WholeBody, limit=params.max_request_bytes, seconds=params.body_timeout_seconds)
    page = files("pipeline").joinpath("web", "page.html").read_text(encoding="utf-8")

    def check_texts(texts: list[str | None]) -> None:
        if len(texts) > params.max_batch:
            raise HTTPException(413, f"{len(texts):,} texts; at most {params.max_batch:,} per request (serve.max_batch)")
        for i, text in enumerate(texts):
            where = f"text {i + 1}" if len(texts) > 1 else "the text"
            if text is not None and len(text) > params.max_text_chars:
                raise HTTPException(
                    413, f"{where} is {len(text):,} characters; the limit is {params.max_text_chars:,} (serve.max_text_chars)"
                )
            if text is not None and not text.isascii() and SURROGATE.search(text):
                raise HTTPException(422, f"{where} holds a lone surrogate (\\ud800-\\udfff escape): not valid Unicode")

    def tagged(texts: list[str | None]) -> list[TagResponse]:
        return [response(text, result, taxonomy) for text, result in zip(texts, tagger.tag(texts))]

    short_lane, long_lane = (Lane(tagged, params.max_waiting, params.max_batch) for _ in range(2))

    async def tag(texts: list[str | None]) -> list[TagResponse]:
        check_texts(texts)
        short = sum(len(text) for text in texts if text) <= params.short_request_chars
        return await (short_lane if short else long_lane).run(texts)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One line, never the submitted text (FastAPI's default answer echoes the input back).
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
        reason = "malformed JSON" if first.get("type") == "json_invalid" else first.get("msg", "invalid request")
        return JSONResponse({"detail": one_line(f"{where}: {reason}")}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException):
        # FastAPI answers 400 "There was an error parsing the body" to any exception json.loads raises but a
        # JSONDecodeError: too deep a nesting (RecursionError) and bytes that are not UTF-8 are the client's JSON.
        if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
            exc = HTTPException(422, "body: JSON nested too deeply")
        elif exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            exc = HTTPException(422, "body: JSON that is not UTF-8 text")
        elif isinstance(exc.detail, str):
            exc = HTTPException(exc.status_code, one_line(exc.detail), headers=exc.headers)
        return await http_exception_handler(request, exc)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs() -> str:
        return api_page(app.openapi())

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": tagger.card.get("name"), "created_at": tagger.card.get("created_at")}

    @app.get("/v1/behaviours")
    def behaviours() -> list[dict]:
        return [
            {
                "id": b.id,
                "name": b.name,
                "theme": b.theme.id,
                "theme_name": b.theme.name,
                "colour": b.theme.colour,
                "description": b.description,
            }
            for b in taxonomy.behaviours
        ]

    @app.post("/v1/tag", response_model=TagResponse)
    async def tag_one(request: TagRequest) -> TagResponse:
        return (await tag([request.text]))[0]

    @app.post("/v1/score", response_model=ScoreResponse)
    async def score(request: ScoreRequest) -> ScoreResponse:
        return ScoreResponse(results=await tag(request.texts))

    @app.post("/v1/upload", response_model=UploadResponse)
    async def upload(file: UploadFile = File(...), column: str | None = Form(None)) -> UploadResponse:
        name = file.filename or "upload"
        suffix = PurePath(name).suffix.lower()
        if suffix not in NOTE_TYPES + TABLE_TYPES:
            raise HTTPException(415, f"{name}: upload a {', '.join(NOTE_TYPES + TABLE_TYPES)} file")
        content = await file.read()
        if suffix in NOTE_TYPES:  # files are read in a thread: the event loop keeps answering
            text = await run_in_threadpool(note_text, name, content, params.max_unzipped_bytes)
            return UploadResponse(kind="note", filename=name, column=None, results=await tag([text]))
        column, texts = await run_in_threadpool(table_texts, name, content, column or None, params.max_upload_columns)
        return UploadResponse(kind="table", filename=name, column=column, results=await tag(texts))

    return app


def server(app: FastAPI, params: ServeParams, host: str, port: int):
    """A uvicorn server for `app` (`.run()` serves until Ctrl-C), with the limits it needs against slow clients.

    uvicorn's own: `keep_alive_seconds` (an idle connection between requests) and h11's
    `max_header_bytes`. uvicorn has no timeout for a request's headers (a client can open a
    connection and send a byte now and then for ever), so its h11 protocol is given one:
    `header_timeout_seconds` from the connection's opening, or from the first byte of each
    later request, to the end of the headers. The body's deadline is `WholeBody`'s.
    """
    import h11  # uvicorn's HTTP parser; like uvicorn, only `behaviours serve` needs it
    import uvicorn
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutH11(H11Protocol):
        header_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._time_headers()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._time_headers()

        def connection_lost(self, exc) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def _time_headers(self) -> None:
            waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
            if not waiting:
                self._stop_header_timer()
            elif self.header_timer is None and self.timeout_keep_alive_task is None:  # keep-alive's timer is first
                self.header_timer = self.loop.call_later(params.header_timeout_seconds, self._headers_too_slow)

        def _stop_header_timer(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _headers_too_slow(self) -> None:
            self.header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()  # no request to answer yet: closing is all HTTP allows

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        http=HeaderTimeoutH11,
        timeout_keep_alive=params.keep_alive_seconds,
        h11_max_incomplete_event_size=params.max_header_bytes,
    )
    return uvicorn.Server(config)

