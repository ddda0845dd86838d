"""File names of a CTC sequence for time-lapse training: ``.TIF``/``.tiff`` frames and ground
truth are read, four-digit numbers find their TRA markers, files of other names are named as
left out (never a bare ``int()`` error), and two files of one frame are refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tessella.engine.train.timelapse import load_timelapse_samples
from tests.conftest import cell_movie, write_ctc_sequence

NORM = {"low": 1.0, "high": 99.8}


def _sequence(root, frames=4, seg_frames=(1, 2)):
    image, labels, tracks = cell_movie(frames=frames, shape=(96, 128))
    return write_ctc_sequence(root, image, labels, tracks, seg_frames=set(seg_frames)), labels


def _load(seq):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = load_timelapse_samples(seq, 3, normalization=NORM)
    return samples, [str(w.message) for w in caught]


def _rename(folder, old, new):
    (folder / old).rename(folder / new)


def test_tif_and_tiff_in_any_case_are_read(tmp_path):
    """Frames tTTT.TIF / tTTT.tiff, SEG man_segTTT.TIFF and TRA man_trackTTT.Tif are the
    same CTC files; before, such frames were not seen at all ('must hold frames tTTT.tif')."""
    seq, labels = _sequence(tmp_path)
    seg, tra = seq.parent / "01_GT" / "SEG", seq.parent / "01_GT" / "TRA"
    for t, suffix in enumerate((".TIF", ".tiff", ".Tif", ".TIFF")):
        _rename(seq, f"t{t:03d}.tif", f"t{t:03d}{suffix}")
        _rename(tra, f"man_track{t:03d}.tif", f"man_track{t:03d}{suffix}")
    _rename(seg, "man_seg001.tif", "man_seg001.TIFF")
    _rename(seg, "man_seg002.tif", "man_seg002.tiff")
    # SEG of frame 2 leaves cell 1 unannotated: its TRA marker (man_track002.Tif) is ignored
    import tifffile

    sparse = np.where(labels[2] == 1, 0, labels[2]).astype(np.uint16)
    tifffile.imwrite(seg / "man_seg002.tiff", sparse)
    samples, said = _load(seq)
    assert said == []
    assert [s.name for s in samples] == [f"{tmp_path.name}_01[t=001]", f"{tmp_path.name}_01[t=002]"]
    np.testing.assert_array_equal(samples[0].labels, labels[1])
    assert samples[0].ignore is None
    assert samples[1].ignore is not None and samples[1].ignore[labels[2] == 1].mean() > 0.9


def test_four_digit_names_find_their_tra_markers(tmp_path):
    """CTC numbers long movies with four digits (t0000.tif, man_seg0002.tif,
    man_track0002.tif); the TRA markers of a sparse SEG were looked up as man_track002.tif
    and not found, so the unannotated cell was taught as background."""
    import tifffile

    seq, labels = _sequence(tmp_path)
    seg, tra = seq.parent / "01_GT" / "SEG", seq.parent / "01_GT" / "TRA"
    for t in range(4):
        _rename(seq, f"t{t:03d}.tif", f"t{t:04d}.tif")
        _rename(tra, f"man_track{t:03d}.tif", f"man_track{t:04d}.tif")
    for t in (1, 2):
        _rename(seg, f"man_seg{t:03d}.tif", f"man_seg{t:04d}.tif")
    tifffile.imwrite(seg / "man_seg0002.tif", np.where(labels[2] == 1, 0, labels[2]))
    samples, said = _load(seq)
    assert said == []
    assert len(samples) == 2
    assert samples[1].ignore is not None and samples[1].ignore[labels[2] == 1].mean() > 0.9


def test_files_of_other_names_are_named_as_left_out(tmp_path):
    """man_seg_old.tif and 'man_seg000 copy.tif' crashed with a bare int() ValueError; a
    't001 copy.tif' frame and notes were skipped unsaid. Now the sequence loads from the
    CTC names and one line names the files left out."""
    import shutil

    seq, labels = _sequence(tmp_path)
    seg, tra = seq.parent / "01_GT" / "SEG", seq.parent / "01_GT" / "TRA"
    shutil.copy(seg / "man_seg001.tif", seg / "man_seg_old.tif")
    shutil.copy(seg / "man_seg001.tif", seg / "man_seg000 copy.tif")
    shutil.copy(seq / "t001.tif", seq / "t001 copy.tif")
    (seq / "notes.txt").write_text("imaged on Tuesday")
    (seq / ".DS_Store").write_text("")  # hidden: not named
    shutil.copy(tra / "man_track001.tif", tra / "man_track_1.tif")
    samples, said = _load(seq)
    assert [s.name for s in samples] == [f"{tmp_path.name}_01[t=001]", f"{tmp_path.name}_01[t=002]"]
    np.testing.assert_array_equal(samples[0].labels, labels[1])
    assert said == [
        f"{tmp_path}: left out 01/notes.txt, 01/t001 copy.tif (not tTTT.tif); "
        "01_GT/SEG/man_seg000 copy.tif, 01_GT/SEG/man_seg_old.tif (not man_segTTT.tif); "
        "01_GT/TRA/man_track_1.tif (not man_trackTTT.tif)"
    ]


def test_two_files_of_one_frame_are_refused(tmp_path):
    """t000.tif beside t000.tiff (or man_seg1.tif beside man_seg001.tif): which one is the
    frame? Before, the .tiff was ignored silently and a second SEG of frame 1 became a
    second sample of it."""
    import shutil

    seq, _ = _sequence(tmp_path)
    shutil.copy(seq / "t000.tif", seq / "t000.tiff")
    with pytest.raises(ValueError, match=r"01: t000\.tif and t000\.tiff are both frame 0"):
        load_timelapse_samples(seq, 3, normalization=NORM)
    (seq / "t000.tiff").unlink()
    seg = seq.parent / "01_GT" / "SEG"
    shutil.copy(seg / "man_seg001.tif", seg / "man_seg1.tif")
    with pytest.raises(ValueError, match=r"SEG: man_seg001\.tif and man_seg1\.tif are both"):
        load_timelapse_samples(seq, 3, normalization=NORM)
