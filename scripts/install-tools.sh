#!/usr/bin/env bash
# Installs what kurz's commands need and a fresh machine may lack, from PyPI (uv) and
# Debian's packages. Idempotent; installs only what the named purpose needs:
#   run    uv, Postgres, Redis                      (make run)
#   test   run's, plus kubectl and Chromium          (make test; the default)
#   bench  test's, plus wrk and valgrind             (make bench)
set -euo pipefail

purpose="${1:-test}"
case "$purpose" in
    run | test | bench) ;;
    *) echo "usage: $0 [run|test|bench]" >&2; exit 2 ;;
esac

if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
fi

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; } || need+=(postgresql)
if [ "$purpose" != run ]; then
    command -v kubectl >/dev/null 2>&1 || need+=(kubectl)
    command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ "$purpose" = bench ]; then
    command -v wrk >/dev/null 2>&1 || need+=(wrk)
    command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
fi

if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
