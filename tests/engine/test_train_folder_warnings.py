"""What a training folder holds that the run will not use as meant is said in one line each:
masks that look sparsely annotated with no ignore label, an ignore label that is an object ID
(with one value safe for every file), files left out."""

import warnings

import numpy as np
import pytest
import tifffile

from tessella.engine.evaluation import ground_truth_note
from tessella.engine.train.data import apply_ignore_label, load_folder_pairs
from tessella.engine.train.overlapping import load_overlapping_pairs
from tessella.engine.train.timelapse import load_timelapse_samples

NORM = {"low": 1.0, "high": 99.8}
UNANNOTATED = 999


def _folder(root, nuclei_sample, count=3, painted=None):
    """``count`` 128x128 crops of the DSB2018 nuclei sample in ``root/images`` and
    ``root/masks``; with ``painted``, each mask's left half is that value (not annotated)."""
    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(count):
        box = (slice(128 * i, 128 * (i + 1)), slice(0, 128))
        mask = labels[box].astype(np.uint16)
        if painted is not None:
            mask[:, :64] = painted
        tifffile.imwrite(root / "images" / f"{i}.tif", image[box])
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)
    return root


def _load(root, ignore_label=None) -> tuple[list, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = load_folder_pairs(root, "YX", 1, NORM, ignore_label=ignore_label)
    return samples, [str(w.message) for w in caught]


def test_masks_painted_unannotated_without_an_ignore_label_are_warned(tmp_path, nuclei_sample):
    """The left half of every mask painted 999 and no ignore label: one line names the masks
    (2.tif too, with no object annotated yet beside the 999) and suggests --ignore-label 999,
    as evaluate notes the same mask; with the label, or on the masks as annotated, nothing is
    said."""
    sparse = _folder(tmp_path / "sparse", nuclei_sample, painted=UNANNOTATED)
    nothing_yet = np.zeros((128, 128), np.uint16)
    nothing_yet[:, :64] = UNANNOTATED
    tifffile.imwrite(sparse / "masks" / "2.tif", nothing_yet)
    _, said = _load(sparse)
    assert len(said) == 1, said
    assert said[0].startswith(f"{sparse / 'masks'}: 0.tif, 1.tif, 2.tif: label 999 covers 50%")
    assert "ignore_label=999 leaves them out" in said[0]  # (the Python API's words)
    # the same detection as evaluate's note on the same mask
    mask = tifffile.imread(sparse / "masks" / "0.tif")
    assert "(ID 999): a label painted on the background?" in ground_truth_note(mask, "0.tif")

    samples, said = _load(sparse, ignore_label=UNANNOTATED)
    assert said == [] and len(samples) == 3
    _, said = _load(_folder(tmp_path / "whole", nuclei_sample))
    assert said == []


def test_a_binary_mask_is_not_taken_for_a_painted_one(tmp_path, nuclei_sample):
    """A semantic method's binary mask (one object) whose foreground is most of the image is
    not sparse annotation."""
    root = _folder(tmp_path / "binary", nuclei_sample, count=1)
    mask = np.ones((128, 128), np.uint8)
    mask[:20] = 0
    tifffile.imwrite(root / "masks" / "0.tif", mask)
    assert _load(root)[1] == []


def test_the_safe_ignore_label_is_safe_for_every_file(tmp_path, nuclei_sample):
    """26 is an object ID in 0.tif (IDs up to 129) and 1.tif (up to 119): one warning names
    both and suggests a value above every ID of the data set (130), where each file's own
    (120 for 1.tif) would leave out 0.tif's objects 120 to 129."""
    samples, _ = _load(_folder(tmp_path / "data", nuclei_sample))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        apply_ignore_label(samples, 26)
    said = [str(w.message) for w in caught]
    assert len(said) == 1, said
    assert said[0].startswith(
        "unannotated label 26 is among the object IDs of 0.tif (up to 129), 1.tif (up to 119)"
    )
    assert said[0].endswith("(e.g. 130) is safe")
    assert 130 > max(int(s.labels.max()) for s in samples)


@pytest.mark.parametrize("extra_masks", [1, 7])
def test_files_a_folder_leaves_out_are_named(tmp_path, nuclei_sample, extra_masks):
    """A mask whose image is missing, and files that are not TIFF, were left out silently
    (an image without a mask is refused): one line names a few and counts the rest; hidden
    files are not named."""
    root = _folder(tmp_path / "data", nuclei_sample)
    (root / "images" / "notes.txt").write_text("hi")
    (root / "images" / ".DS_Store").write_bytes(b"")
    (root / "images" / "2.tif").unlink()  # its mask is kept
    for k in range(extra_masks - 1):
        tifffile.imwrite(root / "masks" / f"extra{k}.tif", np.zeros((8, 8), np.uint8))
    samples, said = _load(root)
    assert [s.name for s in samples] == ["0.tif", "1.tif"]
    assert len(said) == 1, said
    if extra_masks == 1:
        assert said[0] == (
            f"{root}: left out images/notes.txt (not TIFF); masks/2.tif (no image of that name "
            "in images/)"
        )
    else:
        assert said[0] == (
            f"{root}: left out images/notes.txt (not TIFF); masks/2.tif, masks/extra0.tif, "
            "masks/extra1.tif, masks/extra2.tif, masks/extra3.tif and 2 more (no image of that "
            "name in images/)"
        )


def _said(load, *args, **kwargs) -> tuple[list, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples = load(*args, **kwargs)
    return samples, [str(w.message) for w in caught]


def _timelapse_folder(root, nuclei_sample, painted=None):
    """Two TYX movies of 3 frames (64x64 crops of the nuclei sample) in ``root/images`` and
    their labels in ``root/masks``; with ``painted``, each labelled frame's left half."""
    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(2):
        boxes = [(slice(64 * (3 * i + t), 64 * (3 * i + t + 1)), slice(0, 64)) for t in range(3)]
        masks = np.stack([labels[b] for b in boxes]).astype(np.uint16)
        masks[1] = 0  # an unlabelled frame
        if painted is not None:
            masks[[0, 2], :, :32] = painted
        tifffile.imwrite(
            root / "images" / f"m{i}.tif",
            np.stack([image[b] for b in boxes]),
            photometric="minisblack",
        )
        tifffile.imwrite(root / "masks" / f"m{i}.tif", masks, photometric="minisblack")
    return root


def _leave_files_out(root):
    (root / "images" / "notes.txt").write_text("hi")
    (root / "images" / ".DS_Store").write_bytes(b"")
    tifffile.imwrite(root / "masks" / "extra.tif", np.zeros((8, 8), np.uint8))
    return (
        f"{root}: left out images/notes.txt (not TIFF); masks/extra.tif (no image of that name "
        "in images/)"
    )


def test_patches_and_timelapse_folders_name_the_files_they_leave_out(tmp_path, nuclei_sample):
    """The patches and time-lapse loaders dropped a mask with no image and non-TIFF files
    silently: now the same line as the other methods' folders."""
    root = _folder(tmp_path / "patches", nuclei_sample, count=2)
    line = _leave_files_out(root)
    samples, said = _said(load_overlapping_pairs, root, NORM)
    assert [s.name for s in samples] == ["0.tif", "1.tif"] and said == [line]

    root = _timelapse_folder(tmp_path / "timelapse", nuclei_sample)
    line = _leave_files_out(root)
    samples, said = _said(load_timelapse_samples, root, 3, normalization=NORM)
    assert len(samples) == 4 and said == [line]


def test_patches_label_masks_painted_unannotated_are_warned(tmp_path, nuclei_sample):
    """Label-image masks of the patches method with their left half 999 and no ignore label:
    one line names them and suggests --ignore-label 999; with it, or as annotated, nothing."""
    root = _folder(tmp_path / "sparse", nuclei_sample, count=2, painted=UNANNOTATED)
    _, said = _said(load_overlapping_pairs, root, NORM)
    assert len(said) == 1, said
    assert said[0].startswith(f"{root / 'masks'}: 0.tif, 1.tif: label 999 covers 50%")
    assert "ignore_label=999 leaves them out" in said[0]  # (the Python API's words)
    samples, said = _said(load_overlapping_pairs, root, NORM, ignore_label=UNANNOTATED)
    assert said == [] and all(s.ignore is not None for s in samples)
    assert _said(load_overlapping_pairs, _folder(tmp_path / "whole", nuclei_sample), NORM)[1] == []


def test_timelapse_masks_painted_unannotated_are_warned(tmp_path, nuclei_sample):
    """TYX masks whose labelled frames have their left half 999 and no ignore label: one line
    names the movies and suggests --ignore-label 999; with it, or as annotated, nothing."""
    root = _timelapse_folder(tmp_path / "sparse", nuclei_sample, painted=UNANNOTATED)
    _, said = _said(load_timelapse_samples, root, 3, normalization=NORM)
    assert len(said) == 1, said
    assert said[0].startswith(f"{root / 'masks'}: m0.tif, m1.tif: label 999 covers 50%")
    assert "ignore_label=999 leaves them out" in said[0]  # (the Python API's words)
    load = load_timelapse_samples
    assert _said(load, root, 3, normalization=NORM, ignore_label=UNANNOTATED)[1] == []
    whole = _timelapse_folder(tmp_path / "whole", nuclei_sample)
    assert _said(load, whole, 3, normalization=NORM)[1] == []


def test_the_painted_note_names_the_ignore_label_in_each_callers_words(tmp_path, nuclei_sample):
    """The line on masks painted 999 names the ignore label as each front end gives it
    (ignore_label=999, --ignore-label 999, the Train panel's Unannotated label 999), as the
    run's other warnings do; it told every caller "--ignore-label 999 (the Train panel's
    Unannotated label)" (review s35/r13 #4)."""
    from tessella.engine.train._worded import in_words

    sparse = _folder(tmp_path / "sparse", nuclei_sample, count=2, painted=UNANNOTATED)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_folder_pairs(sparse, "YX", 1, NORM)
    (warning,) = (w.message for w in caught)
    words = {caller: in_words(warning, caller) for caller in ("python", "cli", "panel")}
    assert words["python"].endswith("; ignore_label=999 leaves them out of the loss"), words
    assert words["cli"].endswith("; --ignore-label 999 leaves them out of the loss"), words
    assert words["panel"].endswith("; Unannotated label 999 leaves them out of the loss"), words
    assert len({w.split(";")[0] for w in words.values()}) == 1  # the same finding, in each
