"""A run's partial folder (a manifest and one Parquet file per finished chunk), its fingerprints, progress lines."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import __version__
from pipeline.batch.chunks import ScoreOptions
from pipeline.errors import InputError, WriteError
from pipeline.io.files import atomic_path, atomic_write_text

MANIFEST = "manifest.json"


def run_fingerprint(input_file: Path, options: ScoreOptions, model_dir: Path) -> dict[str, str]:
    """Digests of what decides a run's results: the input file's bytes, the options (and code version), the model."""
    with open(input_file, "rb") as handle:
        source = hashlib.file_digest(handle, "sha256").hexdigest()
    settings = json.dumps({"version": __version__, **dataclasses.asdict(options)}, sort_keys=True)
    model = hashlib.sha256()
    for path in sorted(p for p in Path(model_dir).iterdir() if p.is_file()):
        model.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            model.update(hashlib.file_digest(handle, "sha256").digest())
    return {"input file": source, "options": hashlib.sha256(settings.encode()).hexdigest(), "model": model.hexdigest()}


def partial_folder(output: Path) -> Path:
    """Where an unfinished run keeps its chunks: `.<output name>.partial/` next to the output."""
    output = Path(output)
    return output.parent / f".{output.name}.partial"


class PartialRun:
    """The partial folder of one output: a manifest and one Parquet file per finished chunk."""

    def __init__(self, output: Path) -> None:
        self.folder = partial_folder(output)

    def _chunk(self, index: int) -> Path:
        return self.folder / f"chunk-{index:06d}.parquet"

    def open(self, fingerprint: dict[str, str], resume: bool) -> set[int]:
        """Start a run, or continue the interrupted one (`resume`); the indices of chunks already finished."""
        if not self.folder.exists():
            self.folder.mkdir()
            atomic_write_text(self.folder / MANIFEST, json.dumps(fingerprint, indent=2) + "\n")
            return set()
        if not resume:
            raise InputError(
                f"{self.folder} holds an interrupted run: pass --resume to continue it, or delete the folder to start again"
            )
        try:
            manifest = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"{self.folder}: no readable {MANIFEST}; delete the folder to start again") from None
        changed = [what for what, digest in fingerprint.items() if manifest.get(what) != digest]
        if changed:
            raise InputError(
                f"cannot resume: the {' and '.join(changed)} changed since the interrupted run; "
                f"delete {self.folder} to start again"
            )
        for stale in self.folder.glob(".*.tmp"):  # a chunk being written when the process was killed
            stale.unlink()
        return {int(p.stem.split("-")[1]) for p in self.folder.glob("chunk-*.parquet")}

    def save(self, index: int, frame: pd.DataFrame) -> None:
        with atomic_path(self._chunk(index)) as tmp:
            frame.to_parquet(tmp, index=False)

    def save_counts(self, index: int, counts: Counter) -> None:
        """Counts kept beside a chunk (identifiers redacted), written before the chunk itself."""
        atomic_write_text(self.folder / f"chunk-{index:06d}.counts.json", json.dumps(dict(counts)) + "\n")

    def counts(self, index: int) -> Counter:
        try:
            return Counter(json.loads((self.folder / f"chunk-{index:06d}.counts.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            return Counter()

    def tables(self, count: int, schema: pa.Schema, each: Callable[[pa.Table], None]) -> Iterator[pa.Table]:
        for index in range(count):
            table = pq.read_table(self._chunk(index)).cast(schema)
            each(table)
            yield table

    def schema(self, count: int) -> pa.Schema:
        """One schema for all chunks (a column that is all missing in one chunk takes its type from the others)."""
        schemas = [pq.read_schema(self._chunk(index)).remove_metadata() for index in range(count)]
        unified = pa.unify_schemas(schemas, promote_options="permissive")
        return pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in unified])

    def remove(self) -> None:
        shutil.rmtree(self.folder)

    def finished_chunks(self) -> int:
        return sum(1 for _ in self.folder.glob("chunk-*.parquet")) if self.folder.exists() else 0

    @contextmanager
    def kept_only_for_resume(self) -> Iterator[None]:
        """Around scoring: the folder stays only when it holds chunks a `--resume` could use.

        An `InputError` (the input cannot be scored as it is; fixing it changes its
        fingerprint, so nothing could resume) removes it; an interruption (Ctrl-C,
        SIGTERM) or a `WriteError` (no space, no permission) removes it if no chunk is
        finished yet, and otherwise keeps it and says so in the error.
        """
        try:
            yield
        except WriteError as exc:
            if not self.finished_chunks():
                self.remove()
                raise
            raise WriteError(f"{exc}; the scored chunks are kept in {self.folder}: rerun with --resume") from None
        except InputError:
            self.remove()
            raise
        except KeyboardInterrupt:
            if not self.finished_chunks():
                self.remove()
            raise


class ProgressLines:
    """Plain progress for logs and pipes: a line every `interval` seconds while rows come in, and one at the end."""

    def __init__(
        self,
        total: int | None,
        write: Callable[[str], None],
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.write, self.interval, self.clock = total, write, interval, clock
        self.rows = 0
        self.start = self.last = clock()

    def add(self, rows: int) -> None:
        self.rows += rows
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self.write(self._line(now))

    def finish(self) -> None:
        elapsed = max(self.clock() - self.start, 1e-9)
        self.write(f"scored {self.rows:,} rows in {elapsed:,.1f} s ({self.rows / elapsed:,.1f} rows/s)")

    def _line(self, now: float) -> str:
        rate = self.rows / max(now - self.start, 1e-9)
        if not self.total:
            return f"scored {self.rows:,} rows, {rate:,.1f} rows/s"
        left = max(self.total - self.rows, 0) / rate if rate else float("inf")
        return (
            f"scored {self.rows:,} of {self.total:,} rows ({min(self.rows / self.total, 1):.0%}), "
            f"{rate:,.1f} rows/s, about {_duration(left)} left"
        )


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "? min"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
