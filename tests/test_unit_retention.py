"""The pure retention decision (dockervisor/retention.py), table by table: no I/O."""

from __future__ import annotations

import pytest

from dockervisor.config import retention
from dockervisor.engine.query import names_image

X, R, C, D = "exited", "running", "created", "dead"

# (members newest first, last, stable, keep) -> (removed, kept with reasons)
CONTAINER_CASES = {
    "nothing": ([], None, None, 2, [], {}),
    "fewer stopped than keep": ([("a", R), ("b", X)], "a", None, 2, [], {"a": "running", "b": "newest"}),
    "beyond keep, newest first": (
        [("a", R), ("b", X), ("c", X), ("d", X), ("e", X)], "a", None, 2,
        ["d", "e"], {"a": "running", "b": "newest", "c": "newest"},
    ),
    "marks are kept and do not count": (
        [("a", X), ("b", X), ("c", X), ("d", X), ("e", X)], "b", "e", 1,
        ["c", "d"], {"a": "newest", "b": "last", "e": "stable"},
    ),
    "a running container is never removed, even old": (
        [("a", X), ("b", X), ("c", R)], "c", None, 0, ["a", "b"], {"c": "running"},
    ),
    "paused, restarting and removing are not stopped": (
        [("a", "paused"), ("b", "restarting"), ("c", "removing"), ("d", X)], None, None, 0,
        ["d"], {"a": "paused", "b": "restarting", "c": "removing"},
    ),
    "created and dead count as stopped": (
        [("a", C), ("b", D), ("c", X)], None, None, 1, ["b", "c"], {"a": "newest"},
    ),
    "keep all": ([("a", X), ("b", X)], None, None, None, [], {"a": "newest", "b": "newest"}),
    "keep 0 leaves only the marks and what runs": (
        [("a", R), ("b", X), ("c", X)], "a", "c", 0, ["b"], {"a": "running", "c": "stable"},
    ),
    "last and stable on one container": (
        [("a", X), ("b", X)], "b", "b", 0, ["a"], {"b": "last"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", CONTAINER_CASES.values(), ids=CONTAINER_CASES.keys())
def test_plan_containers(case: tuple) -> None:
    members, last, stable, keep, removed, kept = case
    plan = retention.plan_containers(members, last, stable, keep)
    assert plan.remove == removed
    assert plan.kept == kept


KEEP_CASES = [
    (5, 1, 5), ("5", 1, 5), ("all", 1, None), (1, 1, 1), ("0", 0, 0), (10**6, 1, 10**6),
    (0, 1, ValueError), ("0", 1, ValueError), (-1, 1, ValueError), (True, 1, ValueError),
    (2.0, 1, ValueError), ("2.5", 1, ValueError), ("", 1, ValueError), (" 5", 1, ValueError),
    ("٣", 1, ValueError), ("ALL", 1, ValueError), (None, 1, ValueError), ([5], 1, ValueError),
]  # fmt: skip


@pytest.mark.parametrize("value, minimum, expected", KEEP_CASES)
def test_parse_keep(value: object, minimum: int, expected: object) -> None:
    if expected is ValueError:
        with pytest.raises(ValueError, match="whole number"):
            retention.parse_keep(value, minimum)
    else:
        assert retention.parse_keep(value, minimum) == expected


def image(hex_digit: str, tags: tuple[str, ...] = (), digests: tuple[str, ...] = (), **more: object) -> dict:
    return {"Id": f"sha256:{hex_digit * 64}", "RepoTags": list(tags), "RepoDigests": list(digests), **more}


NAMES_CASES = [
    ("sha256:" + "a" * 64, image("a"), True),
    ("a" * 64, image("a"), True),
    ("aaaaaaaaaaaa", image("a"), True),
    ("aaaaaaaaaaab", image("a"), False),
    ("aaaa", image("a"), False),  # too short for an ID: a family named so is a tag
    ("app", image("a", ("app:latest",)), True),
    ("app:latest", image("a", ("app:latest",)), True),
    ("app:v1", image("a", ("app:latest",)), False),
    ("app2", image("a", ("app:latest",)), False),
    ("registry:5000/app", image("a", ("registry:5000/app:latest",)), True),
    ("app@sha256:" + "f" * 64, image("a", (), ("app@sha256:" + "f" * 64,)), True),
    ("app@sha256:" + "e" * 64, image("a", (), ("app@sha256:" + "f" * 64,)), False),
]


@pytest.mark.parametrize("reference, document, expected", NAMES_CASES)
def test_names_image(reference: str, document: dict, expected: bool) -> None:
    assert names_image(reference, document) is expected


A, B, CUR, OTHER = image("a"), image("b"), image("c", ("app:latest",)), image("d", ("other:1",))
SHARED = image("e", ("app:latest", "app:v1"))

# (candidates, users that stay, own tag) -> (references to rmi, kept reasons)
IMAGE_CASES = {
    "untagged and unused goes": ([A], [], None, [A["Id"]], {}),
    "used by a container of any family stays": (
        [A, B], [("dcv_x_1", "aaaaaaaaaaaa"), ("web", B["Id"])], None,
        [], {A["Id"]: "used by container dcv_x_1", B["Id"]: "used by container web"},
    ),
    "the family's tag stays in a prune": ([CUR], [], None, [], {CUR["Id"]: "tagged app:latest"}),
    "another tag always stays": ([OTHER], [], "app:latest", [], {OTHER["Id"]: "tagged other:1"}),
    "forget removes the tag's image": ([CUR, A], [], "app:latest", [CUR["Id"], A["Id"]], {}),
    "forget only untags an image that keeps other tags": (
        [SHARED], [], "app:latest", ["app:latest"], {SHARED["Id"]: "also tagged app:v1"},
    ),
    "forget keeps the tag's image if another container uses it": (
        [CUR], [("web", "app")], "app:latest", [], {CUR["Id"]: "used by container web"},
    ),
    "one image named twice is decided once": ([A, A], [], None, [A["Id"]], {}),
}  # fmt: skip


@pytest.mark.parametrize("case", IMAGE_CASES.values(), ids=IMAGE_CASES.keys())
def test_plan_images(case: tuple) -> None:
    candidates, users, own_tag, removed, kept = case
    plan = retention.plan_images(candidates, users, own_tag)
    assert plan.remove == removed
    assert plan.kept == kept


def chain(*layers: str, size: int, hex_digit: str = "0", created: str = "") -> dict:
    return {"Id": f"sha256:{hex_digit * 64}", "Size": size, "Created": created, "RootFS": {"Layers": list(layers)}}


BASE = chain("L1", "L2", size=1000, hex_digit="0")  # an image that stays, FROM which the family builds

# (removed, staying, known prefix sizes) -> bytes freed per removed image
SIZE_CASES = {
    "only the layer past the shared base": (
        [chain("L1", "L2", "x", size=1003, hex_digit="1")], [chain("L1", "L2", "y", size=1005, hex_digit="2")],
        {("L1", "L2"): 1000}, {"1": 3},
    ),
    "a staying image that is a prefix gives the size": (
        [chain("L1", "L2", "x", size=1003, hex_digit="1")], [BASE], {}, {"1": 3},
    ),
    "unknown shared prefix: a shorter known one, counting too much": (
        [chain("L1", "L2", "d", "x", size=1503, hex_digit="1")], [chain("L1", "L2", "d", "y", size=1505, hex_digit="2")],
        {("L1", "L2"): 1000}, {"1": 503},
    ),
    "nothing shared: the whole image": ([chain("z", size=70, hex_digit="1")], [BASE], {}, {"1": 70}),
    "a layer two removed images share is counted once": (
        [chain("L1", "L2", "d", size=1500, hex_digit="1", created="1"),
         chain("L1", "L2", "d", "x", size=1503, hex_digit="2", created="2")],
        [BASE], {}, {"1": 500, "2": 3},
    ),
    "fully shared: nothing": (
        [chain("L1", "L2", size=1000, hex_digit="1")], [chain("L1", "L2", "y", size=1005, hex_digit="2")],
        {("L1", "L2"): 1000}, {"1": 0},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", SIZE_CASES.values(), ids=SIZE_CASES.keys())
def test_unique_sizes(case: tuple) -> None:
    removed, staying, known, expected = case
    sizes = retention.unique_sizes(removed, staying, known)
    assert sizes == {f"sha256:{digit * 64}": size for digit, size in expected.items()}


@pytest.mark.parametrize(
    "layers, history, expected",
    [
        (("a", "b"), [0, 0, 30, 0, 1000], {("a",): 1000, ("a", "b"): 1030}),  # newest step first
        (("a", "b"), [30, 1000, 7], {}),  # more sized steps than layers: claim nothing
        (("a", "b", "c"), [30, 1000], {}),  # a layer of 0 bytes: cannot tell which
        ((), [], {}),
    ],
)
def test_cumulative_sizes_from_history(layers: tuple, history: list[int], expected: dict) -> None:
    assert retention.cumulative_sizes(layers, history) == expected


@pytest.mark.parametrize(
    "size, text",
    [(0, "0B"), (3, "3B"), (999, "999B"), (1000, "1kB"), (12345, "12.3kB"), (1985472, "1.99MB"),
     (2 * 10**9, "2GB"), (10**19, "1e+04PB")],
)  # fmt: skip
def test_human_size_reads_like_docker(size: int, text: str) -> None:
    assert retention.human_size(size) == text
