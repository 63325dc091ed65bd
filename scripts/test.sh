#!/usr/bin/env bash
# Install whatever the tests need that is missing, then run every test. CI runs exactly this.
#   Debian packages: chromium + chromium-driver (browser tests), redis-server, mosquitto
#   Python packages: requirements-dev.txt, into .venv
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not e2e"`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v mosquitto >/dev/null || missing+=(mosquitto)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  apt_install "${missing[@]}"
fi

ensure_venv requirements-dev.txt
exec .venv/bin/python -m pytest "$@"
