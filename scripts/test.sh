#!/usr/bin/env bash
# Install whatever the tests need that is missing, then lint, type-check and run every test.
# CI (.ci/run) runs exactly this.
#   Debian packages: chromium + chromium-driver (browser tests), redis-server, mosquitto,
#                    postgresql (the shared history's tests start a private server of their own),
#                    fonts-noto-cjk and poppler-utils (Chinese PDFs, checked with pdffonts/pdftoppm)
#   Python packages: requirements-dev.txt, into .venv
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -m "not e2e"`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_setup.sh

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v mosquitto >/dev/null || missing+=(mosquitto)
# The server's initdb and postgres (Debian keeps them off PATH, in /usr/lib/postgresql/N/bin).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
command -v pdffonts >/dev/null || missing+=(poppler-utils)
ls /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  apt_install "${missing[@]}"
fi

ensure_venv requirements-dev.txt
echo "ruff check" >&2
.venv/bin/ruff check --quiet .
echo "ruff format --check" >&2
.venv/bin/ruff format --check --quiet .
echo "mypy" >&2
.venv/bin/mypy
echo "pytest" >&2
# Two workers that steal from each other (the slow browser tests would otherwise queue behind
# one). Each test has its own limit (pyproject's timeout); this one bounds the whole run, so a hang
# nobody foresaw still ends in a failure with a reason, well inside CI's 90 minutes.
exec timeout --kill-after=60 "${TEST_TIMEOUT:-4200}" .venv/bin/python -m pytest -n 2 --dist worksteal "$@"
