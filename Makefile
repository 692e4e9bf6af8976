# Every target builds .venv itself, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench perf clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench,attacks,peers,dist,plots]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/wbstream play --problem 'sparse-recovery(n=2048, k=8, M=1024)' \
	    --algorithm 'countsketch(rows=5, cols=32)' --adversary kernel-injection \
	    --threat white-box --trials 20 --seed 1
	$(BIN)/wbstream play --problem 'sparse-recovery(n=2048, k=8, M=1024)' \
	    --algorithm 'countsketch(rows=5, cols=32)' --adversary 'random-sparse' \
	    --threat oblivious --trials 20 --seed 1

test: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider wbstream tests

perf: $(STAMP)
	$(BIN)/python benchmarks/perf_ratios.py

bench: $(STAMP) perf
	cd benchmarks && ../$(BIN)/asv machine --yes --machine local
	cd benchmarks && ../$(BIN)/asv run -E existing:same --set-commit-hash $$(git rev-parse HEAD) --machine local

clean:
	rm -rf $(VENV) benchmarks/results benchmarks/html benchmarks/env
