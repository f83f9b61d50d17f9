"""Scoring a whole export with bounded memory: chunk by chunk, kept on disk as it goes, resumable.

Each chunk of rows is tagged and written at once as one Parquet file in a partial
folder next to the output (`.<output name>.partial/`), with a manifest holding
fingerprints of the input file, the options and the model. Only when every chunk
is there are they streamed, one at a time, into the final file (written to a
temporary file and renamed), and the folder is removed. A run that is stopped
(Ctrl-C, a killed process, a full disk) leaves no output file and its finished
chunks; `resume=True` continues it without rescoring them, and refuses when the
input, options or model differ from the interrupted run's.

Identical answers are tagged once per run: within a chunk they are grouped, and
the results of the most recent distinct texts (`score.cache_size` in configs/params.yaml) are kept
across chunks, keyed by a digest of the normalised text (white space does not
make two answers different; the tagger normalises before splitting, so their
results are the same).

Memory does not grow with the number of rows: one chunk, the bounded cache, the
summary counts and, when an id column is checked for duplicates, 8 bytes per row.

With `--redact` (`ScoreOptions.redact`) each chunk is redacted as soon as it is
scored, before it is written to the partial folder, so no identifier reaches the
disk; see `pipeline.batch.redaction.redact_scored`.
"""
