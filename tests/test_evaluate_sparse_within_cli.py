"""``tessella evaluate STACK NN_GT`` against a SEG folder that annotates only some cells of
its frames (GOWT1's: 2 of about 27 nuclei): a warning says that AP and precision count the
unannotated cells as false positives and that --metric seg scores the annotated cells only
(it printed AP 0.277 without a word). A densely annotated frame is not said."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.cli import main


def test_sparse_seg_folder_is_said(tmp_path, capsys):
    pred = np.zeros((3, 20, 60), np.uint16)
    for k in range(5):
        pred[:, 4:12, 2 + 12 * k : 10 + 12 * k] = k + 1
    seg = tmp_path / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    sparse = np.where(pred[0] == 1, 7, 0).astype(np.uint16)  # 1 cell of 5
    dense = np.where(pred[1] < 5, pred[1], 0).astype(np.uint16)  # 4 of 5
    tifffile.imwrite(seg / "man_seg000.tif", sparse)
    tifffile.imwrite(seg / "man_seg001.tif", dense)
    tifffile.imwrite(tmp_path / "pred.tif", pred, imagej=True, metadata={"axes": "TYX"})
    assert main(["evaluate", str(tmp_path / "pred.tif"), str(seg.parent)]) == 0
    err = capsys.readouterr().err
    assert (
        "looks sparse (annotating only some cells) in 1 of the 2 images scored (SEG[0]): 4" in err
    )
    assert "AP, precision and F1 count them as false positives; --metric seg" in err
    tifffile.imwrite(seg / "man_seg000.tif", dense)  # densely annotated: no such warning
    assert main(["evaluate", str(tmp_path / "pred.tif"), str(seg.parent)]) == 0
    assert "looks sparse" not in capsys.readouterr().err
