"""`behaviours serve`: a web page and a JSON API for tagging notes, on this machine only.

    GET  /             the page (pipeline/web/page.html: one file, no assets fetched from anywhere)
    GET  /health       liveness and which model is loaded
    GET  /v1/behaviours  the taxonomy: ids, names, themes, theme colours, descriptions
    POST /v1/tag       {"text": "..."} → one result
    POST /v1/score     {"texts": ["...", ...]} → one result per text, in order
    POST /v1/upload    a .txt / .docx note (one result) or a .csv of answers (one result per row)

The model is loaded once, before the app is built. Limits come from the `serve`
section of configs/params.yaml: a text longer than `max_text_chars`, more than
`max_batch` texts, or a request body over `max_request_bytes` is answered 413;
malformed JSON or a wrong field 422; both with a one-line `detail`. No request
text is ever logged, and error answers never echo it back.

Each evidence sentence carries `start`/`end`: where it is in the text as sent, so a
page can highlight it without splitting the text again.
"""

from __future__ import annotations

import io
import re
from importlib.resources import files
from pathlib import PurePath

import pandas as pd
from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field

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
    polarity: dict[str, float] = Field(description="For each behaviour found, P(strength); `+` at 0.5 or more.")
    evidence: list[Evidence]
    message: str = Field(description="A plain sentence saying what was found.")


class ScoreResponse(BaseModel):
    results: list[TagResponse]


class UploadResponse(BaseModel):
    kind: str = Field(description="`note` (.txt, .docx: one text) or `table` (.csv: one text per row).")
    filename: str
    text: str | None = Field(description="The note's text (notes only), which evidence offsets point into.")
    column: str | None = Field(description="The CSV column that was tagged (tables only).")
    texts: list[str] | None = Field(description="The CSV column's texts, one per result (tables only).")
    results: list[TagResponse]


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
        polarity=result.polarity,
        evidence=evidence,
        message=_message(result, taxonomy),
    )


def note_text(filename: str, content: bytes) -> str:
    """The text of an uploaded .txt (UTF-8, or Windows-1252 as exported by older tools) or .docx."""
    if PurePath(filename).suffix.lower() == ".docx":
        import docx  # python-docx: only when a .docx arrives

        try:
            document = docx.Document(io.BytesIO(content))
        except Exception:  # python-docx raises several kinds for a file that is not a Word document
            raise HTTPException(422, f"{filename}: not a readable .docx file") from None
        return "\n".join(paragraph.text for paragraph in document.paragraphs)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise HTTPException(422, f"{filename}: not UTF-8 or Windows-1252 text")


def table_texts(filename: str, content: bytes, column: str | None) -> tuple[str, list[str]]:
    """(column, texts) of an uploaded CSV: the named column, else `text`, else the column with the longest answers."""
    frame = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False, encoding=encoding, sep=None,
                                engine="python")
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            raise HTTPException(422, f"{filename}: cannot read as CSV ({reason})") from None
    if frame is None:
        raise HTTPException(422, f"{filename}: not UTF-8 or Windows-1252 text")
    if frame.empty or not len(frame.columns):
        raise HTTPException(422, f"{filename}: no rows")
    if column is None:
        column = "text" if "text" in frame.columns else max(frame.columns, key=lambda c: frame[c].str.len().mean())
    elif column not in frame.columns:
        raise HTTPException(422, f"{filename}: no column {column!r}; columns are: {', '.join(map(str, frame.columns))}")
    return str(column), frame[column].tolist()


class BodyLimit:
    """ASGI middleware: a request body over `limit` bytes is answered 413 before it is all read."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope, receive, send):
        detail = f"request body over {self.limit:,} bytes (serve.max_request_bytes)"
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(tagger: Tagger, taxonomy: Taxonomy, params: ServeParams) -> FastAPI:
    """The web app around an already loaded tagger."""
    app = FastAPI(
        title="System Leadership Behaviours tagger",
        description="Tags free text with the thirteen behaviours of the System Leadership Behaviours Framework, "
        "with the sentences that are the evidence and whether each shows a strength or a gap. Runs locally.",
        version="1",
    )
    app.add_middleware(BodyLimit, limit=params.max_request_bytes)
    page = files("pipeline").joinpath("web", "page.html").read_text(encoding="utf-8")

    def check_sizes(texts: list[str | None]) -> None:
        if len(texts) > params.max_batch:
            raise HTTPException(413, f"{len(texts):,} texts; at most {params.max_batch:,} per request (serve.max_batch)")
        for i, text in enumerate(texts):
            if text is not None and len(text) > params.max_text_chars:
                where = f"text {i + 1}" if len(texts) > 1 else "the text"
                raise HTTPException(
                    413, f"{where} is {len(text):,} characters; the limit is {params.max_text_chars:,} (serve.max_text_chars)"
                )

    def tag(texts: list[str | None]) -> list[TagResponse]:
        check_sizes(texts)
        return [response(text, result, taxonomy) for text, result in zip(texts, tagger.tag(texts))]

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One line, never the submitted text (FastAPI's default answer echoes the input back).
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "body"
        reason = "malformed JSON" if first.get("type") == "json_invalid" else first.get("msg", "invalid request")
        return JSONResponse({"detail": f"{where}: {reason}"}, status_code=422)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return page

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": tagger.model.card.get("name"), "created_at": tagger.model.card.get("created_at")}

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
    def tag_one(request: TagRequest) -> TagResponse:
        return tag([request.text])[0]

    @app.post("/v1/score", response_model=ScoreResponse)
    def score(request: ScoreRequest) -> ScoreResponse:
        return ScoreResponse(results=tag(request.texts))

    @app.post("/v1/upload", response_model=UploadResponse)
    async def upload(file: UploadFile = File(...), column: str | None = Form(None)) -> UploadResponse:
        name = file.filename or "upload"
        suffix = PurePath(name).suffix.lower()
        if suffix not in NOTE_TYPES + TABLE_TYPES:
            raise HTTPException(415, f"{name}: upload a {', '.join(NOTE_TYPES + TABLE_TYPES)} file")
        content = await file.read()
        if suffix in NOTE_TYPES:
            text = note_text(name, content)
            return UploadResponse(kind="note", filename=name, text=text, column=None, texts=None, results=tag([text]))
        column, texts = table_texts(name, content, column or None)
        return UploadResponse(kind="table", filename=name, text=None, column=column, texts=texts, results=tag(texts))

    return app
