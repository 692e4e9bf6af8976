# Every target builds .venv itself, so a fresh machine needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench perf clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# loop.py is also compiled (setup.py), so a change to it reinstalls
$(STAMP): pyproject.toml setup.py wbstream/engine/loop.py wbstream/engine/_cloop.pxd | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench,attacks,peers,dist,plots]'
	touch $(STAMP)

# The main job: the standard suite (every registered algorithm against every adversary that
# applies, at every threat level), stored in results/ with a leaderboard, flags and report.html.
demo: $(STAMP)
	$(BIN)/wbstream arena --suite standard --out results

test: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider --hypothesis-profile=ci wbstream tests

perf: $(STAMP)
	$(BIN)/wbstream bench engine
	$(BIN)/wbstream bench sparse
	$(BIN)/wbstream bench distinct
	$(BIN)/wbstream bench lowrank
	$(BIN)/wbstream bench distributed

# ASV against the current environment; results are saved under the current commit. The published
# dashboard's CDN scripts are vendored (npm pack, cached in ~/.cache/wbstream), so it works offline.
bench: $(STAMP) perf
	cd benchmarks && ../$(BIN)/asv machine --yes --machine local
	cd benchmarks && ../$(BIN)/asv run -E existing:$(CURDIR)/$(BIN)/python \
	    --set-commit-hash $$(git rev-parse HEAD) --machine local
	cd benchmarks && ../$(BIN)/asv publish
	$(BIN)/python -m wbstream.bench.offline benchmarks/html   # jQuery, Flot, Bootstrap from npm: works offline

clean:
	rm -rf $(VENV) benchmarks/results benchmarks/html benchmarks/env
