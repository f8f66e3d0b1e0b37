#!/usr/bin/env bash
# Sets everything up (scripts/bootstrap.sh), then runs the local community devnet: `kiez devnet`.
# Extra arguments go to it; see `.venv/bin/kiez devnet --help`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec .venv/bin/kiez devnet "$@"
