"""The data options of `start`, `backup` and `restore` where they do not belong."""

from __future__ import annotations

import pytest

from dockervisor.cli import main


@pytest.mark.parametrize(
    "argv, words",
    [
        (["start", "last", "app", "--snapshot"], "--snapshot applies to `start new`"),
        (["start", "new", "app", "--with-data"], "--with-data applies to start last|stable|CONTAINER"),
        (["restore", "app"], "the following arguments are required: FILE"),
        (["backup", "Bad"], "invalid IMAGENAME"),
    ],
)
def test_data_options_in_the_wrong_place_are_usage_errors(
    argv: list[str], words: str, capsys: pytest.CaptureFixture
) -> None:
    with pytest.raises(SystemExit) as raised:
        raise SystemExit(main(argv))
    assert raised.value.code == 2
    assert words in capsys.readouterr().err
