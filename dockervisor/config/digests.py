"""sha256, cheaply: of the overrides file (provenance) and of how a container
runs (fingerprint)."""

from __future__ import annotations


def digest(data: bytes) -> str:
    """sha256 hex of a file's bytes: what build records of the overrides file."""
    return sha256(data).hexdigest()


def sha256(data: bytes):  # type: ignore[no-untyped-def]
    """hashlib loads OpenSSL, some 3 ms at every start new; CPython's own
    sha256 module (`_sha2` from 3.12, `_sha256` before) gives the same digest
    for a tenth of that. hashlib where neither was built."""
    try:
        from _sha2 import sha256 as builtin  # type: ignore[import-not-found]
    except ImportError:
        try:
            from _sha256 import sha256 as builtin  # type: ignore[import-not-found,no-redef]
        except ImportError:
            from hashlib import sha256 as builtin  # type: ignore[assignment]
    return builtin(data)
