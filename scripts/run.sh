#!/usr/bin/env bash
# Run the product: installs the Python requirements into .venv on first use, then starts
# `python app.py` with any flags given (try --help). Needs no database, broker or browser.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
ensure_venv requirements.txt
exec .venv/bin/python app.py "$@"
