#!/usr/bin/env bash
# Installs what kurz's commands need and a fresh machine may lack: uv, and the Postgres,
# Redis, kubectl and Chromium binaries from Debian packages (and, for `make bench`, wrk and
# valgrind). Idempotent.
set -euo pipefail

if ! command -v uv >/dev/null 2>&1 && [ ! -x "$HOME/.local/bin/uv" ]; then
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
fi

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
{ command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; } || need+=(postgresql)
command -v kubectl >/dev/null 2>&1 || need+=(kubectl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "${KURZ_BENCH_TOOLS:-}" = 1 ]; then
    command -v wrk >/dev/null 2>&1 || need+=(wrk)
    command -v valgrind >/dev/null 2>&1 || need+=(valgrind)
fi

if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Last line: where uv is, for the Makefile.
command -v uv 2>/dev/null || echo "$HOME/.local/bin/uv"
