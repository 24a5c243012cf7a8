# ShopDesk: `make run` brings the assistant up and chats; `make test` runs every check.
.PHONY: help setup runtime lock run chat stories test test-fast lint load scaled learn

# Rasa would send usage data and crash reports to its servers; a shop sends nothing outside.
export RASA_TELEMETRY_ENABLED := false
# What the test machine may knowingly lack when CI=true (tests/conftest.py `require`): Debian 12's
# PostgreSQL packages no pgvector, so its test skips there by name; any other missing need fails.
export SHOPDESK_TEST_WITHOUT ?= pgvector

help:  ## what each target does
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/'

setup:  ## create or update both virtual environments (.venv 3.11, .venv-rasa 3.10)
	scripts/bootstrap

runtime:  ## only what runs the shop: no test tools, no browser, never apt-get (docs/deployment.md)
	scripts/bootstrap --runtime

lock:  ## re-pin requirements/*.lock (uv; the runtime locks too) after a dependency change
	scripts/lock

run: runtime  ## load the catalog, train what is missing, start everything, chat; Ctrl-C stops all
	.venv/bin/python -m launcher run

chat:  ## chat with an assistant that is already running
	.venv/bin/python -m launcher chat

stories: setup  ## play the conversation test stories (bot/tests) against a fresh live stack
	.venv/bin/python -m launcher stories

lint: setup  ## ruff (check, format), mypy (both venvs), the layers (lint-imports), eslint, the package graph
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/lint-imports
	.venv-rasa/bin/mypy --config-file bot/mypy.ini
	cd web && npx --no-install eslint static
	.venv/bin/python scripts/package_graph.py --check

test: lint  ## lint, unit and end-to-end tests on both Python sides
	.venv/bin/python -m pytest
	.venv-rasa/bin/python -m pytest tests/bot

test-fast:  ## unit tests only: no stack, server, browser or training (-m "not live and not slow"); 2 min 59 s, 1,159 tests on 2 shared cores
	.venv/bin/python -m pytest -m "not live and not slow"

learn: setup  ## agents' corrections -> NLU examples, retrain the intent adapter, before/after scores (docs/learning.md)
	.venv/bin/python -m learning retrain

load: setup  ## the load benchmark: Locust shoppers at 1/10/20/50 users -> benchmarks/results/load.md
	.venv/bin/python -m benchmarks.load

scaled: setup  ## the scaled setup's tests on PostgreSQL and Redis (they must run: CI=true)
	CI=true .venv/bin/python -m pytest tests/e2e/test_scaled.py tests/launcher/test_scaled.py
