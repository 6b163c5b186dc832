#!/usr/bin/env bash
# Installs what the cluster needs and is missing: nginx, Redis and PostgreSQL
# from Debian's packages (as root, or through sudo), then a project virtualenv
# in .venv from the pinned requirements. Safe to run again: it does only what
# is missing, and rebuilds the venv only when a requirements file changed.
# Debian's packages may start their own services (nginx on 80, Redis on 6379,
# PostgreSQL on 5432); the cluster uses none of them and leaves them alone.
#
#   scripts/setup.sh            runtime packages (what `make up` needs)
#   scripts/setup.sh --dev      runtime + test and lint tools (`make test`)
set -euo pipefail

cd "$(dirname "$0")/.."
reqs=requirements.txt
[ "${1:-}" = "--dev" ] && reqs=requirements-dev.txt
venv=.venv
python=${PYTHON:-python3}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

have_postgres() { compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; }
have_nginx() { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; }
have_venv() { "$python" -c 'import venv, ensurepip' 2>/dev/null; }

missing=()
have_nginx || missing+=(nginx)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
have_postgres || missing+=(postgresql)
command -v "$python" >/dev/null || missing+=(python3)
command -v "$python" >/dev/null && ! have_venv && missing+=(python3-venv)
# The tests drive Debian's Chromium (Playwright never downloads a browser).
[ "${1:-}" = "--dev" ] && ! [ -x /usr/bin/chromium ] && missing+=(chromium)
# The benchmark drives its load with wrk (locust cannot reach those rates on 2 cores).
[ "${1:-}" = "--dev" ] && ! command -v wrk >/dev/null && missing+=(wrk)
# ... and a font with Chinese glyphs, for the page's seed terms in its screenshots.
[ "${1:-}" = "--dev" ] && ! [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && missing+=(fonts-wqy-microhei)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them (sudo apt-get install ${missing[*]}) or run this as root." >&2
    exit 1
  fi
  say "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The venv is rebuilt when the pinned requirements change: a stamp per
# requirements file holds the checksum it was built from. The dev set
# includes the runtime set, so a venv built for tests serves `make up` too.
sum() { cat requirements.txt "$1" | sha256sum | cut -d' ' -f1; }
stamp=$venv/.built-from-$reqs
want=$(sum "$reqs")
built() { [ "$(cat "$venv/.built-from-$1" 2>/dev/null)" = "$(sum "$1")" ]; }
if [ ! -x $venv/bin/python ] || ! { built "$reqs" || { [ "$reqs" = requirements.txt ] && built requirements-dev.txt; }; }; then
  say "building $venv from $reqs"
  # From scratch, so that a package dropped from the pins goes too.
  rm -rf $venv
  "$python" -m venv $venv
  $venv/bin/python -m pip install -q --disable-pip-version-check -r "$reqs"
  echo "$want" > $stamp
fi
