#!/bin/sh
# Install dockervisor for every user (run as root), or under PREFIX:
#
#   sudo ./install.sh                   # /usr/local/bin/dockervisor
#   PREFIX=$HOME/.local ./install.sh    # $HOME/.local/bin/dockervisor
#   ./install.sh --uninstall            # remove it again (same PREFIX)
#
# Needs only python3 (3.9 or newer): no pip, so it works where the system
# Python refuses pip installs. Running it again upgrades in place.
set -eu

PREFIX="${PREFIX:-/usr/local}"
MARKER="# dockervisor launcher, written by install.sh"

die() {
    echo "install.sh: error: $*" >&2
    exit 1
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

case "${1:-}" in
    "") ;;
    --uninstall) uninstall; exit 0 ;;
    -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

source_dir="$(cd "$(dirname "$0")" && pwd)"
[ -f "$source_dir/dockervisor/cli/__init__.py" ] || die "run this from a dockervisor checkout"
command -v python3 >/dev/null 2>&1 || die "python3 is required"

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
generate 'from dockervisor.completion import script; print(script("bash"), end="")' > "$bash_completion.new"
generate 'from dockervisor.completion import script; print(script("zsh"), end="")' > "$zsh_completion.new"
generate 'from dockervisor.manpage import render; print(render(), end="")' > "$man_page.new"

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
