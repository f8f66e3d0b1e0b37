#!/usr/bin/env bash
# Sets everything up (scripts/bootstrap.sh), then runs every check of the project: lint, types,
# the import layering, the contract artifacts' freshness, and the whole test suite. Extra arguments
# go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
# As root (CI here), the network-namespace and browser tests must run: KIEZ_REQUIRE_NETNS=1 and
# KIEZ_REQUIRE_BROWSER=1 turn their skip (no root or `ip netns`; no Chromium, which the set-up
# installs as root) into a failure, so they can never be skipped silently.
if [ "$(id -u)" -eq 0 ]; then export KIEZ_REQUIRE_NETNS=1 KIEZ_REQUIRE_BROWSER=1; fi
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== import layering (lint-imports)" && .venv/bin/lint-imports --no-logo --no-cache
# Test files run on KIEZ_TEST_WORKERS worker processes (default 2, one per core of the CI machine;
# -n 0 after it runs them in this process), each file whole on one worker, since most files
# share one set of nodes between their tests.
echo "== pytest" && exec .venv/bin/pytest -n "${KIEZ_TEST_WORKERS:-2}" --dist loadfile "$@"
