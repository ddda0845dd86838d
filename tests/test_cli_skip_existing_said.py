"""``segment --skip-existing``'s line reads as what happened: none skipped is not said
("skipped 0 of 2 images whose labels and recipe are there; redoing A03.tif: …" before), all
skipped says all, and one image skipped of one is named ("skipped 1 of 1 images …" before)."""

from pathlib import Path

import pytest

from tessella.cli._skip_existing import _say_skipped_existing

FOLDER, OUT = Path("fold"), Path("fold_out")


@pytest.mark.parametrize(
    ("skipped", "redo", "total", "said"),
    [
        # the acceptance run: A03's labels cut to 14 of 15 planes, blank.tif never written
        (
            [],
            {OUT / "A03.tif": "labels file not of its recipe's shape"},
            2,
            "redoing A03.tif: labels file not of its recipe's shape",
        ),
        (
            [],
            {OUT / "c.tif": "recipe unreadable (not JSON)", OUT / "b.tif": "incomplete"},
            3,
            "redoing incomplete b.tif; redoing c.tif: recipe unreadable (not JSON)",
        ),
        (
            [FOLDER / "a.tif"],
            {OUT / "b.tif": "incomplete"},
            4,
            "skipped 1 of 4 images whose labels and recipe are there (a.tif); "
            "redoing incomplete b.tif",
        ),
        (
            [FOLDER / "a.tif", FOLDER / "b.tif"],
            {},
            2,
            "skipped all 2 images: their labels and recipe are there (a.tif, b.tif)",
        ),
        ([Path("in.zarr")], {}, 1, "skipped in.zarr: its labels and recipe are there"),
    ],
)
def test_the_line_says_what_was_skipped_and_redone(skipped, redo, total, said, capsys):
    _say_skipped_existing(skipped, redo, total)
    assert capsys.readouterr().err == said + "\n"


def test_nothing_skipped_nor_redone_is_not_said(capsys):
    _say_skipped_existing([], {}, 3)  # every image new: segmented as without the option
    assert capsys.readouterr().err == ""
