#!/usr/bin/env bash
# Run the product: installs the pinned Python requirements into .venv on first use (and Python's
# venv support through apt if the machine lacks it), then starts `python app.py` with any flags
# given (try --help). Needs no database, broker or browser.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh
ensure_venv requirements.txt
exec .venv/bin/python app.py "$@"
