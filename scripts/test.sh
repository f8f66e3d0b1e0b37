#!/usr/bin/env bash
# Sets everything up (scripts/bootstrap.sh), then runs every check of the project: lint, types,
# the import layering, the contract artifacts' freshness, and the whole test suite. Extra arguments
# go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy --strict" && .venv/bin/mypy
echo "== import layering (lint-imports)" && .venv/bin/lint-imports --no-logo --no-cache
echo "== pytest" && exec .venv/bin/pytest "$@"
