#!/usr/bin/env bash
# Check the README's two commands on a fresh Debian 12 (bookworm), as root on a new machine would
# run them: build a minimal root filesystem with debootstrap, put a clean clone of this
# repository's HEAD into it, and inside it
#   1. start `bash scripts/run.sh --port 8050` in the background, time it until /floor answers,
#      check /floor and a tracking link it prints, stop it; then once more, now that .venv exists;
#   2. run `bash scripts/test.sh` (installs its Debian packages, then ruff, mypy and pytest);
#   3. require `git status --porcelain` in the clone to be empty: the commands touch no tracked file.
# Prints a summary with the times and exits non-zero when any check fails.
#
# Usage: sudo bash scripts/fresh-debian.sh [WORKDIR]        (default: /tmp/fresh-debian)
#   WORKDIR/base   the debootstrapped system, built once and never entered (REBUILD=1 builds it again)
#   WORKDIR/root   a new copy of the base for every run, so every run starts on a fresh machine
#   WORKDIR/logs   debootstrap.log, run-1.log, run-2.log, test.log
# The host needs apt-get, git and network access to a Debian mirror and to PyPI (or the PyPI
# mirror its pip settings name). The chroot reaches them the way the host does: the same Debian
# mirror, the same apt network settings, the same pip settings and proxy variables.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(realpath -m "${1:-/tmp/fresh-debian}")
BASE=$WORK/base
ROOT=$WORK/root
LOGS=$WORK/logs
SUITE=bookworm
SRC=/root/src                                # the clone, as the chroot sees it
PORT=8050
SERVE_TIMEOUT=${SERVE_TIMEOUT:-1800}         # seconds a start may take (the first one installs .venv)
TEST_TIMEOUT=${TEST_TIMEOUT:-5400}           # seconds test.sh may take before it counts as hung

die() {
  echo "error: $*" >&2
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
step() { printf '\n== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || die "run as root: debootstrap, mount and chroot need it"
command -v git >/dev/null || die "need git on the host to clone the repository"

# --- The host's package sources --------------------------------------------------------------

# host_mirror SUITE: the first URI the host's apt sources use for SUITE (one-line or deb822 files).
host_mirror() {
  local suite=$1 file
  {
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$file" ] || continue
      awk -v suite="$suite" '$1 == "deb" { sub(/\[[^]]*\]/, ""); if ($3 == suite) print $2 }' "$file"
    done
    for file in /etc/apt/sources.list.d/*.sources; do
      [ -f "$file" ] || continue
      awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
        {
          types = uris = suites = ""; enabled = "yes"
          for (i = 1; i <= NF; i++) {
            if ($i ~ /^#/ || !match($i, /^[A-Za-z-]+:/)) continue
            key = tolower(substr($i, 1, RLENGTH - 1)); value = " " substr($i, RLENGTH + 1) " "
            gsub(/[ \t]+/, " ", value)
            if (key == "types") types = value; else if (key == "uris") uris = value
            else if (key == "suites") suites = value; else if (key == "enabled") enabled = tolower(value)
          }
          if (index(types, " deb ") && index(suites, " " suite " ") && enabled !~ /no/) { split(uris, u, " "); print u[1] }
        }' "$file"
    done
  } | head -n 1
}

# A host that is not Debian 12 itself has no bookworm lines: then Debian's own default mirrors.
MIRROR=${MIRROR:-$(host_mirror "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=$(host_mirror "$SUITE-security")
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}

# pip reads these files (system-wide, then the user's); the chroot's user is root, home /root.
PIP_SYSTEM_FILES=(/etc/pip.conf)
IFS=: read -r -a xdg_dirs <<<"${XDG_CONFIG_DIRS:-/etc/xdg}"
for dir in "${xdg_dirs[@]}"; do PIP_SYSTEM_FILES+=("$dir/pip/pip.conf"); done
PIP_USER_FILES=("$HOME/.pip/pip.conf" "${XDG_CONFIG_HOME:-$HOME/.config}/pip/pip.conf")
[ -z "${PIP_CONFIG_FILE:-}" ] || PIP_SYSTEM_FILES+=("$PIP_CONFIG_FILE")

# pip_local_paths: the local files and folders the host's pip settings name (find-links folders,
# file:// indexes, constraint files, certificates), one per line. For an index, its parent folder:
# a simple index's pages link to the files beside it (../../files/...).
pip_local_paths() {
  {
    for file in "${PIP_SYSTEM_FILES[@]}" "${PIP_USER_FILES[@]}"; do
      [ -f "$file" ] || continue
      # "key = value value" lines and their indented continuation lines, as "key value" pairs
      awk '/^[[:space:]]*[#;[]/ { next }
           /=/ { key = $0; sub(/[[:space:]]*=.*/, "", key); gsub(/[[:space:]]/, "", key); sub(/^[^=]*=/, "") }
           { for (i = 1; i <= NF; i++) print key, $i }' "$file"
    done
    env | awk -F= '/^PIP_/ { key = tolower(substr($1, 5)); gsub(/_/, "-", key)
                             n = split(substr($0, length($1) + 2), v, /[[:space:]]+/)
                             for (i = 1; i <= n; i++) print key, v[i] }'
  } | while read -r key value; do
    case "$value" in
      file://*) value=${value#file://} ;;
      /*) ;;
      *) continue ;;
    esac
    case "$key" in index-url | extra-index-url) value=$(dirname "$value") ;; esac
    printf '%s\n' "${value%/}"
  done | sort -u
}

# The environment inside the chroot: a login's basics (C.UTF-8 needs no locales package), plus the
# host's variables that say how to reach the registries.
CHROOT_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}")
while IFS= read -r var; do
  CHROOT_ENV+=("$var=${!var}")
done < <(compgen -e | grep -E '^(PIP_[A-Z_]+|(http|https|ftp|no|all)_proxy|(HTTP|HTTPS|FTP|NO|ALL)_PROXY|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE)$' || true)

in_chroot() { chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" "$@"; }

# --- Clean-up: runs on every exit ------------------------------------------------------------

# Processes whose root is the chroot: all of them were started by this script.
chroot_pids() {
  local proc
  for proc in /proc/[0-9]*; do
    [ "$(readlink "$proc/root" 2>/dev/null)" = "$ROOT" ] && echo "${proc#/proc/}"
  done
  return 0
}

stop_chroot_processes() {
  local pids
  mapfile -t pids < <(chroot_pids)
  [ ${#pids[@]} -gt 0 ] || return 0
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 20); do
    [ -n "$(chroot_pids)" ] || return 0
    sleep 0.5
  done
  mapfile -t pids < <(chroot_pids)
  [ ${#pids[@]} -eq 0 ] || kill -KILL "${pids[@]}" 2>/dev/null || true
}

# Everything is mounted below $ROOT, which is itself a bind mount: one recursive unmount.
unmount_all() {
  mountpoint -q "$ROOT" 2>/dev/null || return 0
  umount -R "$ROOT" 2>/dev/null || umount -R -l "$ROOT"
}

mounted_below() { awk -v root="$ROOT" '$2 == root || index($2, root "/") == 1' /proc/self/mounts; }

cleanup() {
  stop_chroot_processes
  unmount_all
  [ -z "$(mounted_below)" ] || echo "warning: still mounted below $ROOT: $(mounted_below | cut -d' ' -f2 | tr '\n' ' ')" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. The base system (built once) ---------------------------------------------------------

mkdir -p "$WORK" "$LOGS"
cd "$WORK"
DEBOOTSTRAP_TIME="reused $BASE (REBUILD=1 builds it again)"
if [ "${REBUILD:-0}" = 1 ] || [ ! -e "$WORK/base.complete" ]; then
  step "debootstrap $SUITE (minbase + python3, ca-certificates) from $MIRROR"
  if ! command -v debootstrap >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  # debootstrap downloads with wget, which ignores apt's settings: give it apt's proxy, if any.
  APT_HTTP_PROXY=""
  eval "$(apt-config shell APT_HTTP_PROXY Acquire::http::Proxy)"
  rm -f "$WORK/base.complete"
  rm -rf --one-file-system "$BASE"  # never mounted into: nothing below it but its own files
  started=$(now)
  if ! env ${APT_HTTP_PROXY:+http_proxy=$APT_HTTP_PROXY} \
    debootstrap --variant=minbase --include=python3,ca-certificates "$SUITE" "$BASE" "$MIRROR" \
    >"$LOGS/debootstrap.log" 2>&1; then
    tail -n 20 "$LOGS/debootstrap.log"
    die "debootstrap failed (log: $LOGS/debootstrap.log)"
  fi
  DEBOOTSTRAP_TIME="$(since "$started") s"
  touch "$WORK/base.complete"
  echo "done in $DEBOOTSTRAP_TIME"
fi

# --- 2. A fresh machine: a new copy of the base, set up to reach the registries ---------------

step "fresh root filesystem in $ROOT"
stop_chroot_processes  # left over from an interrupted earlier run
unmount_all
# rm -rf would walk into a bind mount (of /dev, or of a folder on this very disk): never with one.
[ -z "$(mounted_below)" ] || die "still mounted below $ROOT; unmount it first"
rm -rf --one-file-system "$ROOT"
cp -a "$BASE" "$ROOT"

# DNS as on the host. The copy replaces any symlink, which would point into the host's /run.
rm -f "$ROOT/etc/resolv.conf"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
# A Debian installation names localhost in /etc/hosts; debootstrap leaves that to the installer.
[ -s "$ROOT/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"

# apt: the sources of a Debian 12 installation (release, updates, security) on the host's mirrors,
# and the host's network settings for apt (proxies, validity checks of a snapshot mirror, ...).
rm -f "$ROOT/etc/apt/sources.list"
cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
for file in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
  [ -f "$file" ] && grep -q 'Acquire::' "$file" && cp "$file" "$ROOT$file"
done
for file in /etc/apt/auth.conf.d/*; do
  [ -f "$file" ] && install -D -m 600 "$file" "$ROOT$file"
done

# pip: the host's settings files, system-wide ones at the same path, the user's under /root.
for file in "${PIP_SYSTEM_FILES[@]}"; do
  [ -f "$file" ] && install -D -m 644 "$file" "$ROOT$file"
done
for file in "${PIP_USER_FILES[@]}"; do
  [ -f "$file" ] && install -D -m 644 "$file" "$ROOT/root/${file#"$HOME"/}"
done

# The chroot's own mounts, all below $ROOT. Making $ROOT a private mount first keeps every mount
# below it out of the host's mount table; /dev is bound from the host and made a slave, so that
# the tmpfs mounted on its shm does not cover the host's /dev/shm.
mount --bind "$ROOT" "$ROOT"
mount --make-private "$ROOT"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"
mount --bind /dev/pts "$ROOT/dev/pts"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm"  # Chromium needs a real /dev/shm

# What the pip settings name on the host's disk (a local PyPI mirror, a constraints file) must be
# there for them to mean the same in the chroot: folders read-only, files copied.
while IFS= read -r path; do
  if [ -e "$ROOT$path" ] || [ ! -e "$path" ]; then
    continue
  elif [ -d "$path" ]; then
    mkdir -p "$ROOT$path"
    mount --bind -o ro "$path" "$ROOT$path"
    echo "pip settings name $path: mounted read-only at the same path"
  else
    install -D -m 644 "$path" "$ROOT$path"
  fi
done < <(pip_local_paths)

# Certificate authorities the host trusts beyond Debian's (a proxy's, a company's), so that HTTPS
# to the registries verifies in the chroot as it does on the host.
if compgen -G '/usr/local/share/ca-certificates/*' >/dev/null; then
  cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
  in_chroot update-ca-certificates >/dev/null 2>&1 || die "update-ca-certificates failed in the chroot"
  echo "trusting the host's local certificate authorities: $(cd /usr/local/share/ca-certificates && echo *)"
fi

# The code: a clone of HEAD, as a new user gets it (uncommitted changes here are not in it).
COMMIT=$(git -C "$REPO" rev-parse HEAD)
git clone --quiet --no-hardlinks "$REPO" "$ROOT$SRC"
git -C "$ROOT$SRC" checkout --quiet --detach "$COMMIT"
echo "clone of ${COMMIT:0:12} in $SRC"

# --- 3. run.sh: serves, twice ----------------------------------------------------------------

# http_get URL [WAIT PID]: print "STATUS LOCATION" of one GET of URL (redirects not followed, no
# proxy: the server is local). With WAIT, retry while nothing answers, for up to WAIT seconds
# and only while process PID lives. Exit status 1 when nothing answered.
http_get() {
  in_chroot python3 - "$@" <<'PY'
import os, sys, time, urllib.error, urllib.request

url, wait, pid = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 0, int(sys.argv[3]) if len(sys.argv) > 3 else 0

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
deadline = time.monotonic() + wait
while True:
    try:
        with opener.open(url, timeout=60) as response:
            print(response.status, response.headers.get("Location", "-"))
    except urllib.error.HTTPError as error:
        print(error.code, error.headers.get("Location", "-"))
    except OSError as error:
        if time.monotonic() < deadline and (not pid or alive(pid)):
            time.sleep(0.5)
            continue
        print(0, error)
        sys.exit(1)
    break
PY
}

declare -A SERVE_TIME SERVE_RESULT
FAILURES=0

# serve_check N: start run.sh in the background, time it until /floor answers, check /floor
# (200, or a redirect to sign-in) and the first tracking link it prints (200), then stop it.
serve_check() {
  local n=$1 log=$LOGS/run-$1.log started pid floor track url wall result=ok
  step "run.sh, start $n (log: $log)"
  ! http_get "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || die "something already listens on port $PORT"
  started=$(now)
  # Not through in_chroot: a function would run in a subshell, and $! must be the server itself
  # (chroot, env and both bashes exec into it) for the SIGTERM below to reach it.
  chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" bash -c "cd $SRC && exec bash scripts/run.sh --port $PORT" \
    </dev/null >"$log" 2>&1 &
  pid=$!
  if ! floor=$(http_get "http://127.0.0.1:$PORT/floor" "$SERVE_TIMEOUT" "$pid"); then
    tail -n 30 "$log"
    SERVE_TIME[$n]="-"
    SERVE_RESULT[$n]="FAIL: nothing answered on /floor ($floor)"
    FAILURES=$((FAILURES + 1))
    stop_chroot_processes
    return 0
  fi
  SERVE_TIME[$n]=$(since "$started")
  echo "/floor answered after ${SERVE_TIME[$n]} s: $floor"
  case "$floor" in
    "200 "*) ;;
    30[0-9]" "*login*) ;;
    *) result="FAIL: /floor answered $floor" ;;
  esac
  url=$(grep -m 1 -oE 'http://[^ ]+/track/[A-Za-z0-9_-]+' "$log" || true)
  if [ -z "$url" ]; then
    result="FAIL: no tracking link printed"
  else
    track=$(http_get "$url" || true)
    echo "$url -> $track"
    [ "${track%% *}" = 200 ] || result="FAIL: tracking link answered $track"
  fi
  # The first start registers a wall screen; every start prints its link (kept in data/).
  wall=$(grep -m 1 '^Wall screen:' "$log" || true)
  echo "${wall:-no wall-screen line printed}"
  [[ "$wall" == *"/kiosk/"* ]] || result="FAIL: no wall-screen link printed"
  grep -E '^installing ' "$log" || true
  kill -TERM "$pid" 2>/dev/null || true  # the app flushes its history and exits on SIGTERM
  for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  stop_chroot_processes
  wait "$pid" 2>/dev/null && echo "stopped (exit 0)" || echo "stopped (exit $?)"
  [ "$result" = ok ] || FAILURES=$((FAILURES + 1))
  SERVE_RESULT[$n]="$result (/floor: $floor; tracking link: ${track:-none})"
}

serve_check 1
serve_check 2

# --- 4. test.sh ------------------------------------------------------------------------------

step "test.sh (log: $LOGS/test.log)"
started=$(now)
set +e
timeout --kill-after=60 "$TEST_TIMEOUT" chroot "$ROOT" /usr/bin/env -i "${CHROOT_ENV[@]}" \
  bash -c "cd $SRC && bash scripts/test.sh" </dev/null 2>&1 | tee "$LOGS/test.log"
TEST_RC=${PIPESTATUS[0]}
set -e
TEST_TIME=$(since "$started")
stop_chroot_processes  # servers a killed run may have left
[ "$TEST_RC" = 0 ] || FAILURES=$((FAILURES + 1))
PYTEST_LINE=$(grep -E '^=+ .*(passed|failed|error|skipped).* in [0-9.]+s' "$LOGS/test.log" | tail -n 1 | tr -d '=' | sed 's/^ *//; s/ *$//' || true)

# --- 5. The clone is as it was ---------------------------------------------------------------

step "git status --porcelain in the clone"
PORCELAIN=$(git -C "$ROOT$SRC" status --porcelain)
CLONE_STATE=empty
if [ -n "$PORCELAIN" ]; then
  echo "$PORCELAIN"
  CLONE_STATE="$(echo "$PORCELAIN" | wc -l) line(s): $(echo "$PORCELAIN" | head -n 5 | tr '\n' ' ')"
  FAILURES=$((FAILURES + 1))
fi

# --- Summary ---------------------------------------------------------------------------------

step "summary: ${COMMIT:0:12} on Debian $SUITE ($MIRROR), logs in $LOGS"
printf '%-24s %s\n' \
  "debootstrap:" "$DEBOOTSTRAP_TIME" \
  "run.sh, first start:" "${SERVE_TIME[1]} s until serving; ${SERVE_RESULT[1]}" \
  "run.sh, second start:" "${SERVE_TIME[2]} s until serving; ${SERVE_RESULT[2]}" \
  "test.sh:" "exit $TEST_RC after $TEST_TIME s$([ "$TEST_RC" = 124 ] && echo ' (timed out)')" \
  "pytest:" "${PYTEST_LINE:-no summary line (see the log)}" \
  "git status --porcelain:" "$CLONE_STATE"
if [ "$FAILURES" = 0 ]; then
  echo "PASS"
else
  echo "FAIL ($FAILURES check(s))"
  exit 1
fi
