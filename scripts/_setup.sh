# Sourced by run.sh and test.sh: find Python >= 3.11, make .venv exist with a working pip, and
# install a pinned requirements file into it. Safe to run any number of times: a second run
# checks two stamps and installs nothing. Every way it can fail ends in one line on stderr.

die() {
  echo "error: $*" >&2
  exit 1
}

# Run a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    return 127
  fi
}

# Install Debian/Ubuntu packages. Services these packages would start (redis-server, mosquitto,
# postgresql) are kept stopped while apt runs, so the machine is left as it was: the tests
# start their own servers on free ports.
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "need the packages '$*' and this machine has no apt-get: install them by hand"
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    die "need the packages '$*': run as root or install sudo"
  fi
  echo "installing Debian packages: $*" >&2
  local guard=/usr/sbin/policy-rc.d added=""
  if [ ! -e "$guard" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$guard" >/dev/null && as_root chmod 755 "$guard" && added=1
  fi
  local status=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || status=$?
  if [ "$status" = 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  fi
  [ -z "$added" ] || as_root rm -f "$guard"
  [ "$status" = 0 ] || die "apt-get could not install: $* (exit $status)"
}

# The first Python 3.11 or newer on PATH; on a machine with apt and none, install python3.
find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# `python3 -m venv --help` succeeds without Debian's python3-venv; only ensurepip tells.
venv_works() {
  "$1" -c 'import ensurepip, venv' >/dev/null 2>&1
}

# A .venv is usable when its interpreter runs, is new enough and has pip. A half-made one (a
# venv whose creation failed half-way) is removed and made again.
venv_ok() {
  [ -x .venv/bin/python ] &&
    .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null &&
    .venv/bin/python -m pip --version >/dev/null 2>&1
}

# The stamp that says a requirements file (with the pins and the project it builds on) is installed.
stamp_of() {
  echo ".venv/.installed-$1-$(cat "$1" requirements.txt pyproject.toml | sha256sum | cut -c1-16)"
}

ensure_venv() {
  local requirements="$1" python version stamp
  python=$(find_python) || {
    apt_install python3
    python=$(find_python) || die "need Python 3.11 or newer (found: $(python3 --version 2>&1 || echo none))"
  }
  if ! venv_ok; then
    if ! venv_works "$python"; then
      version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt_install "python${version}-venv"
      venv_works "$python" || die "$python cannot create virtual environments even with python${version}-venv"
    fi
    rm -rf .venv
    "$python" -m venv .venv || die "could not create .venv with $python"
    venv_ok || die "the new .venv has no working pip"
  fi
  # Reinstall only when what is installed would change. The dev set includes the runtime set, so
  # a current dev stamp also satisfies run.sh (switching between the two commands installs nothing).
  stamp=$(stamp_of "$requirements")
  if [ ! -f "$stamp" ] && [ ! -f "$(stamp_of requirements-dev.txt)" ]; then
    echo "installing Python packages from $requirements into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements" ||
      die "pip could not install $requirements"
    # The project itself, editable: gives the `tf` command without copying the code (pip builds
    # it with a setuptools of its own: venvs of Python 3.12 and later have none).
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . ||
      die "pip could not install the project"
    rm -f .venv/.installed-"$requirements"-*
    touch "$stamp"
  fi
}
