"""The command line with objects that overlap: --stack and evaluate --overlapping."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image, read_mask_stack, write_mask_stack
from tests.conftest import crossing_rods


def test_segment_writes_a_mask_stack(tmp_path, tiny_patches_dir, nuclei_sample, capsys):
    image = tmp_path / "nuclei.tif"
    tifffile.imwrite(  # 0.3 µm pixels, which the stack keeps as the labels would
        image,
        nuclei_sample[0][:128, :128],
        imagej=True,
        resolution=(1 / 0.3, 1 / 0.3),
        metadata={"unit": "micron", "axes": "YX"},
    )
    out = tmp_path / "objects.tif"
    args = ["segment", str(image), "-o", str(out), "--model", str(tiny_patches_dir), "-q"]
    assert main([*args, "--stack", "--set", "fg_threshold=0"]) == 0
    stack = tifffile.imread(out)
    assert stack.ndim == 3 and stack.shape[1:] == (128, 128) and stack.dtype == np.uint8
    assert set(np.unique(stack)) <= {0, 1}
    written = read_image(out)
    assert written.axes == "TYX"  # frame n is object n (Fiji, the reader)
    assert written.pixel_size == pytest.approx({"Y": 0.3, "X": 0.3}) and written.unit == "µm"
    # a method whose objects never overlap has no stack to write
    assert main(["segment", str(image), "-o", str(tmp_path / "x.tif"), "--stack", "-q"]) == 1
    assert "do not overlap" in capsys.readouterr().err
    assert not (tmp_path / "x.tif").exists()


def test_evaluate_overlapping_matches_each_mask(tmp_path, capsys):
    rods = crossing_rods()
    for folder in ("gt", "pred"):
        (tmp_path / folder).mkdir()
    write_mask_stack(tmp_path / "gt" / "a.tif", rods)
    write_mask_stack(tmp_path / "pred" / "a.tif", np.stack([rods[0] | rods[1], rods[2]]))
    # a label image is read as a stack of its objects
    labels = np.zeros(rods.shape[1:], np.uint16)
    labels[rods[2]] = 7
    tifffile.imwrite(tmp_path / "gt" / "b.tif", labels)
    tifffile.imwrite(tmp_path / "pred" / "b.tif", labels)
    np.testing.assert_array_equal(read_mask_stack(tmp_path / "gt" / "b.tif"), rods[2:])
    scores_file = tmp_path / "s.json"
    args = ["evaluate", str(tmp_path / "pred"), str(tmp_path / "gt"), "--overlapping"]
    assert main([*args, "--json", str(scores_file)]) == 0
    scores = json.loads(scores_file.read_text())
    # a: the merge matches the longer rod only (2 of 3); b: perfect
    assert scores["n_images"] == 2
    assert abs(scores["ap"]["0.5"] - (2 / 3 + 1) / 2) < 1e-9
    assert "avS" in capsys.readouterr().out
    assert main([*args, "--metric", "seg"]) == 1
    assert "AP only" in capsys.readouterr().err


def test_empty_mask_planes_are_no_objects(tmp_path):
    """A ground-truth stack with empty planes (an annotation tool's unused slots) scores as
    the same stack without them: an empty plane is no object to miss."""
    rods = crossing_rods()
    padded = np.concatenate([rods, np.zeros((2, *rods.shape[1:]), bool)])
    write_mask_stack(tmp_path / "gt.tif", padded)
    write_mask_stack(tmp_path / "pred.tif", rods[:2])
    assert len(tifffile.imread(tmp_path / "gt.tif")) == len(rods) + 2
    np.testing.assert_array_equal(read_mask_stack(tmp_path / "gt.tif"), rods)
    out = tmp_path / "s.json"
    args = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--overlapping"]
    assert main([*args, "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["recall"]["0.5"] == pytest.approx(2 / 3)
