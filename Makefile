# Every target bootstraps what it needs: a fresh clone runs `make demo` or `make test` and nothing else.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SYSTEM_STAMP := .system-deps.installed

.PHONY: demo test test-slow test-aws lint format dashboard bench bench-recognition bench-dashboard coverage report package setup clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[local,deploy,dev]"
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	@touch $@

$(SYSTEM_STAMP): scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	@touch $@

setup: $(STAMP) $(NODE_STAMP) $(SYSTEM_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup lint
	$(BIN)/pytest -m "not slow"

test-slow: setup
	$(BIN)/pytest -m slow

# The end-to-end scenarios against the deployed stack (pulumi stack output), preflight first;
# a failed preflight is shown, and the scenarios then skip with the reason.
test-aws: $(STAMP)
	-$(BIN)/albumreg doctor --aws
	ALBUMREG_AWS_TESTS=1 $(BIN)/pytest -m aws -p no:cacheprovider --timeout=1800

demo: setup
	$(BIN)/albumreg demo

dashboard: setup
	$(BIN)/albumreg dashboard

bench: setup
	$(BIN)/albumreg bench --uploads 20 --concurrency 5 --price-latency 0.5 --recognizer replay --vision-latency 1.0

bench-recognition: setup
	$(BIN)/albumreg bench-recognition

bench-dashboard: setup
	$(BIN)/albumreg bench-dashboard --uploads 1000

coverage: setup
	$(BIN)/pytest -m "not slow" --cov=handlers --cov=albumreg --cov=stack --cov-report=term --cov-report=json:coverage.json

report: setup
	$(BIN)/albumreg report --out report.html

package: $(STAMP)
	$(BIN)/python -m stack.packaging --architecture arm64

clean:
	rm -rf $(VENV) node_modules $(SYSTEM_STAMP) .pytest_cache .mypy_cache .ruff_cache build *.egg-info test-artifacts .albumreg coverage.json .coverage report.html report.md
