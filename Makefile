# The two commands of the README: `make demo` and `make test`. Everything else they need,
# they install into ./.venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck docs pytest services mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/wirearchive demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The docs site, strict: a broken link or anchor, or a reference page the code no longer
# matches (docs/hooks/reference.py), fails the build. The site lands in ./site.
# NO_MKDOCS_2_WARNING: mkdocs-material's end-of-life notice (May 2027), printed on every build.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

# What the tests need from Debian: redis-server (the Redis tests), systemd-analyze (the
# systemd timer tests) and chromium (the web app's browser tests), installed when missing
# and we are root. Without them, as another
# user, those tests fail and say what to install: they never skip.
services:
	@command -v redis-server >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v systemd-analyze >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd >/dev/null; }
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

pytest: $(STAMP) services
	$(BIN)/pytest

test: lint typecheck docs pytest

# Mutation score of the rule modules, on a fixed random sample of each module's mutants
# (about 20 minutes a module; MUTATION_SAMPLE=0 tests them all: hours). Not part of `make test`.
MUTATION_SAMPLE ?= 60
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[mutation]'
	$(BIN)/python benchmarks/mutation.py --sample $(MUTATION_SAMPLE)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info site
