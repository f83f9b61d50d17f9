"""benchmarks/serve_load.py runs end to end and prints its figures: a few seconds, a few clients, the stand-in model."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from pipeline.config import PROJECT_ROOT


def test_the_load_test_starts_the_server_loads_it_and_stops_it(model_dir):
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    run = subprocess.run(
        [sys.executable, "benchmarks/serve_load.py", "--seconds", "3", "--clients", "4", "--model", str(model_dir)],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert re.search(r"^server: behaviours serve .* pid (\d+), 127\.0\.0\.1:\d+", out, re.M)
    for kind in ("short", "long"):
        assert re.search(rf"^{kind} \(\d+-\d+ words\): [\d,]+ answered; p50 [\d.]+ s, p99 [\d.]+ s$", out, re.M), out
    assert re.search(r"^load: 4 clients for \d+ s; [\d,]+ requests, [\d.]+ answered per second$", out, re.M), out
    assert "errors: 0" in out and re.search(r"^server peak RSS: [\d,]+ MiB$", out, re.M), out
    pid = int(re.search(r"pid (\d+)", out).group(1))
    assert not os.path.exists(f"/proc/{pid}"), "the server was left running"
