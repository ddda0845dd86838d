"""``tessella segment`` on a stack whose file gives a Z spacing but no pixel size in Y and X
writes the labels without a pixel size, with a warning that names the output the user asked
for, not the staging folder it is written in first (user test s31/t8, finding 3: the warning
named "out/.NAME.tessella-staging/new/NAME: written without a pixel size")."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.cli import main


def test_the_warning_names_the_output_not_its_staging_folder(tmp_path, capsys):
    stack = np.random.default_rng(0).integers(0, 255, (2, 48, 48), np.uint8)
    source = tmp_path / "zonly.tif"
    tifffile.imwrite(source, stack, imagej=True, metadata={"axes": "ZYX", "spacing": 50})
    out = tmp_path / "zonly.labels.tif"
    args = ["segment", str(source), "-o", str(out), "--model", "em-membranes2d"]
    assert main([*args, "-q", "--device", "cpu"]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "pixel size" in line]
    assert any(line.startswith(f"warning: {out}: written without a pixel size") for line in said)
    assert not any("tessella-staging" in line for line in said), said
