# Two commands work on a fresh machine: `make demo` and `make test`.
# Each creates .venv and installs the project first (torch's CPU build before the rest,
# so that pip never pulls the multi-GB CUDA build).

VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
MODEL   := models/default
EXAMPLE := examples/exit_survey_export_cp1252.csv
SCORED  := out/exit_survey_scored.csv
REPORT  := out/exit_survey_report.html

.DEFAULT_GOAL := help
.PHONY: help install demo serve test test-fast repro

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project (CPU-only torch)

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

test: $(STAMP) ## Run the whole test suite (unit, data, and integration with the real encoder)
	$(PY) -m pytest

test-fast: $(STAMP) ## Run only the fast tests (stand-in encoder, no MiniLM)
	$(PY) -m pytest -m "not integration"

repro: $(STAMP) ## Rerun the DVC pipeline (validate → embed → train → evaluate); only what changed
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/dvc repro
