# The two commands of the quick start: `make demo` and `make test`.
.PHONY: demo test setup setup-dev lint typecheck pytest bench openapi clean

PORT ?= 8000

demo: setup
	.venv/bin/citywall demo --port $(PORT)

test: setup-dev lint typecheck pytest

setup:
	scripts/setup.sh

setup-dev:
	scripts/setup.sh --dev

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck:
	.venv/bin/mypy

pytest:
	.venv/bin/python -m pytest -q

bench: setup-dev
	.venv/bin/python -m bench

openapi: setup-dev
	.venv/bin/python -m wall.openapi > openapi.json

clean:
	rm -rf .venv data .mypy_cache .ruff_cache .pytest_cache
