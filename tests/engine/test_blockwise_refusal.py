"""A blockwise run refused because the unfinished run into its output had other settings names
each setting that differs as the Segment panel and the command line name it, with the value of
the unfinished run and this run's (it said "other settings (segmenter)" for a change of TTA,
tile, parameters or inversion alike)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.blockwise import (
    BlockwiseSupport,
    FunctionSegmenter,
    label_blocks_steps,
    segment_blockwise_steps,
    work_dir,
)
from tessella.engine.pipeline import run_steps


def _cancel_after_first_block(steps) -> None:
    for progress in steps:
        if progress.stage == "segment" and progress.region is not None:
            break
    steps.close()


def _refusal(steps) -> str:
    """The refusal, which comes once the input's pixels are identified (before any block)."""
    with pytest.raises(ValueError, match="other settings") as refused:
        for progress in steps:
            assert progress.stage == "fingerprint"
    return str(refused.value)


def test_a_model_run_names_tta_tile_parameters_and_intensities(tmp_path, nuclei_sample, nuclei2d):
    image = np.ascontiguousarray(nuclei_sample[0][:128, :256])  # two blocks of 128
    out = tmp_path / "labels.zarr"
    options = {"block": 128, "device": "cpu"}
    _cancel_after_first_block(segment_blockwise_steps(image, out, nuclei2d, "YX", **options))
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 1

    message = _refusal(segment_blockwise_steps(image, out, nuclei2d, "YX", tta=True, **options))
    assert message.startswith(
        f"{out}: an unfinished blockwise run with other settings (test-time augmentation: off "
        f"in the unfinished run, on now) is in {work_dir(out)}; pass overwrite=True"
    )

    changed = segment_blockwise_steps(
        image,
        out,
        nuclei2d,
        "YX",
        {"seed_thresh": 0.8, "min_size": 20},
        tta=True,
        tile=256,
        invert=True,
        **options,
    )
    said = _refusal(changed).split("other settings (")[1].split(") is in ")[0].split("; ")
    assert sorted(said) == sorted(
        [
            "test-time augmentation: off in the unfinished run, on now",
            "tile size: 1024 px in the unfinished run, 256 px now",
            "seed_thresh: 0.9 in the unfinished run, 0.8 now",
            "intensities: as the model says in the unfinished run, inverted now",
            "min_size: 10 in the unfinished run, 20 now",  # applied after stitching
        ]
    )
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 1  # kept
    result = run_steps(segment_blockwise_steps(image, out, nuclei2d, "YX", **options))
    assert result.resumed == 1  # the settings it had: resumed


def _components(image, axes, origin):
    from scipy import ndimage

    return ndimage.label(image > 0)[0]


def test_a_function_run_names_block_halo_stitching_and_sizes(tmp_path):
    image = np.zeros((64, 64), np.uint8)
    image[10:50, 30:34] = 1
    out = tmp_path / "labels.zarr"
    segmenter = FunctionSegmenter(_components)

    def steps(**options):
        settings = {"block": 32, "halo": 2, "support": BlockwiseSupport(0, "touch")} | options
        return label_blocks_steps(image, out, segmenter, "YX", **settings)

    _cancel_after_first_block(steps())
    message = _refusal(
        steps(block=(32, 48), halo=3, support=BlockwiseSupport(2, "overlap"), max_size=500)
    )
    said = message.split("other settings (")[1].split(") is in ")[0].split("; ")
    assert sorted(said) == sorted(
        [
            "block size: 32 px in the unfinished run, 32x48 px now",
            "halo: 2 px in the unfinished run, 3 px now",
            "the method's context: 0 in the unfinished run, 2 now",
            "stitching: touch in the unfinished run, overlap now",
            "max_size: 0 in the unfinished run, 500 now",
        ]
    )
    message = _refusal(
        label_blocks_steps(
            image,
            out,
            FunctionSegmenter(np.zeros_like),
            "YX",
            block=32,
            halo=2,
            support=BlockwiseSupport(0, "touch"),
        )
    )
    assert "(segmenter: " in message and "_components in the unfinished run, " in message
