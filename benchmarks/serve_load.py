"""Load on `behaviours serve` from many clients at once: latency of short answers and long notes, errors, memory.

    .venv/bin/python benchmarks/serve_load.py [--seconds 120] [--clients 50] [--model models/default]

Starts `behaviours serve` itself (the real command, its own process, with the model
given) on 127.0.0.1 on a free port, waits until /health answers, then runs `--clients`
clients at once for `--seconds`, each sending one request after another to
`POST /v1/tag` over a kept-alive connection: about 80% short answers (5–40 words) and
20% long notes (300–900 words), invented here from a fixed seed (no labelled data is
read). Prints p50/p99 latency for short and long separately, the errors (any answer
but 200, and failed connections) by kind, requests per second, and the server's peak
resident memory (sampled every 0.2 s, with any worker processes). Only loopback; every
loop is bounded in time; the server is stopped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score_speed import machine  # noqa: E402  (the same machine line as the other benchmarks)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
READY_SECONDS = 600  # loading the model and spaCy on a busy machine
REQUEST_SECONDS = 120  # one request's timeout: a stuck server is an error, not a hang
SHORT_WORDS, LONG_WORDS, LONG_SHARE = (5, 40), (300, 900), 0.2

OPENINGS = ["My manager", "Our ward sister", "The team leader", "She", "He", "The matron", "Our consultant", "Nobody"]
ACTIONS = [
    "always explains the reasons behind rota changes",
    "listens when we raise concerns about staffing",
    "never asks us what we think before deciding",
    "shares the credit with the whole team",
    "works with the community teams to plan discharges",
    "makes time for each of us in supervision",
    "keeps the patients at the centre of every decision",
    "changes plans without telling anyone",
    "encourages us to try new ways of working",
    "admits mistakes openly and learns from them",
]
ENDINGS = ["", " every week", " on the night shift", " even when we are short staffed", " across the whole directorate"]


def invented_text(rng: random.Random, words: int) -> str:
    """Sentences made from the lists above until the text has about `words` words, cut to exactly that many."""
    sentences, count = [], 0
    while count < words:
        sentence = f"{rng.choice(OPENINGS)} {rng.choice(ACTIONS)}{rng.choice(ENDINGS)}."
        sentences.append(sentence)
        count += len(sentence.split())
    text = " ".join(" ".join(sentences).split()[:words])
    return text if text.endswith(".") else text + "."


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(model: Path, params: Path | None, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "pipeline.cli", "serve", "--model", str(model), "--host", HOST, "--port", str(port)]
    if params is not None:
        command += ["--params", str(params)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_until_ready(server: subprocess.Popen, port: int) -> float:
    started = time.monotonic()
    while time.monotonic() - started < READY_SECONDS:
        if server.poll() is not None:
            raise SystemExit(f"the server stopped before it was ready: {server.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server was not ready after {READY_SECONDS} s")


class PeakMemory(threading.Thread):
    """The largest resident set of the server and its child processes, sampled until `stop` is set."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.stop = psutil.Process(pid), 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                processes = [self.process, *self.process.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in processes))
            except psutil.Error:
                return  # the server has gone
            self.stop.wait(0.2)


def client(port: int, seed: int, deadline: float, timings: list, errors: Counter, lock: threading.Lock) -> None:
    """One client: requests one after another until `deadline`; (kind, seconds) of each 200 into `timings`."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_SECONDS)
    while time.monotonic() < deadline:
        kind = "long" if rng.random() < LONG_SHARE else "short"
        text = invented_text(rng, rng.randint(*(LONG_WORDS if kind == "long" else SHORT_WORDS)))
        body = json.dumps({"text": text}).encode()
        started = time.perf_counter()
        try:
            connection.request("POST", "/v1/tag", body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            outcome = answer.status
            if answer.getheader("Retry-After") and answer.status == 503:
                time.sleep(min(float(answer.getheader("Retry-After")), max(0.0, deadline - time.monotonic())))
        except (OSError, http.client.HTTPException) as exc:
            outcome = exc.__class__.__name__
            connection.close()
            connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_SECONDS)
        seconds = time.perf_counter() - started
        with lock:
            if outcome == 200:
                timings.append((kind, seconds))
            else:
                errors[f"{outcome} ({kind})"] += 1
    connection.close()


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default")
    parser.add_argument("--params", type=Path, default=None, help="a params file for the server (default: the project's)")
    args = parser.parse_args()
    if not 0 < args.seconds <= 3600 or not 0 < args.clients <= 500:
        raise SystemExit("--seconds must be in (0, 3600] and --clients in (0, 500]")

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} before (other work shares the cores)")
    port = free_port()
    server = start_server(args.model.resolve(), args.params, port)
    try:
        ready = wait_until_ready(server, port)
        print(f"server: behaviours serve --model {args.model}, pid {server.pid}, {HOST}:{port}, ready in {ready:.1f} s")
        memory = PeakMemory(server.pid)
        memory.start()
        timings, errors, lock = [], Counter(), threading.Lock()
        started = time.monotonic()
        deadline = started + args.seconds
        clients = [
            threading.Thread(target=client, args=(port, seed, deadline, timings, errors, lock), daemon=True)
            for seed in range(args.clients)
        ]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=args.seconds + REQUEST_SECONDS + 10)
        elapsed = time.monotonic() - started
        memory.stop.set()
        memory.join(timeout=5)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)

    answered = len(timings)
    print(f"load: {args.clients} clients for {elapsed:.0f} s; {answered + sum(errors.values()):,} requests, "
          f"{answered / elapsed:.1f} answered per second")
    for kind, words in (("short", SHORT_WORDS), ("long", LONG_WORDS)):
        seconds = [s for k, s in timings if k == kind]
        figures = f"p50 {percentile(seconds, 0.5):.2f} s, p99 {percentile(seconds, 0.99):.2f} s" if seconds else "none answered"
        print(f"{kind} ({words[0]}-{words[1]} words): {len(seconds):,} answered; {figures}")
    print(f"errors: {sum(errors.values()):,}" + (f" ({', '.join(f'{k}: {n}' for k, n in errors.most_common())})" if errors else ""))
    print(f"server peak RSS: {memory.peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
