#!/usr/bin/env bash
# Start or stop the machine's Docker engine when tests/run found none running.
#
#   tests/engine.sh start | stop | answers
#
# Nothing restarts it: the test that needs an engine restart starts an engine
# of its own (tests/private_engine.py), so an engine others use is left alone.
#
# dockerd's output goes to a log file, never to the caller's stdout: anything
# left holding the test runner's stdout open makes CI wait until it times out.
set -euo pipefail

LOG="${DOCKERVISOR_TEST_DOCKERD_LOG:-/tmp/dockervisor-test-dockerd.log}"
PIDFILE=/var/run/docker.pid # dockerd writes it itself
export PATH="$PATH:/usr/sbin:/sbin"

answers() {
    timeout 10 docker info >/dev/null 2>&1
}

start() {
    echo "--- dockerd started by tests/engine.sh at $(date -u +%FT%TZ)" >>"$LOG"
    setsid dockerd >>"$LOG" 2>&1 </dev/null &
    for _ in $(seq 1 120); do
        if answers; then
            return 0
        fi
        sleep 0.5
    done
    echo "engine.sh: dockerd did not answer within 60s; the end of $LOG:" >&2
    tail -n 20 "$LOG" >&2
    return 1
}

stop() {
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    answers) answers ;;
    *) echo "usage: $0 start|stop|answers" >&2; exit 2 ;;
esac
