"""`behaviours score --engine spark`: the single-process run's chunk tagging, run by Spark's executors.

A run (`score_on_spark`), after `open_scoring` has checked the input, options and model
as for the single process:

1. The rows reach Spark numbered by their place in the input. A Parquet input is read by
   Spark's own reader (row numbers from `_metadata.row_index`). CSV, Excel and JSON Lines
   are read on the driver by the project's reader (`io.exports`: encodings, delimiters,
   title rows, merged headers, every cell as text), chunk by chunk, into a text-only
   Parquet file in the output's partial folder, which Spark then reads: Spark's CSV
   reader would read those messy exports differently. So would a Parquet file whose
   column names repeat or differ only in case, which is staged the same way.
2. Spark spreads the rows over at least one partition per core, each a range of row
   numbers, and hands them to `tag_batches` with `mapInArrow`. Each Python worker loads
   the model once; each Arrow batch of `score.chunk_size` rows becomes text as the
   Parquet reader makes it (`io.exports.arrow_text_rows`) and is tagged by
   `batch.chunks.score_chunk`, the function the single process calls, then redacted by
   `redact_scored` with `--redact`. Inside Spark the columns are named by position, so
   names Spark would refuse or fold together are kept.
3. Spark writes the scored partitions, each sorted by row number, as Parquet into the
   partial folder; the driver reads them in partition order and streams them through
   `io.files.write_chunks` into the output (atomic; formulas neutralised as always) and
   removes the partial folder. A Spark run cannot be resumed: on any failure the
   partial folder is removed.

Spark's own logging is off (an executor's error can quote the data); a failed job is
one line: the `InputError` an executor raised, or only the kind of failure.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import sys
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.batch.chunks import ResultCache, ScoreOptions, output_columns, score_chunk
from pipeline.batch.redaction import redact_scored
from pipeline.batch.scoring import BatchResult, ScoreSummary, ScoringRun, id_hashes, repeated_ids
from pipeline.config import Params, SparkParams
from pipeline.encoders.onnx import GRAPH_FILES, ONNX_FOLDER
from pipeline.errors import InputError
from pipeline.io.exports import Export, arrow_text_rows
from pipeline.io.files import write_chunks
from pipeline.model.backend import backend_model_dir
from pipeline.redact.redactor import Redactor
from pipeline.tagger import Tagger, TagResult, load_tagger, result_columns

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

ROW = "row"  # the input row number inside Spark (the other columns are c0, c1, ... by position)
STAGED = "input.parquet"  # in the partial folder: a CSV, Excel or JSON Lines input as text, with row numbers
SCORED = "scored"  # in the partial folder: Spark's output, one Parquet file per partition
PANDAS_WARNING = "PySpark does not yet fully support pandas"  # pandas 3: mapInArrow hands Arrow, not pandas, to us
LOG_CONFIG = Path(__file__).with_name("spark-log4j2.properties")  # Spark's logging off
INSTALL_PYSPARK = "pip install 'leadership-behaviours[spark]'"
INSTALL_JAVA = "install Java 17 (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"


def executor_backend(model_dir: Path | None, params: Params) -> str:
    """The encoder backend when `--backend` is not given: `spark.backend`, unless it is an ONNX backend that the
    model has not been exported for, then `backend.name`."""
    wanted = params.spark.backend
    if wanted not in GRAPH_FILES:
        return wanted
    folder = backend_model_dir(model_dir, wanted, params.backend)
    return wanted if (folder / ONNX_FOLDER / GRAPH_FILES[wanted]).is_file() else params.backend.name


def require_spark() -> None:
    """An `InputError` naming what to install when pyspark or Java is missing (checked before any work)."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", PANDAS_WARNING, FutureWarning)
            import pyspark.sql  # noqa: F401
    except ImportError:
        raise InputError(f"--engine spark needs pyspark: {INSTALL_PYSPARK}") from None
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").is_file()):
        raise InputError(f"--engine spark needs Java: {INSTALL_JAVA}")


def start_spark(master: str, settings: SparkParams, progress: bool = True) -> SparkSession:
    """A Spark session on `master` with Spark's logging off (and its stage progress bar on stderr if `progress`)."""
    require_spark()
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName("behaviours score")
        .config("spark.driver.memory", settings.driver_memory)
        .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}")
        .config("spark.executor.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", str(progress).lower())
        .config("spark.sql.session.timeZone", "UTC")
    )
    # The executors' Python, read by PySpark from the environment only: this one (its packages), unless set.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", PANDAS_WARNING, FutureWarning)
            spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start (wrong Java, no memory)
        raise InputError(f"Spark did not start ({_failure_kind(exc)}); Spark 4 needs Java 17 or 21: {INSTALL_JAVA}") from None
    spark.sparkContext.setLogLevel("OFF")
    return spark


@contextmanager
def spark_session(master: str, settings: SparkParams, progress: bool = True) -> Iterator[SparkSession]:
    """The Spark session already running in this process (a notebook's, a test's) left running, or a new one on
    `master`, stopped at the end."""
    require_spark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    spark = start_spark(master, settings, progress)
    try:
        yield spark
    finally:
        spark.stop()


@dataclass(frozen=True)
class ChunkJob:
    """What every executor needs to tag its rows (pickled to them with `tag_batches`)."""

    model_dir: str  # absolute: executors may run in another working directory
    params: Params
    ids: tuple[str, ...]
    options: ScoreOptions
    columns: tuple[str, ...]  # the input's column names, by position
    source: str  # the input file, named in an error

    def output_schema(self) -> pa.Schema:
        """Inside Spark: c0, c1, ... by position (input columns and result columns), then the row number."""
        results = output_columns(self.options, self.ids)
        types = [pa.string()] * len(self.columns) + [
            pa.float64() if name.split("__")[-1].startswith("score_") else pa.string() for name in results
        ]
        return pa.schema([(f"c{j}", kind) for j, kind in enumerate(types)] + [(ROW, pa.int64())])


_loaded: dict[str, object] = {}  # per Python worker: the tagger and redactor of the job it last ran


def _worker_tagger(job: ChunkJob) -> Tagger:
    key = repr((job.model_dir, job.params, job.options.backend))
    if _loaded.get("tagger key") != key:
        _loaded["tagger"] = load_tagger(Path(job.model_dir), job.params, job.ids, job.options.backend)
        _loaded["tagger key"] = key
    return _loaded["tagger"]


def _worker_redactor(job: ChunkJob) -> Redactor:
    key = repr(job.options.redact)
    if _loaded.get("redactor key") != key:
        _loaded["redactor"] = Redactor(job.options.redact)
        _loaded["redactor key"] = key
    return _loaded["redactor"]


def tag_batches(job: ChunkJob, tagged, redacted, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Executors' side of `mapInArrow`: each batch of input rows (c0..., row) as text, scored by `score_chunk`,
    redacted with `--redact`; `tagged` and `redacted` are Spark accumulators of the texts tagged and the
    identifiers replaced per kind."""
    tagger = _worker_tagger(job)
    cache = ResultCache(tagger, job.params.score.cache_size)
    redactor = _worker_redactor(job) if job.options.redact is not None else None
    schema = job.output_schema()
    for batch in batches:
        rows = batch.column(ROW)
        cells = batch.select([f"c{j}" for j in range(len(job.columns))])
        frame = pd.DataFrame(arrow_text_rows(cells, Path(job.source)), columns=list(job.columns), dtype=object)
        before = cache.tagged
        scored = score_chunk(frame, job.options, cache, job.ids)
        tagged.add(cache.tagged - before)
        if redactor is not None:
            scored, counts = redact_scored(scored, job.options, redactor)
            redacted.add(counts)
        arrays = [
            pa.array(scored.iloc[:, j], type=schema.field(j).type, from_pandas=True) for j in range(scored.shape[1])
        ]
        yield pa.RecordBatch.from_arrays([*arrays, rows], schema=schema)


def score_on_spark(
    scoring: ScoringRun, output: Path, params: Params, input_file: Path, master: str, progress: bool = True
) -> BatchResult:
    """Score every row of `scoring.export` with Spark on `master` (or the session already running) into `output`,
    as `score_export` does in one process; the partial folder is removed whatever happens."""
    try:
        with spark_session(master, params.spark, progress) as spark:
            return _score(spark, scoring, output, params, input_file)
    finally:
        if scoring.run.folder.exists():
            scoring.run.remove()


def _score(spark: SparkSession, scoring: ScoringRun, output: Path, params: Params, input_file: Path) -> BatchResult:
    """Steps 1-3 of the module docstring in `spark`."""
    from pyspark import AccumulatorParam
    from pyspark.sql.pandas.types import from_arrow_schema

    class CounterParam(AccumulatorParam):
        def zero(self, value: Counter) -> Counter:
            return Counter()

        def addInPlace(self, first: Counter, second: Counter) -> Counter:
            first.update(second)
            return first

    export, options, run = scoring.export, scoring.options, scoring.run
    ids = scoring.tagger.behaviours
    job = ChunkJob(str(Path(scoring.model_dir).resolve()), params, ids, options, export.columns, str(input_file))
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(options.chunk_size))
    tagged = spark.sparkContext.accumulator(0)
    redacted = spark.sparkContext.accumulator(Counter(), CounterParam())
    rows, frame = _input_frame(spark, export, run.folder)
    partitions = max(spark.sparkContext.defaultParallelism, math.ceil(rows / params.spark.rows_per_partition))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", PANDAS_WARNING, FutureWarning)
        scored = (
            frame.repartitionByRange(partitions, ROW)
            .mapInArrow(partial(tag_batches, job, tagged, redacted), from_arrow_schema(job.output_schema()))
            .sortWithinPartitions(ROW)
        )
    try:
        scored.write.parquet(str(run.folder / SCORED))
    except Exception as exc:
        raise _job_error(exc) from None
    summary = ScoreSummary(options.results(), ids)
    hashes: list = []

    def count(table: pa.Table) -> None:
        summary.add(table)
        if options.id_column is not None:
            hashes.append(id_hashes(table.column(options.id_column).to_pandas()))

    schema = _output_schema(export.columns, options, ids)
    write_chunks(_in_order(run.folder / SCORED, schema, options.chunk_size, count), schema, output, options.allow_formulas)
    return BatchResult(summary, tagged.value, repeated_ids(hashes), redacted.value if options.redact else None)


def _output_schema(columns: tuple[str, ...], options: ScoreOptions, ids: tuple[str, ...]) -> pa.Schema:
    """The output's columns and types: the input's as text, then each result column with the type pandas gives it
    in the single-process run (which writes `score_chunk`'s frames), so both engines write the same file."""
    example = TagResult(status="ok", scores={b: 0.5 for b in ids})
    types = pa.Schema.from_pandas(pd.DataFrame(result_columns([example], ids)), preserve_index=False)
    results = [(prefix + f.name, f.type) for _, prefix in options.results() for f in types]
    return pa.schema([(name, pa.string()) for name in columns] + results)


def _input_frame(spark: SparkSession, export: Export, folder: Path) -> tuple[int, DataFrame]:
    """(rows, the input as a Spark DataFrame of c0, c1, ... and the row number)."""
    from pyspark.sql import functions as F

    names = [f"c{j}" for j in range(len(export.columns))]
    if export.kind == ".parquet":
        raw = pq.ParquetFile(export.path).schema_arrow.names
        if list(raw) == list(export.columns) and len({name.lower() for name in raw}) == len(raw):
            frame = spark.read.parquet(str(export.path)).select("*", F.col("_metadata.row_index"))
            return export.rows or 0, frame.toDF(*names, ROW)  # renamed by position
    staged = folder / STAGED
    schema = pa.schema([(c, pa.string()) for c in names] + [(ROW, pa.int64())])
    rows = 0
    with pq.ParquetWriter(staged, schema) as writer:
        for chunk in export.chunks(10_000):
            table = pa.Table.from_arrays(
                [pa.array(chunk.iloc[:, j], type=pa.string()) for j in range(len(names))]
                + [pa.array(range(rows, rows + len(chunk)), type=pa.int64())],
                schema=schema,
            )
            writer.write_table(table)
            rows += len(chunk)
    return rows, spark.read.parquet(str(staged))


def _in_order(folder: Path, schema: pa.Schema, size: int, each: Callable[[pa.Table], None]) -> Iterator[pa.Table]:
    """Spark's part files in partition order (each a range of rows, sorted), as tables of the output's schema."""
    parts = sorted(folder.glob("part-*.parquet"), key=lambda p: int(re.match(r"part-(\d+)", p.name).group(1)))
    last = -1
    written = 0
    for part in parts:
        with pq.ParquetFile(part) as parquet:
            for batch in parquet.iter_batches(batch_size=size):
                numbers = batch.column(ROW).to_numpy()
                if len(numbers) and (numbers[0] <= last or (numbers[1:] <= numbers[:-1]).any()):
                    raise RuntimeError("Spark's output is not in row order")  # a bug, never the input's fault
                last = int(numbers[-1]) if len(numbers) else last
                table = pa.Table.from_arrays(batch.columns[:-1], names=schema.names).cast(schema)
                each(table)
                written += table.num_rows
                yield table
    if written == 0:  # no rows: the output still has its header
        yield schema.empty_table()


def _job_error(exc: Exception) -> InputError:
    """One line for a failed Spark job: the `InputError` an executor raised, else only the kind of failure."""
    found = re.findall(r"pipeline\.errors\.InputError: ([^\n]*)", str(exc))
    if found:
        return InputError(found[-1])
    return InputError(f"the Spark job failed ({_failure_kind(exc)})")


def _failure_kind(exc: Exception) -> str:
    """The exception's class, and the Python error an executor raised if there was one (never its message)."""
    errors = re.findall(r"^([A-Za-z_][\w.]*(?:Error|Exception)):", str(exc), flags=re.MULTILINE)
    return type(exc).__name__ + (f": {errors[-1]}" if errors else "")
