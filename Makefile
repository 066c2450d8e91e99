# Two commands on a fresh machine:
#   make report   set up .venv and run the default study end to end (reports/<study>/)
#   make test     set up .venv and run the test suite
STUDY ?= bert4rec
CORES ?= 2
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup report test lint clean-results system-deps

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[recsys,dev]'
	touch $@

report: setup
	$(BIN)/snakemake --cores $(CORES) study=$(STUDY)

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/snakemake --lint

clean-results:
	rm -rf results/$(STUDY) reports/$(STUDY) logs/$(STUDY) benchmarks/$(STUDY)

# Optional system programs some tests use (they skip without them); needs root and apt.
system-deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		chromium poppler-utils lmodern texlive-latex-base texlive-latex-recommended \
		slurm-wlm munge >/dev/null
