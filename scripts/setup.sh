#!/usr/bin/env bash
# Installs what the cluster needs and is missing: nginx, Redis and PostgreSQL
# from Debian's packages (as root, or through sudo), then a project virtualenv
# in .venv from the pinned requirements. Safe to run again: it does only what
# is missing. The test and lint tools install on top of the runtime venv; the
# venv is rebuilt only when a runtime pin changed, and never under a cluster
# that runs from it.
# Debian's packages may start their own services (nginx on 80, Redis on 6379,
# PostgreSQL on 5432); the cluster uses none of them and leaves them alone.
#
#   scripts/setup.sh            runtime packages (what `make up` needs)
#   scripts/setup.sh --dev      runtime + test and lint tools (`make test`)
#   ... --dry-run               say what it would do, do nothing
# VENV (default .venv) and PYTHON (default python3) may be set.
set -euo pipefail

cd "$(dirname "$0")/.."
dev=false
dry_run=false
for arg in "$@"; do
  case $arg in
    --dev) dev=true ;;
    --dry-run) dry_run=true ;;
    *) echo "usage: $0 [--dev] [--dry-run]" >&2; exit 2 ;;
  esac
done
reqs=requirements.txt
$dev && reqs=requirements-dev.txt
venv=${VENV:-.venv}
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
$dev && ! [ -x /usr/bin/chromium ] && missing+=(chromium)
# The benchmark drives its load with wrk (locust cannot reach those rates on 2 cores).
$dev && ! command -v wrk >/dev/null && missing+=(wrk)
# make bench-instr counts instructions with valgrind's callgrind.
$dev && ! command -v callgrind_control >/dev/null && missing+=(valgrind)
# ... and a font with Chinese glyphs, for the page's seed terms in its screenshots.
$dev && ! [ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] && missing+=(fonts-wqy-microhei)

if [ ${#missing[@]} -gt 0 ] && $dry_run; then
  say "would install ${missing[*]} (apt)"
elif [ ${#missing[@]} -gt 0 ]; then
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

# A stamp per requirements file holds the checksum the venv was last
# installed from: .built-from-requirements.txt the runtime pins,
# .built-from-requirements-dev.txt those and the dev pins (which include them).
# (The runtime one sums requirements.txt twice: as every stamp ever written did.)
sum() { cat requirements.txt "$1" | sha256sum | cut -d' ' -f1; }
runtime_sum=$(sum requirements.txt)
dev_sum=$(sum requirements-dev.txt)
stamp() { cat "$venv/.built-from-$1" 2>/dev/null || true; }

# The supervisord of a cluster started with this venv's launcher (`make up`,
# whatever its RUN_DIR, or a test's throwaway cluster): its cmdline names
# this venv's supervisord.  Printed as "pid config".
running_cluster() {
  local bin proc pid
  bin=$(realpath -m "$venv")/bin/supervisord
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    local -a args=()
    mapfile -d '' -t args 2>/dev/null <"$proc/cmdline" || continue
    local i
    for i in "${!args[@]}"; do
      if [ "${args[$i]}" = "$bin" ]; then
        local conf=""
        [ "${args[$((i + 1))]:-}" = "-c" ] && conf=${args[$((i + 2))]:-}
        echo "$pid $conf"
        return 0
      fi
    done
  done
  return 1
}

# The runtime pins are installed as built if the runtime stamp says so, or
# the dev stamp does (it covers requirements.txt too: venvs built before the
# runtime stamp was written for a dev build have only that one).
if [ ! -x "$venv/bin/python" ]; then
  plan=build
elif [ "$(stamp requirements.txt)" != "$runtime_sum" ] && [ "$(stamp requirements-dev.txt)" != "$dev_sum" ]; then
  plan=rebuild
elif $dev && [ "$(stamp requirements-dev.txt)" != "$dev_sum" ]; then
  plan=add-dev
else
  plan=none
fi

if [ "$plan" = rebuild ] && cluster=$(running_cluster); then
  echo "error: a cluster is running from this checkout: make down first (supervisord ${cluster% *}," \
    "${cluster#* }). requirements.txt changed, and rebuilding $venv would replace it under the cluster." >&2
  exit 1
fi

case $plan in
  build | rebuild)
    if $dry_run; then say "would build $venv from scratch from $reqs ($plan)"; exit 0; fi
    say "building $venv from $reqs"
    # From scratch, so that a package dropped from the pins goes too.
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs"
    echo "$runtime_sum" >"$venv/.built-from-requirements.txt"
    $dev && echo "$dev_sum" >"$venv/.built-from-requirements-dev.txt"
    ;;
  add-dev)
    if $dry_run; then say "would install requirements-dev.txt into $venv (add-dev)"; exit 0; fi
    # On top: the runtime packages (pinned alike in both files) stay as they
    # are, so a cluster running from this venv is not disturbed.  A dev tool
    # dropped from the pins stays until the next rebuild.
    say "installing requirements-dev.txt into $venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$dev_sum" >"$venv/.built-from-requirements-dev.txt"
    ;;
  none)
    $dry_run && say "$venv is up to date (none)"
    ;;
esac
# A venv whose dev stamp vouched for the runtime pins gets its own runtime stamp.
if ! $dry_run && [ -x "$venv/bin/python" ] && [ "$(stamp requirements.txt)" != "$runtime_sum" ]; then
  echo "$runtime_sum" >"$venv/.built-from-requirements.txt"
fi
