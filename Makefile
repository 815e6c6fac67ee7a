# Set-up and common jobs. Each target creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-fast bench clean

$(BIN)/depthforge: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	@touch $@

demo: $(BIN)/depthforge  ## both demos on the CPU (synthetic data -> training -> baselines) -> demo_runs/report.html
	$(BIN)/depthforge demo --out demo_runs

test: $(BIN)/depthforge  ## the whole suite, slow tests included (what CI runs; ~19 min on 2 cores)
	$(BIN)/pytest -q -p no:cacheprovider -m "slow or not slow"

test-fast: $(BIN)/depthforge  ## skip the slow tests (kill -9 resume, multi-process, full pipelines)
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(BIN)/depthforge
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) demo_runs runs training_logs
