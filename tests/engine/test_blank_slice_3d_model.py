"""A blank section of a volume gets no labels with a 3D model too, and is left out of the
check that the image looks like the model's training images; blank means one thing in memory
and blockwise (session 32, f1: after a75e155 em-mito3d still labelled ~5,900 pixels of a blank
slice of a Lucchi++ crop, and one blank slice of 9 warned that the crop looked unlike the
training images: its 10th percentile -0.73, training 0.13-0.23).

A blank (constant) slice: every channel the model reads is constant over it
(:func:`tessella.engine.normalize.blank_channels`, used by both paths)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.pipeline import segment

LUCCHI = "em_mito_lucchipp"
# 8 x 96 x 96 of the val volume; it looks like the training images (no warning) without a
# blank slice, and warned with one before (a blank slice is 1/9 of it: past the 10th pct)
CROP = (slice(0, 8), slice(128, 224), slice(384, 480))
AT = 4  # the blank slice, in the middle


def _iou(a, b) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _segment(image, model="em-mito3d", axes="ZYX"):
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        labels = segment(image, model, axes, device="cpu", tta=False)
    return labels, [str(w.message) for w in said]


@pytest.fixture(scope="module")
def crop(data_dir):
    image = tifffile.imread(data_dir / LUCCHI / "val" / "image.tif")[CROP]
    return np.ascontiguousarray(image)


@pytest.fixture(scope="module")
def without_blank(crop):
    return _segment(crop)


@pytest.fixture(scope="module")
def with_blank(crop):
    """``(labels, warnings, prediction, model)`` of the crop with a blank slice at ``AT``,
    as Segment makes them (its prediction: what Tune post-processes)."""
    from tessella.engine.pipeline import postprocess, predict_steps, resolve_params, run_steps
    from tessella.engine.registry import load_model

    model = load_model("em-mito3d")
    stack = np.insert(crop, AT, 0, axis=0)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        [prediction] = run_steps(predict_steps(stack, model, "ZYX", tta=False, device="cpu"))
    labels = postprocess(model, [prediction], resolve_params(model))
    return labels, [str(w.message) for w in said], prediction, model


def test_em_mito3d_labels_nothing_on_a_blank_slice(without_blank, with_blank):
    labels = with_blank[0]
    assert not labels[AT].any(), int((labels[AT] > 0).sum())  # (before: 1,000 pixels)
    # a wall, as for a 2D model's stack: no object on both sides of it
    before, after = set(np.unique(labels[:AT])) - {0}, set(np.unique(labels[AT + 1 :])) - {0}
    assert not before & after
    # the other slices: about what they are without the blank slice
    rest = np.delete(labels, AT, axis=0) > 0
    assert _iou(rest, without_blank[0] > 0) > 0.9


def test_a_blank_slice_is_left_out_of_the_input_check(without_blank, with_blank):
    assert not [w for w in without_blank[1] if "looks unlike" in w]
    assert not [w for w in with_blank[1] if "looks unlike" in w], with_blank[1]


def test_tune_labels_nothing_on_a_blank_slice_either(with_blank):
    """Tune's *Apply to all* and its preview of the blank slice, from Segment's prediction."""
    from tessella._widgets._tune_frames import _postprocess_frames
    from tessella.engine.methods import semantic
    from tessella.engine.pipeline import resolve_params

    labels, _, prediction, model = with_blank
    params = resolve_params(model)
    [(_, applied)] = list(_postprocess_frames(semantic, [prediction], params, (0,)))
    assert not applied[AT].any()
    assert np.array_equal(applied, labels)
    [(_, preview)] = list(
        _postprocess_frames(semantic, [prediction], params, (0,), AT, volume=True)
    )
    assert not preview.any()


def test_a_volume_of_blank_slices_gets_no_labels_and_says_so(crop):
    """Every slice constant, each at its own value (the volume is not constant)."""
    volume = np.broadcast_to(np.arange(4, dtype=np.uint8)[:, None, None] * 40, (4, 96, 96))
    labels, said = _segment(np.ascontiguousarray(volume))
    assert not labels.any()
    assert any("every slice is blank" in w for w in said), said


def test_blockwise_em_mito3d_labels_nothing_on_a_blank_slice(tmp_path, crop, with_blank):
    from tessella.engine.blockwise import segment_blockwise

    stack = np.insert(crop, AT, 0, axis=0)
    zarr.create_array(str(tmp_path / "stack.zarr"), data=stack, chunks=(9, 48, 96))
    result = segment_blockwise(
        tmp_path / "stack.zarr", tmp_path / "mito.zarr", "em-mito3d", "ZYX",
        block=(9, 48, 96), device="cpu", tta=False,
    )  # fmt: skip
    labels = zarr.open(str(result.path))[...]
    assert not labels[AT].any(), int((labels[AT] > 0).sum())
    assert _iou(labels > 0, with_blank[0] > 0) > 0.95


def _three_channels(crop, at: int) -> np.ndarray:
    """ZYXC: the crop in 3 channels; slice ``at``: channel 0 constant at 7, the others at 0."""
    stack = np.repeat(crop[:4, :64, :64, None], 3, axis=-1)
    stack[at] = 0
    stack[at, ..., 0] = 7
    return stack


@pytest.mark.parametrize("model", ["em-mito2d", "em-mito3d"])
def test_blank_is_one_thing_in_memory_and_blockwise(tmp_path, crop, model):
    """A slice whose one channel is constant at 7 and the others at 0 is blank in both: the
    same slices found (in memory: the prediction's ``blank_slices``; blockwise: the scan's),
    and no labels there."""
    from tessella.engine.blockwise import work_dir
    from tessella.engine.blockwise._driver import segment_blockwise_steps
    from tessella.engine.pipeline import postprocess, predict_steps, resolve_params, run_steps
    from tessella.engine.registry import load_model

    def scanned(work) -> set[int]:  # the blank slices the scan found (slice-wise: its units)
        ranges = json.loads((work / "ranges.json").read_text())
        found = {z for (_, z), values in ranges if all(v[2] == v[3] for v in values)}
        if (work / "blank_slices.json").exists():  # a 3D model's
            found |= {z for _, z in json.loads((work / "blank_slices.json").read_text())}
        return found

    stack = _three_channels(crop, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (its channels are averaged: warned of)
        loaded = load_model(model)
        [prediction] = run_steps(predict_steps(stack, loaded, "ZYXC", tta=False, device="cpu"))
        labels = postprocess(loaded, [prediction], resolve_params(loaded))  # as segment does
        zarr.create_array(str(tmp_path / "in.zarr"), data=stack, chunks=(4, 64, 64, 3))
        out = tmp_path / "out.zarr"
        steps = segment_blockwise_steps(
            str(tmp_path / "in.zarr"), out, model, "ZYXC", block=(4, 64, 64), device="cpu",
            tta=False,
        )  # fmt: skip
        found = None
        try:
            while True:
                if next(steps).stage == "segment" and found is None:
                    found = scanned(work_dir(out))
        except StopIteration as stop:
            result = stop.value
    assert prediction.meta.get("blank_slices") == [2]  # in memory
    assert found == {2}  # blockwise
    blockwise = zarr.open(str(result.path))[...]
    assert not labels[2].any() and not blockwise[2].any()
