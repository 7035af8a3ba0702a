#!/usr/bin/env bash
# The extra engines the several-engines tests need, started and stopped by
# tests/run (and by hand, the same way):
#
#   tests/engines.sh start DIR   a second dockerd and an sshd of the run's own, under DIR
#   tests/engines.sh stop DIR    stop both and remove what start made (safe to repeat)
#
# start writes DIR/env, lines of `export NAME=VALUE` for the tests:
#   DOCKERVISOR_TEST_ENGINE2   unix://DIR/docker2/docker.sock, the second engine
#   DOCKERVISOR_TEST_SSH_HOST  ssh://root@127.0.0.1, the default engine reached over ssh
#   DOCKERVISOR_TEST_SSH_PATH  a directory to put first on PATH: its `ssh` adds
#                              `-F DIR/ssh/config`, so nothing in ~/.ssh is touched
#
# The second engine has its own socket, data root, exec root (so its own
# containerd), pid file and bridge (dcvtbr0, 172.31.250.1/24), and no
# iptables: published ports go through docker's userland proxy, so the two
# engines cannot publish the same host port. No registry is reachable: the
# tests give it their busybox base image with `docker save | docker load`.
# `stop-engine2` and `start-engine2` stop and start it alone, for a test of
# an engine that does not answer. Every daemon runs in
# a session of its own with its output in a log file under DIR: nothing is
# left holding the caller's stdout.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

BRIDGE=dcvtbr0
BRIDGE_CIDR=172.31.250.1/24

say() { echo "tests/engines.sh: $*" >&2; }

wait_until() { # TRIES COMMAND...: poll every 0.5 s
    local tries=$1
    shift
    for _ in $(seq 1 "$tries"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

start_engine2() {
    local dir=$1/docker2
    mkdir -p "$dir/data" "$dir/exec"
    echo '{}' >"$dir/daemon.json" # not /etc/docker/daemon.json: that one is the first engine's
    if ip link show "$BRIDGE" >/dev/null 2>&1; then
        say "the bridge $BRIDGE exists: is another run's second engine up? Stop it first"
        return 1
    fi
    ip link add "$BRIDGE" type bridge
    touch "$1/made-bridge" # stop removes only the bridge this start made
    ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    launch_engine2 "$1"
    {
        echo "export DOCKERVISOR_TEST_ENGINES_DIR=$1"
        echo "export DOCKERVISOR_TEST_ENGINE2=unix://$dir/docker.sock"
    } >>"$1/env"
}

launch_engine2() {
    local dir=$1/docker2
    setsid dockerd \
        --config-file "$dir/daemon.json" \
        --host "unix://$dir/docker.sock" \
        --data-root "$dir/data" \
        --exec-root "$dir/exec" \
        --pidfile "$dir/docker.pid" \
        --bridge "$BRIDGE" \
        --iptables=false \
        >>"$dir/dockerd.log" 2>&1 </dev/null &
    if ! wait_until 120 docker --host "unix://$dir/docker.sock" info; then
        say "the second dockerd did not answer within 60s; the end of $dir/dockerd.log:"
        tail -n 20 "$dir/dockerd.log" >&2
        return 1
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_sshd() {
    local dir=$1/ssh port
    port=$(free_port)
    mkdir -p "$dir/bin" /run/sshd
    chmod 700 "$dir"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" -C dockervisor-test-host
    ssh-keygen -q -t ed25519 -N '' -f "$dir/id" -C dockervisor-test-client
    cp "$dir/id.pub" "$dir/authorized_keys"
    cat >"$dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxStartups 100:30:200
MaxSessions 100
EOF
    printf '[127.0.0.1]:%s %s\n' "$port" "$(cut -d' ' -f1-2 "$dir/host_key.pub")" >"$dir/known_hosts"
    cat >"$dir/config" <<EOF
Host 127.0.0.1
    Port $port
    User root
    IdentityFile $dir/id
    IdentitiesOnly yes
    UserKnownHostsFile $dir/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
    LogLevel ERROR
EOF
    printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$dir/config" >"$dir/bin/ssh"
    chmod 755 "$dir/bin/ssh"
    setsid "$(command -v sshd)" -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 &
    if ! wait_until 40 "$dir/bin/ssh" 127.0.0.1 true; then
        say "sshd did not let the run's key in within 20s; the end of $dir/sshd.log:"
        tail -n 20 "$dir/sshd.log" >&2
        return 1
    fi
    {
        echo "export DOCKERVISOR_TEST_SSH_HOST=ssh://root@127.0.0.1"
        echo "export DOCKERVISOR_TEST_SSH_PATH=$dir/bin"
    } >>"$1/env"
}

stop_pidfile() { # PIDFILE: TERM, wait up to 30 s, then KILL
    local pid
    pid="$(cat "$1" 2>/dev/null)" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}

start() {
    local dir=$1
    mkdir -p "$dir"
    : >"$dir/env"
    start_engine2 "$dir"
    start_sshd "$dir"
}

stop() {
    local dir=$1
    stop_pidfile "$dir/ssh/sshd.pid"
    # Containers the tests left on the second engine go with it: it is the run's own.
    stop_pidfile "$dir/docker2/docker.pid"
    if [ -e "$dir/made-bridge" ] && ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link del "$BRIDGE" || true
    fi
    # Mounts dockerd left under its roots (overlay layers, netns), then the files.
    { grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" || true; done
    rm -rf "$dir"
}

case "${1:-}:${2:-}" in
    start:?*) start "$2" ;;
    stop:?*) stop "$2" ;;
    stop-engine2:?*) stop_pidfile "$2/docker2/docker.pid" ;;
    start-engine2:?*) launch_engine2 "$2" ;;
    *) echo "usage: $0 start|stop|stop-engine2|start-engine2 DIR" >&2; exit 2 ;;
esac
