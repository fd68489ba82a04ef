# Two commands for a new user:  `make demo` (the main job) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup demo test lint clean readme bench bench-smoke

# One virtualenv with the taps (editable), the dev tools and Meltano.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' 'meltano==4.4.1'
	touch $(STAMP)

setup: $(STAMP)
	@mkdir -p output  # the DuckDB warehouse's folder: target-duckdb does not create it

# Start every sandbox, `meltano run` each tap into DuckDB, print rows per table, build the
# engagement model (dbt-duckdb) and write output/engagement_report.html.
demo: setup
	$(BIN)/python scripts/demo.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .venv-snowflake .meltano .meltano-state output .pytest_cache .mypy_cache .ruff_cache

# Regenerate the settings tables in README.md from each tap's --about output.
readme: setup
	$(BIN)/python scripts/readme_settings.py

# Benchmarks (not part of `make test`); results are recorded in bench/RESULTS.md.
bench: setup
	$(BIN)/python bench/compare_generic.py
	$(BIN)/python bench/concurrency.py
	$(BIN)/python bench/cast_requests.py
	$(BIN)/python bench/webcasts_memory.py --formats xml csv json
	$(BIN)/python bench/rev_memory.py
	$(BIN)/python bench/rev_runs.py
	$(BIN)/python bench/sandbox_speed.py
	$(BIN)/python bench/same_output.py --only cast
	$(BIN)/python bench/engagement_scale.py

# The same benchmarks at a size CI can afford: they must run and their checks must hold.
bench-smoke: setup
	$(BIN)/python bench/compare_generic.py --smoke
	$(BIN)/python bench/concurrency.py --smoke --latency-ms 20
	$(BIN)/python bench/cast_requests.py --campaigns 3 --events 450
	$(BIN)/python bench/webcasts_memory.py --sizes 2000 --formats xml csv json
	$(BIN)/python bench/rev_memory.py --sessions 3000
	$(BIN)/python bench/rev_runs.py --smoke
	# tap-rev-webcast (registrations, incremental state) and tap-webcasts (expired events
	# skipped) changed their output on purpose since the redesign; the identity of all
	# three at the redesign is recorded in bench/RESULTS.md.
	$(BIN)/python bench/same_output.py --smoke --only cast
	$(BIN)/python bench/engagement_scale.py --smoke
