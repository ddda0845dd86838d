"""`tessella segment --skip-existing --csv` where kept labels cannot be measured (s35 r13 #2):
in memory the run printed an error and a warning, exited 0 and advised `--overwrite --csv`,
which segments the image again and loses the hand corrections the labels were kept for;
`--blockwise` exited 1 and said to rerun the same command. Now both fail (exit 1) with the
same sentence (`_measure_csv.kept_not_measured`), and the folder's table of images says the
image failed. A real DSB2018 crop (96 x 128 px) segmented by nuclei2d on CPU."""

from __future__ import annotations

import csv

import pytest
import tifffile

import tessella.cli._measure_csv as measure_csv
from tessella.cli import main
from tests.conftest import DATA

VAL = DATA / "nuclei2d_dsb2018" / "val" / "images"
BASE = ["--model", "nuclei2d", "--device", "cpu", "--no-tta", "-q"]


def test_kept_labels_that_cannot_be_measured_fail_the_run(tmp_path, capsys):
    image = next(
        tifffile.imread(p)[:96, :128]
        for p in sorted(VAL.glob("*.tif"))
        if tifffile.imread(p).ndim == 2 and min(tifffile.imread(p).shape) >= 128
    )
    plate = tmp_path / "plate"
    plate.mkdir()
    tifffile.imwrite(plate / "A01.tif", image)
    out = tmp_path / "out"
    assert main(["segment", str(plate), "-o", str(out), *BASE]) == 0
    kept = tifffile.imread(out / "A01.tif")
    capsys.readouterr()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(measure_csv, "measure_kept", full)
        code = main(["segment", str(plate), "-o", str(out), "--csv", "--skip-existing", *BASE])
    err = capsys.readouterr().err
    assert code == 1, err
    said = measure_csv.kept_not_measured(out / "A01.tif", OSError(28, "No space left on device"))
    assert said == (
        f"{out / 'A01.tif'}: the kept labels could not be measured (No space left on device); "
        "rerun the same command to measure A01.tif as it is"
    )
    assert f"error: {said}" in err, err
    assert "--overwrite" not in err, err  # (never advised: it would lose the kept labels)
    assert "1 of 1 images failed: A01.tif" in err, err
    assert not (out / "A01.csv").exists()
    assert (tifffile.imread(out / "A01.tif") == kept).all()  # (kept, not segmented again)
    with open(out / "images.csv", newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["status"] == "failed", row
