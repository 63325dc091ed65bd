# Sourced by run.sh and test.sh: make .venv exist and hold the given requirements file.
# Reinstalls only when the requirements changed, so a second start takes no network time.
ensure_venv() {
  local requirements="$1" stamp
  if ! python3 -m venv --help >/dev/null 2>&1; then
    echo "python3 venv module missing: installing python3-venv" >&2
    apt_install python3-venv
  fi
  [ -x .venv/bin/python ] || python3 -m venv .venv
  stamp=".venv/.installed-$(cat "$requirements" requirements.txt | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
    touch "$stamp"
  fi
}

apt_install() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}
