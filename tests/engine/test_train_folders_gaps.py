"""What the training folder loaders read and say: only TIFF names are read (``a.tif.bak`` is
left out and named, ``B.TIF`` read); painted-unannotated masks are warned of in stacks of
object masks (patches) and in CTC SEG files too; a folder read twice in one run (``--data``
and ``--val-data`` the same) is described once."""

import shutil
import warnings

import numpy as np
import pytest
import tifffile

from tessella.engine.train.data import load_folder_pairs
from tessella.engine.train.overlapping import load_overlapping_pairs
from tessella.engine.train.timelapse import load_timelapse_samples
from tests.conftest import cell_movie, write_ctc_sequence

NORM = {"low": 1.0, "high": 99.8}
UNANNOTATED = 999


def _said(load, *args, **kwargs) -> tuple[list, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = load(*args, **kwargs)
    return samples, [str(w.message) for w in caught]


def _crop(nuclei_sample, i, size=128):
    image, labels = nuclei_sample
    box = (slice(size * i, size * (i + 1)), slice(0, size))
    return image[box], labels[box].astype(np.uint16)


def _pairs(root, pairs, stacks=False):
    """``pairs``: ``{name: (image, mask)}`` written to ``root/images`` and ``root/masks``;
    ``stacks``: TYX arrays (time-lapse)."""
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    extra = {"photometric": "minisblack"} if stacks else {}
    for name, (image, mask) in pairs.items():
        tifffile.imwrite(root / "images" / name, image, **extra)
        tifffile.imwrite(root / "masks" / name, mask, **extra)
    return root


def _with_stray_files(root):
    """A stale copy (``0.tif.bak``, a real TIFF, in both folders), an editor's backup and a
    download not finished; returns the line naming them."""
    for sub in ("images", "masks"):
        shutil.copy(root / sub / "0.tif", root / sub / "0.tif.bak")
    shutil.copy(root / "images" / "1.TIF", root / "images" / "1.tiff~")
    (root / "masks" / "0.tif.part").write_bytes((root / "masks" / "0.tif").read_bytes()[:100])
    return (
        f"{root}: left out images/0.tif.bak, images/1.tiff~, masks/0.tif.bak, "
        "masks/0.tif.part (not TIFF)"
    )


def test_the_patches_loader_reads_only_tiff_names(tmp_path, nuclei_sample):
    """``glob('*.tif*')`` took ``0.tif.bak`` (the warning said it was left out) and the run
    failed reading it ('unsupported file type'), and it missed ``1.TIF`` silently; now the
    TIFF names of any case are read, the rest named."""
    root = _pairs(tmp_path, {"0.tif": _crop(nuclei_sample, 0), "1.TIF": _crop(nuclei_sample, 1)})
    line = _with_stray_files(root)
    samples, said = _said(load_overlapping_pairs, root, NORM)
    assert [s.name for s in samples] == ["0.tif", "1.TIF"]
    assert said == [line]


def test_the_timelapse_loader_reads_only_tiff_names(tmp_path, nuclei_sample):
    """The same for TYX movies (two frames each, both labelled)."""
    movies = {}
    for i, name in enumerate(("0.tif", "1.TIF")):
        crops = [_crop(nuclei_sample, 2 * i + t, size=64) for t in range(2)]
        movies[name] = tuple(np.stack(part) for part in zip(*crops))
    root = _pairs(tmp_path, movies, stacks=True)
    line = _with_stray_files(root)
    samples, said = _said(load_timelapse_samples, root, 3, normalization=NORM)
    assert [s.name for s in samples] == ["0[t=000]", "0[t=001]", "1[t=000]", "1[t=001]"]
    assert said == [line]


@pytest.mark.parametrize(
    "load, args",
    [(load_folder_pairs, ("YX", 1, NORM)), (load_overlapping_pairs, (NORM,))],
    ids=["folders", "patches"],
)
def test_hidden_tiff_names_are_skipped(tmp_path, nuclei_sample, load, args):
    """macOS's ``._0.tif`` beside ``0.tif`` on a shared drive (not a TIFF inside) was read,
    and failed the run; it is hidden, and skipped as ``.DS_Store`` is. (The label-folder
    loader read ``.tif``/``.tiff`` names of any case and nothing else already.)"""
    root = _pairs(tmp_path, {"0.tif": _crop(nuclei_sample, 0), "1.TIF": _crop(nuclei_sample, 1)})
    for sub in ("images", "masks"):
        (root / sub / "._0.tif").write_bytes(b"\x00\x05\x16\x07" + bytes(4092))
    line = _with_stray_files(root)
    samples, said = _said(load, root, *args)
    assert [s.name for s in samples] == ["0.tif", "1.TIF"]
    assert said == [line]


def _object_stack(labels, painted=None):
    """One 0/1 plane per object of ``labels`` (as BBBC010's worm_masks), and with
    ``painted`` a plane of that value over the left half (a region left unannotated)."""
    planes = [(labels == i).astype(np.uint16) for i in np.unique(labels) if i]
    if painted is not None:
        plane = np.zeros_like(labels, np.uint16)
        plane[:, : labels.shape[1] // 2] = painted
        planes.append(plane)
    return np.stack(planes)


def test_stacks_of_object_masks_painted_unannotated_are_warned(tmp_path, nuclei_sample):
    """A plane of 999 over the left half of each stack, no ignore label: it was learnt as one
    object, silently; now one line names the stacks and suggests --ignore-label 999. With
    it, or on the stacks as annotated, nothing is said."""
    crops = [_crop(nuclei_sample, i) for i in range(2)]
    sparse = _pairs(
        tmp_path / "sparse",
        {f"{i}.tif": (image, _object_stack(m, UNANNOTATED)) for i, (image, m) in enumerate(crops)},
    )
    _, said = _said(load_overlapping_pairs, sparse, NORM)
    assert len(said) == 1, said
    assert said[0].startswith(f"{sparse / 'masks'}: 0.tif, 1.tif: label 999 covers 50%")
    assert "ignore_label=999 leaves them out" in said[0]  # (the Python API's words)
    samples, said = _said(load_overlapping_pairs, sparse, NORM, ignore_label=UNANNOTATED)
    assert said == [] and all(s.ignore is not None and s.ignore[:, :64].all() for s in samples)

    whole = _pairs(
        tmp_path / "whole",
        {f"{i}.tif": (image, _object_stack(m)) for i, (image, m) in enumerate(crops)},
    )
    assert _said(load_overlapping_pairs, whole, NORM)[1] == []


def test_a_painted_plane_of_the_objects_value_is_warned_without_a_wrong_flag(
    tmp_path, nuclei_sample
):
    """The added plane holds 1, as every object's plane does: --ignore-label 1 would take
    every object for unannotated (and is refused), so the line asks for a value of its own."""
    image, labels = _crop(nuclei_sample, 0)
    root = _pairs(tmp_path, {"0.tif": (image, _object_stack(labels, painted=1))})
    _, said = _said(load_overlapping_pairs, root, NORM)
    assert len(said) == 1, said
    assert said[0].startswith(f"{root / 'masks'}: 0.tif: one object mask covers 50% of the pix")
    assert "paint that plane a value no object mask has (1 is theirs)" in said[0]
    assert "ignore_label=1 " not in said[0]

    # two such stacks, one of 1s and one of 255s: one line, naming both values as theirs
    other_image, other_labels = _crop(nuclei_sample, 1)
    both = _pairs(
        tmp_path / "both",
        {
            "0.tif": (image, _object_stack(labels, painted=1)),
            "1.tif": (other_image, _object_stack(other_labels, painted=1) * 255),
        },
    )
    _, said = _said(load_overlapping_pairs, both, NORM)
    assert len(said) == 1, said
    assert said[0].startswith(f"{both / 'masks'}: 0.tif, 1.tif: one object mask covers 50% of")
    assert "paint that plane a value no object mask has (1, 255 are theirs)" in said[0]


def test_real_worm_masks_are_not_taken_for_painted_ones(tmp_path, data_dir):
    """BBBC010's (N, H, W) 0/1 worm masks: no worm covers much of its well, nothing said;
    a plane of 999 added over a third of a well is named."""
    worms = data_dir / "worms_bbbc010"
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for well in sorted(p.name for p in (worms / "worm_masks").iterdir())[:2]:
        (tmp_path / "images" / well).symlink_to(worms / "gfp" / well)  # brightfield (README)
        (tmp_path / "masks" / well).symlink_to(worms / "worm_masks" / well)
    assert _said(load_overlapping_pairs, tmp_path, NORM)[1] == []

    well = sorted(p.name for p in (tmp_path / "masks").iterdir())[0]
    masks = tifffile.imread(tmp_path / "masks" / well)
    unannotated = np.zeros_like(masks[0])
    unannotated[:, : 2 * masks.shape[2] // 3] = UNANNOTATED
    (tmp_path / "masks" / well).unlink()
    tifffile.imwrite(tmp_path / "masks" / well, np.concatenate([masks, unannotated[None]]))
    _, said = _said(load_overlapping_pairs, tmp_path, NORM)
    assert len(said) == 1 and said[0].startswith(
        f"{tmp_path / 'masks'}: {well}: label 999 covers 67%"
    ), said


def _ctc(root, painted=None):
    image, labels, tracks = cell_movie(frames=4, shape=(64, 80))
    if painted is not None:
        labels[:, :, :40] = painted
    return write_ctc_sequence(root, image, labels, tracks, seg_frames={0, 2})


def test_ctc_seg_files_painted_unannotated_are_warned(tmp_path):
    """CTC SEG files whose left half is 999 (unannotated, as a sparse SEG could be marked),
    no ignore label: one line names them under 01_GT/SEG and suggests --ignore-label 999;
    with it, or as annotated, nothing is said."""
    seq = _ctc(tmp_path / "sparse", painted=UNANNOTATED)
    _, said = _said(load_timelapse_samples, seq, 3, normalization=NORM)
    assert len(said) == 1, said
    seg = tmp_path / "sparse" / "01_GT" / "SEG"
    assert said[0].startswith(f"{seg}: man_seg000.tif, man_seg002.tif: label 999 covers 50%")
    assert "ignore_label=999 leaves them out" in said[0]  # (the Python API's words)
    load = load_timelapse_samples
    assert _said(load, seq, 3, normalization=NORM, ignore_label=UNANNOTATED)[1] == []
    assert _said(load, _ctc(tmp_path / "whole"), 3, normalization=NORM)[1] == []


def _stray_and_painted(root, nuclei_sample):
    crops = {f"{i}.tif": _crop(nuclei_sample, i) for i in range(2)}
    for _, mask in crops.values():
        mask[:, :64] = UNANNOTATED
    _pairs(root, crops)
    (root / "images" / "notes.txt").write_text("hi")


@pytest.mark.parametrize(
    "load, args",
    [(load_folder_pairs, ("YX", 1, NORM)), (load_overlapping_pairs, (NORM,))],
    ids=["folders", "patches"],
)
def test_a_folder_read_twice_in_a_run_is_described_once(tmp_path, nuclei_sample, load, args):
    """The same folder as --data and --val-data: the run reads it twice, and said each line
    twice; with the run's ``warned`` set given to both reads, once (the left-out file and
    the painted masks, one line each)."""
    _stray_and_painted(tmp_path, nuclei_sample)
    warned: set[str] = set()
    _, first = _said(load, tmp_path, *args, warned=warned)
    _, second = _said(load, tmp_path, *args, warned=warned)
    assert len(first) == 2 and second == [], (first, second)
    assert set(first) == warned
    assert len(_said(load, tmp_path, *args)[1]) == 2  # another run says them again


def test_a_timelapse_folder_given_twice_is_described_once(tmp_path, nuclei_sample):
    """``--data A --data A`` (one call) said A's left-out files twice; now once, and not
    again in a second call sharing ``warned``."""
    crops = [_crop(nuclei_sample, t, size=64) for t in range(2)]
    root = _pairs(tmp_path, {"m.tif": tuple(np.stack(p) for p in zip(*crops))}, stacks=True)
    (root / "images" / "notes.txt").write_text("hi")
    samples, said = _said(load_timelapse_samples, [root, root], 3, normalization=NORM)
    assert len(samples) == 4 and said == [f"{root}: left out images/notes.txt (not TIFF)"]
    warned: set[str] = set()
    load = load_timelapse_samples
    assert len(_said(load, root, 3, normalization=NORM, warned=warned)[1]) == 1
    assert _said(load, root, 3, normalization=NORM, warned=warned)[1] == []
