#!/bin/sh
# Install dockervisor for every user (run as root), or under PREFIX:
#
#   sudo ./install.sh                   # /usr/local/bin/dockervisor
#   PREFIX=$HOME/.local ./install.sh    # $HOME/.local/bin/dockervisor
#   sudo ./install.sh --with-engine     # and a Docker engine, if none answers
#   ./install.sh --uninstall            # remove it again (same PREFIX)
#
# Needs only python3 (3.9 or newer): no pip, so it works where the system
# Python refuses pip installs. Running it again upgrades in place. It checks
# that a Docker engine answers and says in one line what is missing if not
# (installing all the same: the engine may be a remote one). --with-engine,
# as root with apt, installs docker.io (and busybox-static, for the README's
# quickstart) and starts dockerd in the background, as tests/run does; an
# engine that already answers is left as it is.
set -eu

PREFIX="${PREFIX:-/usr/local}"
MARKER="# dockervisor launcher, written by install.sh"
DOCKERD_LOG="${DOCKERVISOR_DOCKERD_LOG:-/var/log/dockervisor-dockerd.log}"

die() {
    echo "install.sh: error: $*" >&2
    exit 1
}

say() {
    echo "install.sh: $*"
}

case "$PREFIX" in
    /*) ;;
    *) PREFIX="$(pwd)/$PREFIX" ;;
esac
lib_dir="$PREFIX/lib/dockervisor"
bin_file="$PREFIX/bin/dockervisor"
bash_completion="$PREFIX/share/bash-completion/completions/dockervisor"
zsh_completion="$PREFIX/share/zsh/site-functions/_dockervisor"
man_page="$PREFIX/share/man/man1/dockervisor.1"

uninstall() {
    if [ -e "$bin_file" ] && ! grep -q "^$MARKER" "$bin_file" 2>/dev/null; then
        die "$bin_file was not written by this script; leaving it alone"
    fi
    rm -f "$bin_file" "$bash_completion" "$zsh_completion" "$man_page"
    rm -rf "$lib_dir"
    echo "removed $bin_file, $lib_dir, its completion scripts and man page"
    echo "(state under each user's ~/.dockervisor and all containers are kept)"
}

# The Docker engine -----------------------------------------------------------

engine_answers() {
    command -v docker >/dev/null 2>&1 || return 1
    if command -v timeout >/dev/null 2>&1; then
        timeout 10 docker info >/dev/null 2>&1
    else
        docker info >/dev/null 2>&1
    fi
}

# The engine docker would talk to, as docker picks it (DOCKER_HOST first).
engine_name() {
    if [ -n "${DOCKER_HOST:-}" ]; then
        echo "DOCKER_HOST=$DOCKER_HOST"
    elif [ -n "${DOCKER_CONTEXT:-}" ]; then
        echo "DOCKER_CONTEXT=$DOCKER_CONTEXT"
    else
        echo "the local engine"
    fi
}

# Without --with-engine: one line on what is missing and how to get it.
check_engine() {
    if engine_answers; then
        return 0
    elif ! command -v docker >/dev/null 2>&1; then
        echo "install.sh: warning: no docker command: dockervisor drives one; on Debian or Ubuntu, \`sudo ./install.sh --with-engine\` installs Docker and starts its engine" >&2
    elif [ -n "${DOCKER_HOST:-}${DOCKER_CONTEXT:-}" ]; then
        echo "install.sh: warning: no Docker engine answers at $(engine_name): make it answer, or unset it and run \`sudo ./install.sh --with-engine\` for this machine's own" >&2
    else
        echo "install.sh: warning: no Docker engine answers: \`sudo ./install.sh --with-engine\` starts this machine's; for another machine's, set DOCKER_HOST or a docker context" >&2
    fi
}

# --with-engine needs root and apt, unless an engine answers already; checked
# before anything is installed, so that a refusal changes nothing.
can_set_up_engine() {
    engine_answers && return 0
    if [ -n "${DOCKER_HOST:-}${DOCKER_CONTEXT:-}" ]; then
        die "no Docker engine answers at $(engine_name); --with-engine starts only this machine's engine: unset it, or make that engine answer"
    fi
    [ "$(id -u)" = 0 ] || die "no Docker engine answers, and --with-engine installs and starts one as root: run \`sudo ./install.sh --with-engine\`"
    command -v apt-get >/dev/null 2>&1 \
        || die "no Docker engine answers, and --with-engine needs apt-get (Debian, Ubuntu); install Docker your own way, then run ./install.sh"
}

# ldd exits 1 for a static binary, so match its words, not its status.
static_busybox() {
    [ -x /bin/busybox ] && LC_ALL=C ldd /bin/busybox 2>&1 | grep -q "not a dynamic executable"
}

# As tests/run and tests/engine.sh do: dockerd in a session of its own, its
# output in a log file, never holding the caller's stdout (a pipe left open
# keeps whoever reads it waiting), then wait until it answers.
set_up_engine() {
    if engine_answers; then
        say "a Docker engine answers ($(engine_name)): nothing to install or start"
        return 0
    fi
    PATH="$PATH:/usr/sbin:/sbin"
    packages=""
    command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 || packages=" docker.io"
    static_busybox || packages="$packages busybox-static"
    if [ -n "$packages" ]; then
        say "installing${packages} with apt"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed (its error is above)"
        # shellcheck disable=SC2086 # one word per package
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null \
            || die "apt-get could not install$packages (its error is above); dockervisor itself is installed"
    fi
    if engine_answers; then  # the package's own service started it
        say "the Docker engine answers"
        return 0
    fi
    say "starting dockerd in the background (log: $DOCKERD_LOG)"
    echo "--- dockerd started by install.sh at $(date -u +%FT%TZ)" >>"$DOCKERD_LOG"
    setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    tries=0
    until engine_answers; do
        tries=$((tries + 1))
        if [ "$tries" -ge 120 ]; then
            tail -n 20 "$DOCKERD_LOG" >&2
            die "dockerd did not answer within 60s; the end of $DOCKERD_LOG is above; dockervisor itself is installed"
        fi
        sleep 0.5
    done
    say "the Docker engine answers; it does not come back after a reboot: where systemd runs, \`systemctl enable --now docker\` does that"
}

[ "$#" -le 1 ] || die "one argument at most (try --help)"
with_engine=""
case "${1:-}" in
    "") ;;
    --with-engine) with_engine=1 ;;
    --uninstall) uninstall; exit 0 ;;
    -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

source_dir="$(cd "$(dirname "$0")" && pwd)"
[ -f "$source_dir/dockervisor/cli/__init__.py" ] || die "run this from a dockervisor checkout"
command -v python3 >/dev/null 2>&1 || die "python3 is required"
if [ -n "$with_engine" ]; then
    can_set_up_engine
fi

# Resolve the real interpreter: a version-manager shim (pyenv's) costs tens of
# milliseconds on every run, and cron runs dockervisor often.
python="$(python3 -c 'import sys; print(sys.executable)')"
python3 -c 'import sys; sys.exit(sys.version_info < (3, 9))' \
    || die "python3 is $(python3 -V 2>&1); dockervisor needs 3.9 or newer"
case "$python" in
    *[[:space:]]*|"") die "the interpreter path '$python' cannot go in a #! line" ;;
esac

umask 022
mkdir -p "$PREFIX/lib" "$PREFIX/bin"

# Copy into a fresh directory and swap it in, so a failed copy never leaves a
# half-installed package behind, and an upgrade replaces the old one whole.
staging="$(mktemp -d "$PREFIX/lib/.dockervisor.XXXXXX")"
trap 'rm -rf "$staging" "$staging.old" "$bin_file.new"' EXIT
mkdir "$staging/dockervisor"
( cd "$source_dir" && find dockervisor -name '*.py' ) | while read -r file; do
    mkdir -p "$staging/$(dirname "$file")"
    cp "$source_dir/$file" "$staging/$file"
done
# Byte-compile now: users without write access to $lib_dir could not cache it.
"$python" -m compileall -q "$staging/dockervisor" >/dev/null
chmod 755 "$staging"

# -I: ignore PYTHON* variables and the user's site-packages; -S: skip site,
# since dockervisor needs nothing outside the standard library.
cat > "$bin_file.new" <<LAUNCHER
#!$python -IS
$MARKER
import sys
sys.path.insert(0, "$lib_dir")
from dockervisor.cli import main
sys.exit(main())
LAUNCHER
chmod 755 "$bin_file.new"

# Completion scripts and the man page, generated from the staged parser.
generate() {
    "$python" -S -c 'import sys; sys.path.insert(0, sys.argv[1]); exec(sys.argv[2])' "$staging" "$1"
}
trap 'rm -rf "$staging" "$staging.old" "$bin_file.new" "$bash_completion.new" "$zsh_completion.new" "$man_page.new"' EXIT
mkdir -p "$(dirname "$bash_completion")" "$(dirname "$zsh_completion")" "$(dirname "$man_page")"
generate 'from dockervisor.cli.completion import script; print(script("bash"), end="")' > "$bash_completion.new"
generate 'from dockervisor.cli.completion import script; print(script("zsh"), end="")' > "$zsh_completion.new"
generate 'from dockervisor.cli.manpage import render; print(render(), end="")' > "$man_page.new"

if [ -d "$lib_dir" ]; then
    mv "$lib_dir" "$staging.old"
fi
mv "$staging" "$lib_dir"
mv "$bin_file.new" "$bin_file"
mv "$bash_completion.new" "$bash_completion"
mv "$zsh_completion.new" "$zsh_completion"
mv "$man_page.new" "$man_page"
rm -rf "$staging.old"
trap - EXIT

echo "installed $("$bin_file" --version) as $bin_file (python: $python)"
echo "completion: $bash_completion, $zsh_completion; manual: man dockervisor ($man_page)"
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "note: $PREFIX/bin is not on PATH" ;;
esac

if [ -n "$with_engine" ]; then
    set_up_engine
else
    check_engine
fi
