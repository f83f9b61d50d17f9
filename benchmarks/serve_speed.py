"""How long the API takes to tag a long note, against the bare encoder on the same sentences, in one run.

    .venv/bin/python benchmarks/serve_speed.py [--words 3000] [--repeats 5] [--model models/default]

Builds a note of about `--words` words from labelled texts (paragraphs of several
answers each, as a long coaching or appraisal note reads), starts the real app
under uvicorn on a free local port with the model loaded once, and times
`POST /v1/tag` over HTTP, as a client sees it: JSON in, sentence splitting,
encoding every sentence (nothing truncated), scoring, polarity, evidence located
in the text, JSON out. Beside it: bare `SentenceTransformer.encode` of the same
sentences, and of the whole note as one input (which silently truncates it at 256
word pieces: what "just encode it" would do). Prints the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score_speed import machine  # noqa: E402  (the same machine line as the other benchmark)

from pipeline.config import load_params  # noqa: E402
from pipeline.data.rows import labelled_files, load_labelled  # noqa: E402
from pipeline.model.folder import load_model  # noqa: E402
from pipeline.serve import create_app  # noqa: E402
from pipeline.tagger import Tagger, text_pieces  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def long_note(words: int, seed: int = 11) -> str:
    """Paragraphs of 3–6 labelled answers until the note has about `words` words."""
    pool = [r.text for r in load_labelled(labelled_files(ROOT / "labelled"), load_taxonomy()) if r.register != "brainstorm"]
    rng = random.Random(seed)
    paragraphs, count = [], 0
    while count < words:
        paragraph = " ".join(rng.choice(pool) for _ in range(rng.randint(3, 6)))
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    return "\n\n".join(paragraphs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    args = parser.parse_args()

    params, taxonomy = load_params(), load_taxonomy()
    started = time.perf_counter()
    tagger = Tagger(load_model(args.model, taxonomy.ids), max_evidence=params.score.max_evidence_per_behaviour)
    load_seconds = time.perf_counter() - started
    note = long_note(args.words)
    pieces = text_pieces([note], tagger.splitter, tagger.encoder)[0]
    print(f"machine: {machine()}")
    print(f"note: {len(note.split())} words, {len(note):,} characters, {len(pieces)} sentences; model loaded in {load_seconds:.1f} s")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(tagger, taxonomy, params.serve), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    body = json.dumps({"text": note}).encode()
    seconds, result = [], None
    for _ in range(args.repeats + 1):  # the first call warms up
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/tag", data=body, headers={"Content-Type": "application/json"}
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request) as answer:
            result = json.loads(answer.read())
        seconds.append(time.perf_counter() - start)
    server.should_exit = True
    seconds = seconds[1:]

    bare_model = tagger.encoder.model
    start = time.perf_counter()
    bare_model.encode(pieces, batch_size=tagger.encoder.batch_size, show_progress_bar=False)
    bare_sentences = time.perf_counter() - start
    start = time.perf_counter()
    bare_model.encode([note], show_progress_bar=False)
    bare_whole = time.perf_counter() - start

    print(f"POST /v1/tag over HTTP:          median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s "
          f"({args.repeats} calls after a warm-up)")
    print(f"bare encode of its {len(pieces)} sentences: {bare_sentences:.2f} s  "
          f"(API / bare = {statistics.median(seconds) / bare_sentences:.2f})")
    print(f"bare encode of the note as one input: {bare_whole:.2f} s (reads only its first 256 word pieces)")
    print(f"found: {', '.join(result['behaviours']) or 'nothing'}; strengths {len(result['strengths'])}, "
          f"gaps {len(result['gaps'])}; evidence sentences {len(result['evidence'])}")


if __name__ == "__main__":
    main()
