"""`--skip-existing` and a zarr input whose attributes were edited since its labels were made:
the input's fingerprint (its recipe's `input_identity`) left every attribute out, so an
input whose `tessella_axes` or pixel size was edited (read otherwise: other labels, another
pixel size written) counted as unchanged and its stale labels were kept. The attributes
that say how it is read are now compared (recorded as `attributes_sha256`); others (a time
stamp, display settings) still change nothing."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from tessella.cli import main
from tessella.engine.io import read_image

RUN = ["--device", "cpu", "--model", "nuclei2d", "--no-tta", "--skip-existing"]


@pytest.fixture
def source(tmp_path, nuclei_sample):
    """A 64 x 96 plain zarr crop of a real nuclei image, with its axes and pixel size."""
    image = nuclei_sample[0][:64, :96]
    path = tmp_path / "in.zarr"
    array = zarr.open(str(path), mode="w", shape=image.shape, chunks=image.shape, dtype=image.dtype)
    array[...] = image
    array.attrs.update({"tessella_axes": "YX", "pixel_size": {"Y": 0.5, "X": 0.5}, "unit": "µm"})
    return path


def _edit(path, **attrs):
    zarr.open(str(path), mode="r+").attrs.update(attrs)


def test_edited_axes_redo_the_labels_and_other_attributes_keep_them(tmp_path, source, capsys):
    out = tmp_path / "labels.zarr"
    run = ["segment", str(source), "-o", str(out), *RUN]
    assert main(run) == 0
    recorded = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert isinstance(recorded["input_identity"]["attributes_sha256"], str)
    capsys.readouterr()
    # an attribute that changes nothing read: still the same input, the labels kept
    _edit(source, acquired="2026-12-07T10:00:00", omero={"channels": []})
    made = (tmp_path / "labels.recipe.json").stat().st_mtime_ns
    assert main(run) == 0
    assert "skipped in.zarr" in capsys.readouterr().err
    assert (tmp_path / "labels.recipe.json").stat().st_mtime_ns == made
    # its axes edited: read transposed, so other labels; they were kept as they were
    _edit(source, tessella_axes="XY")
    assert main(run) == 0
    err = capsys.readouterr().err
    assert f"redoing labels.zarr: input {source} changed since: the attributes" in err
    assert np.asarray(read_image(out).data).shape == (96, 64)


def test_an_edited_pixel_size_redoes_blockwise_labels(tmp_path, source, capsys):
    """The pixel size scaled as a whole (0.5 to 1 µm: the same ratios, so the same voxel
    size to post-processing, but the labels are written with the input's): redone."""
    out = tmp_path / "labels.zarr"
    run = ["segment", str(source), "-o", str(out), *RUN, "--blockwise", "--workers", "0"]
    assert main(run) == 0
    assert read_image(out).pixel_size == {"Y": 0.5, "X": 0.5}
    capsys.readouterr()
    _edit(source, pixel_size={"Y": 1.0, "X": 1.0})
    assert main(run) == 0
    assert "changed since: the attributes" in capsys.readouterr().err
    assert read_image(out).pixel_size == {"Y": 1.0, "X": 1.0}


@pytest.mark.filterwarnings("ignore:.*stored as one chunk")
def test_python_blockwise_labels_record_it_too(tmp_path, source, capsys):
    """Labels made by Python's (or the panel's) `segment_blockwise`, their recipe saved
    beside them: the run records the attributes too, and `--skip-existing` redoes the labels
    once the input's axes are edited."""
    from tessella.engine.blockwise import segment_blockwise

    out = tmp_path / "labels.zarr"
    result = segment_blockwise(source, out, "nuclei2d", tta=False, device="cpu", block=64)
    assert isinstance(result.recipe["input_identity"]["attributes_sha256"], str)
    (tmp_path / "labels.recipe.json").write_text(json.dumps(result.recipe))
    run = ["segment", str(source), "-o", str(out), *RUN, "--blockwise", "--workers", "0"]
    run += ["--block", "64"]
    _edit(source, tessella_axes="XY")
    assert main(run) == 0
    assert "changed since: the attributes" in capsys.readouterr().err
    assert np.asarray(read_image(out).data).shape == (96, 64)
