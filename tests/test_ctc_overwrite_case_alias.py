"""``write_ctc(..., overwrite=True)`` removes the masks of an earlier result that the new
one does not have, but never the masks it has just written. On a disk that ignores case
(macOS, Windows), an earlier ``MASK000.TIF`` and the new ``mask000.tif`` are one file, which
the folder may go on listing in its old spelling: compared by name alone it was taken for an
earlier mask and removed, losing the new mask000.tif (and ``evaluate --ctc`` failed later on
'mask000.tif is missing'). Simulated here on a case-sensitive disk: the folder lists each
written mask in upper case, as a hard link to it, and removing a name removes its other
case too, as removing the one entry would."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.engine.tracking import _ctc, write_ctc
from tests.conftest import DATA

TRA = DATA / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "TRA"


@pytest.fixture(scope="module")
def tracked() -> np.ndarray:
    """The SIM+ 01 ground-truth tracking masks of frames 0-2 (real tracked labels)."""
    if not (TRA / "man_track002.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {TRA} (set TESSELLA_DATA)")
    return np.stack([tifffile.imread(TRA / f"man_track{t:03d}.tif") for t in range(3)])


def _ignoring_case(monkeypatch) -> None:
    listed = _ctc._ctc_masks

    def masks_in_old_spelling(directory: Path) -> list[str]:
        names = []
        for name in listed(directory):
            upper = name.upper()
            if name != upper:  # the new file, listed in the old spelling
                if not (directory / upper).exists():
                    os.link(directory / name, directory / upper)
                name = upper
            names.append(name)
        return sorted(set(names))

    unlink = Path.unlink

    def unlink_one_entry(self: Path, missing_ok: bool = False) -> None:
        unlink(self, missing_ok=missing_ok)
        if self.parent.is_dir():
            for other in self.parent.iterdir():  # (its other cases: the same entry)
                if other.name.casefold() == self.name.casefold() and other.name != self.name:
                    unlink(other)

    monkeypatch.setattr(_ctc, "_ctc_masks", masks_in_old_spelling)
    monkeypatch.setattr(Path, "unlink", unlink_one_entry)


def test_overwrite_keeps_the_masks_just_written_listed_in_another_case(
    tmp_path, tracked, monkeypatch
):
    res = tmp_path / "01_RES"
    res.mkdir()
    # an earlier result of more frames (its mask000-002 stand for the new files' old names)
    tifffile.imwrite(res / "MASK003.TIF", np.zeros(tracked.shape[1:], np.uint16))
    _ignoring_case(monkeypatch)

    written = write_ctc(tracked, None, res, overwrite=True)

    masks = [p for p in written if p.name != "res_track.txt"]
    assert [p.name for p in masks] == ["mask000.tif", "mask001.tif", "mask002.tif"]
    for t, path in enumerate(masks):
        assert path.is_file(), f"{path.name} was removed as an earlier mask"
        assert np.array_equal(tifffile.imread(path) > 0, tracked[t] > 0)
    assert (res / "res_track.txt").is_file()
    assert not (res / "MASK003.TIF").exists()  # (the earlier result's frame 3: removed)


def test_overwrite_still_removes_an_earlier_mask_of_another_case_that_is_another_file(
    tmp_path, tracked
):
    """On a disk that keeps case apart, an earlier MASK001.TIF is another file than the new
    mask001.tif: removed, so that the folder holds the new result alone."""
    res = tmp_path / "01_RES"
    res.mkdir()
    for name in ("MASK001.TIF", "mask005.tif"):
        tifffile.imwrite(res / name, np.zeros(tracked.shape[1:], np.uint16))

    write_ctc(tracked, None, res, overwrite=True)

    assert sorted(p.name for p in res.iterdir()) == [
        "mask000.tif",
        "mask001.tif",
        "mask002.tif",
        "res_track.txt",
    ]
