#!/usr/bin/env bash
# A two-node Swarm of the run's own, for the Swarm tests (started and stopped
# by tests/run, and by hand the same way):
#
#   tests/swarm.sh start DIR   two private dockerd, a swarm of them, under DIR
#   tests/swarm.sh stop DIR    leave the swarm, stop both, remove what start made (safe to repeat)
#
# start writes DIR/env, lines of `export NAME=VALUE`:
#   DOCKERVISOR_TEST_SWARM          unix://DIR/n1/docker.sock, the manager
#   DOCKERVISOR_TEST_SWARM_WORKER   unix://DIR/n2/docker.sock, the worker
#   DOCKERVISOR_TEST_SWARM_NODES    the two node IDs, manager first
#
# Both nodes have the machine's hostname, so each gets a label to be told
# apart by (and pinned with): dcvt.node=n1 or n2.
#
# Each engine has its own socket, data root, exec root, pidfile and bridge (a
# dcvsbrN claimed by creating it, with a /24 of its own, as tests/engines.sh
# does) and no iptables. The engines share the host's network namespace, so
# each gets a docker_gwbridge of its own (bridge dcvsgwN) created before the
# swarm, or both would take over one host link named docker_gwbridge that
# outlives them; the swarm listens on the manager's bridge address with a
# port of its own and a data path port of its own (never 4789). Images reach
# the nodes through a registry (tests/registry.sh): the engines pull from
# 127.0.0.1 without TLS. Nothing is written to the caller's stdout.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

PREFIX=dcvsbr
GW_PREFIX=dcvsgw
TRIES=100

say() { echo "tests/swarm.sh: $*" >&2; }

wait_until() { # TRIES COMMAND...: poll every 0.5 s
    local tries=$1
    shift
    for _ in $(seq 1 "$tries"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

claim() { # PREFIX: the first free PREFIXn, created (so claimed) here; prints n
    local n
    for n in $(seq 0 $((TRIES - 1))); do
        if ip link add "$1$n" type bridge 2>/dev/null; then
            echo "$n"
            return 0
        fi
    done
    say "no free bridge name among $1""0..$((TRIES - 1))"
    return 1
}

free_subnet() { # OFFSET: a /24 (as its gateway/24) no address or route of the host overlaps
    { ip -4 -o addr show; ip -4 route show table all; } | python3 -c '
import ipaddress, re, sys
taken = []
for line in sys.stdin:
    for word in re.findall(r"\b\d+\.\d+\.\d+\.\d+(?:/\d+)?\b", line):
        net = ipaddress.ip_network(word, strict=False)
        if net.prefixlen > 0:
            taken.append(net)
candidates = [ipaddress.ip_network(f"10.{b}.{c}.0/24") for b in (214, 215) for c in range(250, 0, -1)]
offset = int(sys.argv[1]) % len(candidates)
for net in candidates[offset:] + candidates[:offset]:
    if not any(net.overlaps(t) for t in taken):
        print(f"{net.network_address + 1}/24")
        break
else:
    sys.exit("no free /24 among the candidates")
' "$1"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("0.0.0.0", 0)); print(s.getsockname()[1])'
}

free_udp_port() { # swarm takes a data path port in 1024-49151 only: below the kernel's ephemeral range
    python3 -c '
import random, socket
for _ in range(200):
    port = random.randint(20000, 32000)
    try:
        with socket.socket(type=socket.SOCK_DGRAM) as s:
            s.bind(("0.0.0.0", port))
    except OSError:
        continue
    print(port)
    break
else:
    raise SystemExit("no free UDP port in 20000-32000")
'
}

node() { # DIR NAME: start one private engine with its bridge; prints nothing
    local dir=$1/$2 n cidr
    mkdir -p "$dir/data" "$dir/exec"
    echo '{}' >"$dir/daemon.json"
    n=$(claim "$PREFIX")
    echo "$PREFIX$n" >>"$1/links"
    cidr=$(free_subnet "$((n * 11 + 3))")
    ip addr add "$cidr" dev "$PREFIX$n"
    ip link set "$PREFIX$n" up
    echo "${cidr%/24}" >"$dir/address"
    setsid dockerd \
        --config-file "$dir/daemon.json" \
        --host "unix://$dir/docker.sock" \
        --data-root "$dir/data" \
        --exec-root "$dir/exec" \
        --pidfile "$dir/docker.pid" \
        --bridge "$PREFIX$n" \
        --iptables=false \
        >>"$dir/dockerd.log" 2>&1 </dev/null &
    if ! wait_until 120 docker --host "unix://$dir/docker.sock" info; then
        say "engine $2 did not answer within 60s; the end of $dir/dockerd.log:"
        tail -n 20 "$dir/dockerd.log" >&2
        return 1
    fi
    # Its own docker_gwbridge, before the swarm makes one on a host link of a shared name.
    local g gw
    g=$(claim "$GW_PREFIX")
    ip link del "$GW_PREFIX$g" # claimed by name; docker creates the link itself
    echo "$GW_PREFIX$g" >>"$1/links"
    gw=$(free_subnet "$((g * 13 + 101))")
    docker --host "unix://$dir/docker.sock" network create --subnet "${gw%.1/24}.0/24" \
        --opt com.docker.network.bridge.name="$GW_PREFIX$g" \
        --opt com.docker.network.bridge.enable_icc=false \
        --opt com.docker.network.bridge.enable_ip_masquerade=true \
        docker_gwbridge >/dev/null
    say "engine $2: bridge $PREFIX$n ($cidr), gateway bridge $GW_PREFIX$g"
}

start() {
    local dir=$1 m w port data token
    mkdir -p "$dir"
    : >"$dir/env"
    : >"$dir/links"
    node "$dir" n1
    node "$dir" n2
    m="unix://$dir/n1/docker.sock"
    w="unix://$dir/n2/docker.sock"
    port=$(free_port)
    data=$(free_udp_port)
    docker --host "$m" swarm init --advertise-addr "$(cat "$dir/n1/address"):$port" \
        --listen-addr "$(cat "$dir/n1/address"):$port" --data-path-port "$data" >/dev/null
    token=$(docker --host "$m" swarm join-token -q worker)
    docker --host "$w" swarm join --token "$token" --advertise-addr "$(cat "$dir/n2/address")" \
        --listen-addr "$(cat "$dir/n2/address"):$(free_port)" "$(cat "$dir/n1/address"):$port" >/dev/null
    if ! wait_until 60 test "$(docker --host "$m" node ls --format '{{.Status}}' | grep -c Ready)" = 2; then
        say "the worker did not join within 30s"
        return 1
    fi
    local id1 id2
    id1=$(docker --host "$m" info --format '{{.Swarm.NodeID}}')
    id2=$(docker --host "$w" info --format '{{.Swarm.NodeID}}')
    docker --host "$m" node update --label-add dcvt.node=n1 "$id1" >/dev/null
    docker --host "$m" node update --label-add dcvt.node=n2 "$id2" >/dev/null
    {
        echo "export DOCKERVISOR_TEST_SWARM=$m"
        echo "export DOCKERVISOR_TEST_SWARM_WORKER=$w"
        echo "export DOCKERVISOR_TEST_SWARM_NODES=\"$id1 $id2\""
    } >>"$dir/env"
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

stop() {
    local dir=$1 each link
    [ -d "$dir" ] || return 0
    for each in n2 n1; do
        if [ -S "$dir/$each/docker.sock" ]; then
            timeout 30 docker --host "unix://$dir/$each/docker.sock" swarm leave --force >/dev/null 2>&1 || true
        fi
        stop_pidfile "$dir/$each/docker.pid"
    done
    while read -r link; do
        if [ -n "$link" ] && ip link show "$link" >/dev/null 2>&1; then
            ip link del "$link" || true
        fi
    done <"$dir/links" 2>/dev/null || true
    { grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | while read -r mount; do umount -l "$mount" || true; done
    rm -rf "$dir"
}

case "${1:-}:${2:-}" in
    start:?*) start "$2" ;;
    stop:?*) stop "$2" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
