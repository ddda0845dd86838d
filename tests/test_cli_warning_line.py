"""A warning raised while a progress bar is drawn is printed on a line of its own: the bar is
cleared first and drawn again below, so a terminal shows "warning: ..." at the start of its
line (it was appended to the bar: "E03.tif: 100%|####| 1/1 [...]warning: ...")."""

from __future__ import annotations

import tifffile

from tessella.cli import main
from tests.conftest import DATA


def _shown_lines(stream: str) -> list[str]:
    """What a terminal shows of ``stream``: each line as left by its last carriage return."""
    return [line.rsplit("\r", 1)[-1] for line in stream.split("\n")]


def test_a_warning_during_the_progress_bar_starts_its_own_line(tmp_path, capsys):
    # BBBC010's brightfield/ folder holds the GFP channel in this copy: worms2d warns of an
    # image unlike its training images while its tile bar is drawn
    image = tifffile.imread(DATA / "worms_bbbc010" / "brightfield" / "E03.tif")
    tifffile.imwrite(tmp_path / "E03.tif", image)
    command = ["segment", str(tmp_path / "E03.tif"), "-o", str(tmp_path / "out.tif")]
    assert main([*command, "--model", "worms2d", "--device", "cpu", "--no-tta"]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.split("\n") if "looks unlike" in line]
    assert len(warned) == 1, err
    assert "%|" in err  # a progress bar was drawn (the case this test is about)
    assert [line for line in _shown_lines(err) if "looks unlike" in line][0].startswith(
        "warning: "
    ), err
