"""Every location dockervisor uses; `DOCKERVISOR_HOME` moves them all."""

from __future__ import annotations

import os


def home() -> str:
    configured = os.environ.get("DOCKERVISOR_HOME")
    if configured:
        return os.path.abspath(configured)
    return os.path.join(os.path.expanduser("~"), ".dockervisor")


def families_dir() -> str:
    return os.path.join(home(), "families")


def family_state_file(image: str) -> str:
    return os.path.join(families_dir(), f"{image}.json")


def family_lock_file(image: str) -> str:
    return os.path.join(home(), "locks", f"{image}.lock")


def family_history_file(image: str) -> str:
    return os.path.join(home(), "history", f"{image}.jsonl")


def family_previous_history_file(image: str) -> str:
    """The history before the last rotation; code that removes or lists history files needs both."""
    return family_history_file(image) + ".1"


def scratch_dir() -> str:
    """Short-lived files such as generated env files; user-only like the rest."""
    return os.path.join(home(), "tmp")


def ensure_private_dir(path: str) -> str:
    """Create `path` and its missing parents as 0700 directories."""
    if not os.path.isdir(path):
        parent = os.path.dirname(path)
        if parent and parent != path:
            ensure_private_dir(parent)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    return path
