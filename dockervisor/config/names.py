"""Validation of every name before it reaches a path, a filter or a docker argv."""

from __future__ import annotations

import re
import time

from dockervisor.core.errors import EXIT_USAGE, DockervisorError

# Docker's grammar for one path component of a repository name: lowercase
# letters and digits, separated by ".", "_", "__" or a run of "-".
_IMAGE_NAME = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_IMAGE_NAME_MAX = 128
# Docker's rule for container and volume names.
_OBJECT_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
_OBJECT_NAME_MAX = 255

CONTAINER_PREFIX = "dcv_"
# An environment variable's name, as docker and the shells take it.
ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_image_name(name: str) -> bool:
    return len(name) <= _IMAGE_NAME_MAX and _IMAGE_NAME.fullmatch(name) is not None


def check_image_name(name: str) -> str:
    """Return `name` if it is a one-component image name, else raise."""
    if not is_image_name(name):
        raise DockervisorError(
            f"invalid IMAGENAME {name!r}: use lowercase letters and digits, "
            "separated by '.', '_' or '-' (no tag, no '/')",
            EXIT_USAGE,
        )
    return name


def is_container_name(name: str) -> bool:
    return len(name) <= _OBJECT_NAME_MAX and _OBJECT_NAME.fullmatch(name) is not None


def check_container_name(name: str) -> str:
    """Return `name` if docker could have given it to a container, else raise."""
    if not is_container_name(name):
        raise DockervisorError(
            f"invalid container name {name!r}: dockervisor containers are named "
            "dcv_IMAGENAME_SUFFIX",
            EXIT_USAGE,
        )
    return name


_SUFFIX = re.compile(r"[0-9]{14}(?:_[0-9]+)?")


def is_suffix(word: str) -> bool:
    """What the tables show of a container's name: `20261129041012`, `..._2`."""
    return bool(_SUFFIX.fullmatch(word))


def container_for(family: str, word: str) -> str:
    """A container of `family` as a person types it: its full name, or the
    suffix the tables show (`20261129041012`, `20261129041012_2`)."""
    if is_suffix(word):
        return f"{CONTAINER_PREFIX}{family}_{word}"
    return check_container_name(word)


def is_volume_name(name: str) -> bool:
    return is_container_name(name)  # docker holds volume names to the same rule


def new_container_name(family: str, taken: set[str], now: float | None = None) -> str:
    """`dcv_IMAGE_YYYYmmddHHMMSS`, with `_2`, `_3`... when that second is taken."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(time.time() if now is None else now))
    base = f"{CONTAINER_PREFIX}{family}_{stamp}"
    name, counter = base, 1
    while name in taken:
        counter += 1
        name = f"{base}_{counter}"
    return name


def volume_name_for(family: str, mount_point: str) -> str:
    """The named volume for an image's VOLUME: `/var/www` in `app` gives `app_var_www`."""
    return f"{family}_{mount_point.strip('/').replace('/', '_')}"


def is_env_value(value: object) -> bool:
    """A value an env file line can carry: a string without a newline or NUL."""
    return isinstance(value, str) and "\n" not in value and "\0" not in value


# Docker's reference grammar (distribution/reference): [DOMAIN[:PORT]/]PATH[:TAG][@DIGEST].
_DOMAIN_PART = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REFERENCE = (  # compiled on first use (re caches it): only pull needs it
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]{{1,5}})?/)?{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
_IMAGE_ID = r"sha256:[0-9a-f]{64}"
_REFERENCE_MAX = 512


def check_image_reference(text: str) -> str:
    """Return `text` if it names an image as docker pull and docker tag take it
    (`registry.example.com:5000/team/app:1.4`, `app@sha256:...`, or an image
    ID as `sha256:...`), else raise."""
    if len(text) > _REFERENCE_MAX or not (re.fullmatch(_REFERENCE, text) or re.fullmatch(_IMAGE_ID, text)):
        raise DockervisorError(
            f"invalid image reference {text!r}: use [REGISTRY/]NAME[:TAG][@DIGEST], as docker "
            "pull takes it (the name in lowercase), or an image ID as sha256:...",
            EXIT_USAGE,
        )
    return text


def names_image(reference: str, document: dict) -> bool:
    """Whether a container's image reference, as `docker ps` shows it, is this
    image (an inspect document): one of its tags first (a family named `cafe`
    is a tag, not an ID prefix), one of its digests, or its ID, in full or
    as docker shortens it (12 hex digits or more)."""
    if "@" in reference:
        return reference in (document.get("RepoDigests") or [])
    tagged = reference if ":" in reference.rsplit("/", 1)[-1] else f"{reference}:latest"
    if tagged in (document.get("RepoTags") or []):
        return True
    image_id = str(document.get("Id", ""))
    bare = reference.removeprefix("sha256:")
    return reference == image_id or (len(bare) >= 12 and image_id.split(":", 1)[-1].startswith(bare))
