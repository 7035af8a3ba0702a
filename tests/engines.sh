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
# containerd), pid file and bridge, and no iptables. The bridge's name and
# subnet and the sshd's port are the run's own, probed at start: the first
# dcvtbrN that `ip link add` can create (creating it is what claims it, so two
# runs starting at once get two names), the first /24 among 172.31.x, 172.30.x
# and 10.213.x that no address or route on the host overlaps (searched from an
# offset given by N, so two runs do not race for the same one), and a port
# the kernel gives, retried when sshd cannot bind it. Another run's second
# engine, or anything else holding dcvtbr0 or 172.31.250.0/24, is stepped
# around, never a reason to skip. The chosen ones are in DIR/bridge and in the
# env file (DOCKERVISOR_TEST_ENGINE2_BRIDGE, DOCKERVISOR_TEST_ENGINE2_SUBNET).
# With no iptables: published ports go through docker's userland proxy, so the two
# engines cannot publish the same host port. No registry is reachable: the
# tests give it their busybox base image with `docker save | docker load`.
# `stop-engine2` and `start-engine2` stop and start it alone, for a test of
# an engine that does not answer. Every daemon runs in
# a session of its own with its output in a log file under DIR: nothing is
# left holding the caller's stdout.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

BRIDGE_PREFIX=dcvtbr
BRIDGE_TRIES=100

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

# The first free dcvtbrN, created (so claimed) here; prints N.
claim_bridge() {
    local n
    for n in $(seq 0 $((BRIDGE_TRIES - 1))); do
        if ip link add "$BRIDGE_PREFIX$n" type bridge 2>/dev/null; then
            echo "$n"
            return 0
        fi
    done
    say "no free bridge name among $BRIDGE_PREFIX""0..$((BRIDGE_TRIES - 1))"
    return 1
}

# OFFSET: the first candidate /24 (as its gateway/24) no address or route of the host overlaps.
free_subnet() {
    { ip -4 -o addr show; ip -4 route show table all; } | python3 -c '
import ipaddress, re, sys
taken = []
for line in sys.stdin:
    for word in re.findall(r"\b\d+\.\d+\.\d+\.\d+(?:/\d+)?\b", line):
        net = ipaddress.ip_network(word, strict=False)
        if net.prefixlen > 0:  # a default route overlaps everything and holds nothing
            taken.append(net)
candidates = [ipaddress.ip_network(f"{a}.{b}.{c}.0/24")
              for a, b in (("172", "31"), ("172", "30"), ("10", "213"))
              for c in range(250, 0, -1)]
offset = int(sys.argv[1]) % len(candidates)
for net in candidates[offset:] + candidates[:offset]:
    if not any(net.overlaps(t) for t in taken):
        print(f"{net.network_address + 1}/24")
        break
else:
    sys.exit("no free /24 among the candidates")
' "$1"
}

start_engine2() {
    local dir=$1/docker2 n cidr
    mkdir -p "$dir/data" "$dir/exec"
    echo '{}' >"$dir/daemon.json" # not /etc/docker/daemon.json: that one is the first engine's
    n=$(claim_bridge)
    echo "$BRIDGE_PREFIX$n" >"$1/bridge" # stop removes only the bridge this start made
    cidr=$(free_subnet "$((n * 7))")
    ip addr add "$cidr" dev "$BRIDGE_PREFIX$n"
    ip link set "$BRIDGE_PREFIX$n" up
    say "second engine: bridge $BRIDGE_PREFIX$n, subnet $cidr"
    launch_engine2 "$1"
    {
        echo "export DOCKERVISOR_TEST_ENGINES_DIR=$1"
        echo "export DOCKERVISOR_TEST_ENGINE2=unix://$dir/docker.sock"
        echo "export DOCKERVISOR_TEST_ENGINE2_BRIDGE=$BRIDGE_PREFIX$n"
        echo "export DOCKERVISOR_TEST_ENGINE2_SUBNET=$cidr"
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
        --bridge "$(cat "$1/bridge")" \
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
    local dir=$1/ssh try
    mkdir -p "$dir/bin" /run/sshd
    chmod 700 "$dir"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" -C dockervisor-test-host
    ssh-keygen -q -t ed25519 -N '' -f "$dir/id" -C dockervisor-test-client
    cp "$dir/id.pub" "$dir/authorized_keys"
    printf '#!/bin/sh\nexec /usr/bin/ssh -F %s "$@"\n' "$dir/config" >"$dir/bin/ssh"
    chmod 755 "$dir/bin/ssh"
    # The free port can be taken by someone else before sshd binds it: then another one.
    for try in 1 2 3 4 5; do
        if launch_sshd "$dir" "$(free_port)"; then
            {
                echo "export DOCKERVISOR_TEST_SSH_HOST=ssh://root@127.0.0.1"
                echo "export DOCKERVISOR_TEST_SSH_PATH=$dir/bin"
            } >>"$1/env"
            return 0
        fi
        [ "$try" = 5 ] || say "sshd could not bind its port; trying another"
    done
    say "sshd did not let the run's key in; the end of $dir/sshd.log:"
    tail -n 20 "$dir/sshd.log" >&2
    return 1
}

launch_sshd() { # SSHDIR PORT: 0 once the run's key gets in; 1 if sshd could not bind or did not answer in 20 s
    local dir=$1 port=$2
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
    : >"$dir/sshd.log"
    setsid "$(command -v sshd)" -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 40); do
        "$dir/bin/ssh" 127.0.0.1 true >/dev/null 2>&1 && return 0
        grep -q 'Cannot bind\|Address already in use' "$dir/sshd.log" && return 1
        sleep 0.5
    done
    stop_pidfile "$dir/sshd.pid"
    return 1
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
    local bridge
    bridge=$(cat "$dir/bridge" 2>/dev/null) || bridge=""
    if [ -n "$bridge" ] && ip link show "$bridge" >/dev/null 2>&1; then
        ip link del "$bridge" || true
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
