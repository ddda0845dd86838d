"""``evaluate_ctc`` (``tessella evaluate RES GT --ctc``, ``tessella.evaluate_ctc``) given a
GT folder that is no Cell Tracking Challenge ground truth names the folder given and what
to give instead: the command line's checks of f1b51c5 (the folders swapped, GT the SEG
folder of NN_GT) are the engine's, so the Python call gets them too; an image folder, a
result folder or a dataset folder given as GT is told which NN_GT folder is beside it or
in it. Before, all of these said "neither SEG/man_segTTT.tif nor TRA/man_track.txt; give
the ground-truth folder NN_GT (with SEG/ and/or TRA/), not the image folder NN"."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.tracking import evaluate_ctc


@pytest.fixture
def dataset(tmp_path):
    """A dataset folder DS holding the images 01 and 02, their ground truths 01_GT and 02_GT
    (SEG) and a result 01_RES of 2 frames (one cell, track 1)."""
    ds = tmp_path / "DS"
    cell = np.zeros((16, 16), np.uint16)
    cell[4:10, 4:10] = 1
    for number in ("01", "02"):
        (ds / number).mkdir(parents=True)
        (ds / f"{number}_GT" / "SEG").mkdir(parents=True)
        for t in range(2):
            tifffile.imwrite(ds / number / f"t{t:03d}.tif", cell * 50)
            tifffile.imwrite(ds / f"{number}_GT" / "SEG" / f"man_seg{t:03d}.tif", cell)
    res = ds / "01_RES"
    res.mkdir()
    for t in range(2):
        tifffile.imwrite(res / f"mask{t:03d}.tif", cell)
    (res / "res_track.txt").write_text("1 0 1 0\n")
    return ds


def _error(res, gt) -> str:
    with pytest.raises(ValueError) as error:
        evaluate_ctc(res, gt)
    return str(error.value)


def test_the_python_call_is_told_of_folders_given_the_wrong_way(dataset):
    res, gt = dataset / "01_RES", dataset / "01_GT"
    assert _error(res, gt / "SEG") == (
        f"{gt / 'SEG'}: is the SEG folder of a CTC ground truth; give its parent {gt} (the "
        f"NN_GT folder, with SEG/ and TRA/): tessella evaluate {res} {gt} --ctc"
    )
    message = _error(gt, res)
    assert message.startswith(f"PRED and GT look swapped: {gt} is a CTC ground truth")
    assert message.endswith(f"give the result first: tessella evaluate {res} {gt} --ctc")
    assert evaluate_ctc(res, gt)["seg"] == 1.0


def test_a_folder_that_is_no_ground_truth_is_named_with_the_one_to_give(dataset, capsys):
    res, gt = dataset / "01_RES", dataset / "01_GT"
    one = "neither SEG/man_segTTT.tif nor TRA/man_track.txt"
    message = _error(res, dataset / "01")  # the image folder
    assert message.startswith(f"{dataset / '01'}: {one}: images, not a CTC ground truth")
    assert message.endswith(f"tessella evaluate {res} {gt} --ctc")
    message = _error(res, res)  # the result given twice
    assert message.startswith(f"{res}: {one}: a CTC result folder (maskTTT.tif")
    assert message.endswith(f"tessella evaluate {res} {gt} --ctc")
    message = _error(res, dataset)  # the dataset folder holding both
    assert message.startswith(f"{dataset}: {one}: a folder holding CTC ground truths, not one")
    assert message.endswith(f"tessella evaluate {res} {gt} --ctc (or {dataset / '02_GT'})")
    assert "not the image folder" not in message
    # the command line says the same, in one line
    assert main(["evaluate", str(res), str(dataset / "01"), "--ctc"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"tessella evaluate {res} {gt} --ctc" in err
