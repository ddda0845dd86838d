"""`tessella evaluate` on plausible mistakes, with real data: a ZYX stack of membrane maps
annotated section by section (ISBI 2012) is scored per 2D section, and a forgotten
``--gt-binary``/``--gt-boundaries`` or a raw image given as the prediction is warned about
(one line on stderr naming the file) instead of scoring 0 without a hint. No warning fires on
the real ground truth of the bundled models' validation data or on real predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.cli import evaluate_paths, main

ISBI = "em_membranes_isbi2012"
SLICES = ("16", "17", "18", "19")


def write_stack(path, stack: np.ndarray) -> None:
    """A ZYX ImageJ stack at 4x4x50 nm, as the acceptance test wrote it."""
    tifffile.imwrite(
        path,
        stack,
        imagej=True,
        resolution=(250.0, 250.0),
        metadata={"axes": "ZYX", "spacing": 0.05, "unit": "micron"},
    )


@pytest.fixture(scope="module")
def isbi_maps(data_dir) -> np.ndarray:
    """ISBI 2012 membrane maps of slices 16-19 (1 = membrane), ZYX."""
    return np.stack([tifffile.imread(data_dir / ISBI / "boundaries" / f"{n}.tif") for n in SLICES])


def agglomerated_3d(maps: np.ndarray) -> np.ndarray:
    """A 3D segmentation that is right in every section: each section's cells, a cell taking
    the ID of the cell it overlaps most in the section before (objects continue in Z, as 3D
    post-processing joins them)."""
    labels = np.zeros(maps.shape, np.uint16)
    next_id = 1
    for z, section in enumerate(maps):
        cells, count = ndimage.label(section == 0)
        taken = set()  # one ID per cell of a section
        for cell in range(1, count + 1):
            where = cells == cell
            below = labels[z - 1][where] if z else np.zeros(1, np.uint16)
            ids, counts = np.unique(below[below > 0], return_counts=True)
            best = int(ids[np.argmax(counts)]) if ids.size else 0
            if best and best not in taken:
                labels[z][where] = best
                taken.add(best)
            else:
                labels[z][where] = next_id
                next_id += 1
    return labels


def evaluate(capsys, *args) -> tuple[str, str]:
    assert main(["evaluate", *map(str, args)]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


# --- 1. membrane maps annotated section by section ----------------------------------------


def test_membrane_stack_is_scored_per_section(isbi_maps, tmp_path, capsys):
    """A perfect-per-section 3D segmentation of the ISBI stack scores V_rand 1 (it scored 0.09
    with the whole ground truth one 3D object), as the mean of its sections scored one by one."""
    pred = agglomerated_3d(isbi_maps)
    continuing = len(np.intersect1d(np.unique(pred[0]), np.unique(pred[1])))
    assert continuing > 20  # objects really continue from section to section
    write_stack(tmp_path / "pred.tif", pred)
    write_stack(tmp_path / "gt.tif", isbi_maps)
    scores = evaluate_paths(
        str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), ("vrand", "ap"), gt_boundaries=True
    )
    assert scores["vrand"] == pytest.approx(1.0)
    assert scores["ap"]["0.9"] == pytest.approx(1.0)
    assert scores["n_images"] == 4 and scores["vrand_images"] == 4
    assert scores["sections"] == {"files": 1, "sections": 4}
    out, err = evaluate(
        capsys, tmp_path / "pred.tif", tmp_path / "gt.tif", "--metric", "vrand", "--gt-boundaries"
    )
    assert "vrand: 1.0000" in out
    assert "images: 4 (the 2D sections of 1 membrane-map stack" in out
    assert "warning" not in err


def test_membrane_stack_3d_option_and_collapse_warning(isbi_maps, tmp_path, capsys):
    """--gt-boundaries-3d takes the map as 3D (one volume): the insides of these sections join
    into one object, which is warned about, naming the file and the way out."""
    pred = agglomerated_3d(isbi_maps)
    write_stack(tmp_path / "pred.tif", pred)
    write_stack(tmp_path / "gt.tif", isbi_maps)
    out, err = evaluate(
        capsys, tmp_path / "pred.tif", tmp_path / "gt.tif", "--metric", "vrand",
        "--gt-boundaries-3d",
    )  # fmt: skip
    assert "images: 1\n" in out
    vrand = float(out.split("vrand: ")[1].split()[0])
    assert vrand < 0.2  # one 3D object: meaningless, hence the warning
    [line] = err.strip().splitlines()
    assert line.startswith(f"warning: {tmp_path / 'gt.tif'}: ")
    assert "1 object" in line and "without --gt-boundaries-3d" in line


@pytest.mark.slow
def test_em_membranes2d_stack_reproduces_the_card(isbi_maps, data_dir, tmp_path, capsys):
    """The acceptance test's commands: em-membranes2d on slices 16-19 as one ZYX stack, then
    `tessella evaluate --metric vrand --gt-boundaries`, give the card's per-section figure
    (`validation.as_3d_stack.vrand`, 0.944, which tools/score_model.py scores slice by slice)."""
    from tessella.engine.registry import find_model

    card = json.loads((find_model("em-membranes2d") / "card.json").read_text())
    images = [tifffile.imread(data_dir / ISBI / "images" / f"{n}.tif") for n in SLICES]
    write_stack(tmp_path / "isbi_stack.tif", np.stack(images))
    write_stack(tmp_path / "isbi_stack_gt.tif", isbi_maps)
    segment = ["segment", str(tmp_path / "isbi_stack.tif"), "-o"]
    assert main([*segment, str(tmp_path / "isbi_stack_l.tif"), "--model", "em-membranes2d"]) == 0
    capsys.readouterr()
    out, err = evaluate(
        capsys, tmp_path / "isbi_stack_l.tif", tmp_path / "isbi_stack_gt.tif", "--metric",
        "vrand", "--gt-boundaries", "--json", tmp_path / "s.json",
    )  # fmt: skip
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["vrand"] == pytest.approx(card["validation"]["as_3d_stack"]["vrand"], abs=2e-3)
    assert err == ""


# --- 2. a forgotten flag, or an image for labels: warned, naming the file -------------------


def test_forgotten_gt_binary_on_lucchi_mask(data_dir, tmp_path, capsys):
    """Lucchi++ mitochondria (0/1) scored as labels: AP 0 everywhere, now with a warning."""
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:8, :384, :384]
    tifffile.imwrite(tmp_path / "gt.tif", mito)
    tifffile.imwrite(tmp_path / "pred.tif", ndimage.label(mito)[0].astype(np.uint16))
    out, err = evaluate(capsys, tmp_path / "pred.tif", tmp_path / "gt.tif")
    assert out.splitlines()[2].split()[1:] == ["0.000"] * 5  # AP: what the warning explains
    [line] = err.strip().splitlines()
    assert line.startswith(f"warning: {tmp_path / 'gt.tif'}: holds only 0 and 1, in ")
    assert "pass --gt-binary" in line
    out, err = evaluate(capsys, tmp_path / "pred.tif", tmp_path / "gt.tif", "--gt-binary")
    assert out.splitlines()[2].split()[1:] == ["1.000"] * 5 and err == ""


def test_forgotten_gt_boundaries_on_isbi_map(data_dir, tmp_path, capsys):
    """An ISBI membrane map scored as labels (V_rand 0.04): its membrane is one object."""
    gt = data_dir / ISBI / "boundaries" / "17.tif"
    cells = ndimage.label(tifffile.imread(gt) == 0)[0].astype(np.uint16)
    tifffile.imwrite(tmp_path / "pred.tif", cells)
    out, err = evaluate(capsys, tmp_path / "pred.tif", gt, "--metric", "vrand")
    assert float(out.split("vrand: ")[1].split()[0]) < 0.1
    [line] = err.strip().splitlines()
    assert line.startswith(f"warning: {gt}: holds only 0 and 1, like a membrane map")
    assert "pass --gt-boundaries" in line
    out, err = evaluate(capsys, tmp_path / "pred.tif", gt, "--metric", "vrand", "--gt-boundaries")
    assert "vrand: 1.0000" in out and err == ""


@pytest.mark.parametrize(
    ("image", "truth"),
    [
        ("ctc_Fluo-N2DH-SIM+/01/t010.tif", "ctc_Fluo-N2DH-SIM+/01_GT/SEG/man_seg010.tif"),
        ("em_membranes_isbi2012/images/16.tif", None),
        ("fixtures/img2d.tif", "fixtures/mask2d.tif"),
    ],
    ids=["uint16 SIM+", "uint8 ISBI", "uint16 DSB nuclei"],
)
def test_raw_image_given_as_prediction(data_dir, tmp_path, capsys, image, truth):
    """The raw image instead of its labels as PRED (AP 0): warned, naming PRED; given as GT
    (the arguments swapped), named as the ground truth."""
    raw = tifffile.imread(data_dir / image)
    if truth is None:  # ISBI: its cells as labels
        labels = ndimage.label(tifffile.imread(data_dir / ISBI / "boundaries" / "16.tif") == 0)[0]
    else:
        labels = tifffile.imread(data_dir / truth)
    tifffile.imwrite(tmp_path / "raw.tif", raw)
    tifffile.imwrite(tmp_path / "gt.tif", labels.astype(np.uint16))
    out, err = evaluate(capsys, tmp_path / "raw.tif", tmp_path / "gt.tif")
    [line] = err.strip().splitlines()
    assert line.startswith(f"warning: {tmp_path / 'raw.tif'}: looks like an image, not labels")
    out, err = evaluate(capsys, tmp_path / "gt.tif", tmp_path / "raw.tif")
    assert f"warning: {tmp_path / 'raw.tif'}: the ground truth looks like an image" in err
    assert "are PRED and GT swapped?" in err


def test_binary_prediction_and_label_image_with_gt_binary(data_dir, tmp_path, capsys):
    """A binary mask as the prediction (every nucleus one object), and --gt-binary on a label
    image (touching nuclei joined): both warned."""
    labels = tifffile.imread(data_dir / "fixtures" / "mask2d.tif")
    tifffile.imwrite(tmp_path / "mask.tif", (labels > 0).astype(np.uint8))
    tifffile.imwrite(tmp_path / "gt.tif", labels)
    _, err = evaluate(capsys, tmp_path / "mask.tif", tmp_path / "gt.tif")
    assert err.startswith(f"warning: {tmp_path / 'mask.tif'}: holds only 0 and 1, in ")
    _, err = evaluate(capsys, tmp_path / "gt.tif", tmp_path / "gt.tif", "--gt-binary")
    assert err.startswith(f"warning: {tmp_path / 'gt.tif'}: a binary mask with ")


def test_mask_stacks_without_overlapping_are_warned(data_dir, tmp_path, capsys):
    """Two (N, Y, X) 0/1 worm mask stacks (BBBC010 E03 and a prediction of it) scored as
    labels give 0 without a word of --overlapping: both are now said to be stacks of object
    masks, with --overlapping named; with it, no warning."""
    truth = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif")
    # every worm 2 pixels off, in another order (as a network lists them)
    predicted = np.roll(truth[::-1], 2, axis=2).astype(np.uint8)
    tifffile.imwrite(tmp_path / "pred.tif", predicted)
    tifffile.imwrite(tmp_path / "gt.tif", truth)
    out, err = evaluate(capsys, tmp_path / "pred.tif", tmp_path / "gt.tif")
    assert "avS (mean AP over 0.5..0.9): 0.0000" in out
    lines = err.strip().splitlines()
    assert [line.split(": ")[1] for line in lines] == [
        str(tmp_path / name) for name in ("pred.tif", "gt.tif")
    ]
    for line in lines:
        assert (
            ": looks like an (N, Y, X) stack of object masks (14 planes, each holding one " in line
        )
        assert line.endswith(
            "pass --overlapping to score each plane as one object, overlaps allowed"
        )
        assert "--gt-binary" not in line and "ndimage.label" not in line
    out, err = evaluate(capsys, tmp_path / "pred.tif", tmp_path / "gt.tif", "--overlapping")
    assert "ap              1.000" in out and err == ""


def test_ground_truth_kind_of_real_ground_truth(data_dir):
    """What the Evaluate panel pre-selects: Lucchi++ mitochondria are a binary mask (a 3D
    volume, not a stack of masks), an ISBI map a boundary map, BBBC010 worms overlapping
    masks (against their image's labels, or as a stack of the same shape), DSB nuclei labels."""
    from tessella.engine.evaluation import ground_truth_kind

    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:8, :384, :384]
    isbi = tifffile.imread(data_dir / ISBI / "boundaries" / "16.tif")
    worms = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif")
    nuclei = tifffile.imread(data_dir / "fixtures" / "mask2d.tif")
    assert ground_truth_kind(mito, mito.shape)[0] == "binary"
    assert ground_truth_kind(isbi, isbi.shape)[0] == "boundaries"
    assert ground_truth_kind(worms, worms.shape[1:])[0] == "overlapping"
    assert ground_truth_kind(worms, worms.shape)[0] == "overlapping"
    assert ground_truth_kind(nuclei, nuclei.shape) == ("labels", "many object IDs: instance labels")


class ReadCounter:
    """An array that counts the pixels read from it (``dask.array.from_array`` reads chunks
    through ``__getitem__``)."""

    def __init__(self, array: np.ndarray):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        self.read = 0

    def __getitem__(self, index):
        out = self.array[index]
        self.read += np.size(out)
        return out


def test_ground_truth_kind_of_lazy_ground_truth_from_a_sample(data_dir):
    """Dask ground truth larger than the sample: Lucchi++ mitochondria (25 x 768 x 1024) are
    a binary mask, the 20 ISBI membrane maps a boundary map, BBBC010's worm masks against a
    stack of fewer masks overlapping masks, as when the whole arrays are looked at; each is
    guessed from a sample (``why`` says so) read chunk by chunk, never the whole array."""
    import dask.array as da

    from tessella.engine.evaluation import ground_truth_kind

    budget = 2**20
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")
    isbi = np.stack(
        [tifffile.imread(path) for path in sorted((data_dir / ISBI / "boundaries").glob("*.tif"))]
    )
    worms = (tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif") > 0).astype(
        np.uint8
    )
    found = ndimage.binary_dilation(worms[2:], np.ones((1, 3, 3), bool)).astype(np.uint8)
    for truth, prediction, expected in (
        (mito, None, "binary"),  # (a prediction of the same shape is not looked at)
        (isbi, None, "boundaries"),
        (worms, found, "overlapping"),
    ):
        assert truth.size > 4 * budget
        shape = truth.shape if prediction is None else prediction.shape
        source = ReadCounter(truth)
        lazy = da.from_array(source, chunks=(1, 128, 128), name=False)
        lazy_prediction = None
        if prediction is not None:
            lazy_prediction = da.from_array(prediction, chunks=(1, 128, 128), name=False)
        kind, why = ground_truth_kind(lazy, shape, lazy_prediction, budget)
        assert (kind, ground_truth_kind(truth, shape, prediction)[0]) == (expected, expected)
        assert "(guessed from a sample: " in why and why.endswith(")")
        assert source.read <= 3 * budget  # the sample's chunks, not the array


def test_ground_truth_kind_of_two_mask_stacks_of_other_counts(data_dir):
    """Worm masks against a mask stack of the same image holding fewer objects (what
    `tessella segment --stack` writes): overlapping masks (was "binary", whose scoring the
    panel then refused for shapes that differ); against a label volume of that shape, not."""
    from tessella.engine.evaluation import ground_truth_kind

    worms = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif") > 0
    found = ndimage.binary_dilation(worms[2:], np.ones((1, 3, 3), bool)).astype(np.uint8)
    kind, why = ground_truth_kind(worms, found.shape, found)
    assert kind == "overlapping"
    assert why.endswith(f"against a stack of {len(found)} object masks")
    assert ground_truth_kind(worms, found.shape)[0] == "overlapping"  # (the shape alone)
    volume = np.cumsum(found, axis=0, dtype=np.uint16)  # labels continuing from plane to plane
    assert ground_truth_kind(worms, volume.shape, volume)[0] != "overlapping"


def test_engine_notes_name_the_kind_and_the_flag_not_the_panel(data_dir):
    """`evaluate_labels` in a script: a forgotten binary kind is advised as kind='binary' and
    its `tessella evaluate` flag, not as the Evaluate panel's combo box (as it was)."""
    from tessella.engine.evaluation import evaluate_labels

    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:8, :384, :384]
    result = evaluate_labels(mito, ndimage.label(mito)[0], names=("mito.tif", "pred"))
    [note] = result.notes
    assert note.startswith("mito.tif: holds only 0 and 1, in ")
    assert note.endswith(
        "take it as kind='binary' to score each connected piece as an object "
        "(`tessella evaluate --gt-binary`)"
    )
    assert "Ground truth is" not in note


@pytest.mark.parametrize("kind", ["binary", "boundaries", "boundaries3d", "overlapping"])
def test_the_engine_scores_each_kind_as_the_cli(isbi_maps, data_dir, tmp_path, capsys, kind):
    """`evaluate_labels` / `evaluate_masks` (the Evaluate panel) and `tessella evaluate` with
    the kind's flag give the same scores on Lucchi++ mitochondria, ISBI membrane maps and
    BBBC010 worms, each with unannotated pixels, the CLI's ground-truth warning being the
    engine's note in flag words: both make the objects with one engine function.
    ("boundaries3d" was the CLI's alone.)"""
    from tessella.engine.evaluation import GROUND_TRUTH_KINDS, evaluate_labels, evaluate_masks

    if kind == "overlapping":
        truth = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif")
        truth = truth[:, 300:560, 100:460].astype(np.uint8)
        truth[:, :40, :60] = np.where(truth[:, :40, :60] > 0, 9, 0)  # (in any plane)
        truth[0, :40, :60] = 9
        pred = ndimage.binary_dilation(truth[1:] == 1, np.ones((1, 3, 3), bool))
        pred = pred.astype(np.uint8)
    elif kind == "binary":
        mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:8, :384, :384]
        pred = ndimage.label(ndimage.binary_dilation(mito > 0, np.ones((1, 3, 3), bool)))[0]
        truth = np.where(np.arange(384) < 64, 9, mito).astype(np.uint8)
    else:
        truth = isbi_maps.copy()
        truth[:, :64, :64] = 9
        pred = agglomerated_3d(isbi_maps)
    write_stack(tmp_path / "gt.tif", truth)
    write_stack(tmp_path / "pred.tif", pred.astype(np.uint16))
    names = (str(tmp_path / "gt.tif"), str(tmp_path / "pred.tif"))
    flag = GROUND_TRUTH_KINDS[kind]
    metric = ["--metric", "ap"] if kind == "overlapping" else ["--metric", "ap", "--metric", "iou"]
    assert main(["evaluate", names[1], names[0], flag, "--ignore-label", "9", *metric, "-q",
                 "--json", str(tmp_path / "s.json")]) == 0  # fmt: skip
    reference = json.loads((tmp_path / "s.json").read_text())
    err = capsys.readouterr().err.strip().splitlines()
    warnings = [line for line in err if "is among its object IDs" not in line]  # (ID 9: fine)
    if kind == "overlapping":
        result = evaluate_masks(truth, pred, ignore_label=9, names=names)
    else:
        result = evaluate_labels(
            truth, pred, ignore_label=9, names=names, kind=kind, metrics_wanted=("ap", "iou")
        )
    if kind == "boundaries":
        reference.pop("sections")  # (the CLI's count of the files and sections)
        assert reference.pop("scored_as").startswith("scored section by section: the 4 2D")
    if kind in ("binary", "boundaries3d"):  # (the CLI's words on how it scored the volume)
        assert reference.pop("scored_as").startswith("scored as one volume: gt.tif")
        reference.pop("volumes")
    rows = reference.pop("images")  # (the CLI's scores of each image: the sections here)
    assert len(rows) == reference["n_images"] and rows[0]["name"].startswith("gt.tif")
    assert json.loads(json.dumps(result.scores)) == reference
    assert reference["ap"]["0.5"] > 0 or kind == "boundaries3d"
    if kind == "boundaries3d":  # its insides join in 3D: warned, with the way out
        [note] = result.notes
        [line] = warnings
        head = note.split("; take it as")[0]
        way_out = "without --gt-boundaries-3d each 2D section is scored on its own"
        assert line == f"warning: {head}; {way_out}"
        assert note.endswith(
            "take it as kind='boundaries' to score each 2D section on its own "
            "(`tessella evaluate --gt-boundaries`)"
        )
    else:
        assert result.notes == () and warnings == []


def test_collapsed_ground_truth_is_warned(data_dir, tmp_path, capsys):
    """A label image whose one object is the background (an inverted mask): warned."""
    labels = tifffile.imread(data_dir / "fixtures" / "mask2d.tif")
    inverted = np.where(labels > 0, 0, 7).astype(np.uint16)
    inverted[:40, :40] = 3  # not only two values
    tifffile.imwrite(tmp_path / "gt.tif", inverted)
    tifffile.imwrite(tmp_path / "pred.tif", labels)
    _, err = evaluate(capsys, tmp_path / "pred.tif", tmp_path / "gt.tif")
    assert err.startswith(f"warning: {tmp_path / 'gt.tif'}: the ground truth is 2 objects, ")
    assert "(ID 7)" in err


# --- no false alarms on the real data ------------------------------------------------------


def test_no_warning_on_real_ground_truth(data_dir):
    """Every ground truth of the bundled models' validation data and the Cell Tracking
    Challenge, taken as what it is (labels, binary mask, membrane map): no note."""
    from tessella.engine.evaluation import ground_truth_note, prediction_note

    checked = 0
    for kind, pattern in (
        ("labels", "nuclei2d_dsb2018/val/masks/*.tif"),
        ("labels", "ctc_Fluo-N2DH-GOWT1/01_GT/SEG/*.tif"),
        ("labels", "ctc_Fluo-N2DH-SIM+/01_GT/SEG/*.tif"),
        ("labels", "fixtures/mask*.tif"),
        ("boundaries", f"{ISBI}/boundaries/*.tif"),
        ("binary", "em_mito_lucchipp/val/mito.tif"),
    ):
        for path in sorted(data_dir.glob(pattern)):
            truth = tifffile.imread(path)
            objects = {
                "labels": truth,
                "boundaries": ndimage.label(truth == 0)[0],
                "binary": ndimage.label(truth > 0)[0],
            }[kind]
            assert ground_truth_note(truth, path.name, objects, kind) is None, path
            assert prediction_note(objects, path.name) is None, path  # labels look like labels
            checked += 1
    assert checked > 180


def test_no_warning_on_real_predictions(data_dir, tmp_path, capsys):
    """nuclei2d on DSB2018 validation images and em-membranes2d on ISBI slices, scored as the
    README says: no warning."""
    images = sorted((data_dir / "nuclei2d_dsb2018" / "val" / "images").glob("*.tif"))[:6]
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    for path in images:
        (tmp_path / "images" / path.name).symlink_to(path)
        (tmp_path / "masks" / path.name).symlink_to(path.parents[1] / "masks" / path.name)
    assert main(["segment", str(tmp_path / "images"), "-o", str(tmp_path / "pred"), "--model",
                 "nuclei2d", "-q", "--no-tta"]) == 0  # fmt: skip
    capsys.readouterr()
    _, err = evaluate(capsys, tmp_path / "pred", tmp_path / "masks", "--metric", "seg")
    assert err == ""
