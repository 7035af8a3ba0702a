#!/usr/bin/env bash
# The registry the registry tests push to and pull from, started and stopped by
# tests/run (and by hand, the same way):
#
#   tests/registry.sh start DIR   a docker-registry of the run's own, under DIR
#   tests/registry.sh stop DIR    stop it and remove DIR (safe to repeat)
#
# start writes DIR/env: `export DOCKERVISOR_TEST_REGISTRY=127.0.0.1:PORT`. The
# port is one the kernel gives, retried when the registry cannot bind it (two
# runs at once get two registries). Storage is DIR/storage; the log is
# DIR/registry.log, never the caller's stdout. The engine pushes to and pulls
# from 127.0.0.1 without TLS: loopback is an insecure registry by default.
set -euo pipefail

say() { echo "tests/registry.sh: $*" >&2; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

answers() { # PORT
    python3 - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=2).read()
PY
}

start() {
    local dir=$1 port pid
    mkdir -p "$dir/storage"
    for _ in 1 2 3 4 5; do
        port="$(free_port)"
        cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
        setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$dir/pid"
        for _ in $(seq 1 40); do
            if answers "$port"; then
                echo "export DOCKERVISOR_TEST_REGISTRY=127.0.0.1:$port" >"$dir/env"
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill "$pid" 2>/dev/null || true
        say "the registry did not answer on port $port; trying another (log: $dir/registry.log)"
    done
    say "no registry answered; see $dir/registry.log"
    return 1
}

stop() {
    local dir=$1 pid
    [ -d "$dir" ] || return 0
    if [ -f "$dir/pid" ]; then
        pid="$(cat "$dir/pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) say "usage: tests/registry.sh start|stop DIR"; exit 2 ;;
esac
