# Set-up and common jobs. Each target creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test test-all bench clean

$(BIN)/depthforge: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	@touch $@

demo: $(BIN)/depthforge  ## synthetic KITTI -> train a small SemAttNet on the CPU -> compare with IP-Basic
	$(BIN)/depthforge demo --out demo_runs/semattnet

test: $(BIN)/depthforge  ## the fast suite (what CI runs)
	$(BIN)/pytest -q -p no:cacheprovider

test-all: $(BIN)/depthforge  ## everything, slow tests included
	$(BIN)/pytest -q -p no:cacheprovider -m "slow or not slow"

bench: $(BIN)/depthforge
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) demo_runs runs training_logs
