"""``tessella.segment_blockwise_steps``, the generator form of ``segment_blockwise``, takes
the model's parameters as keywords as ``segment_blockwise`` does (review r1 finding 8:
``seed_thresh=0.8`` was a TypeError, 'got an unexpected keyword argument')."""

from __future__ import annotations

import pytest

import tessella


def test_segment_blockwise_steps_takes_parameters_as_keywords(tmp_path, nuclei_sample):
    image = nuclei_sample[0][:96, :96]
    out = tmp_path / "a.zarr"
    steps = tessella.segment_blockwise_steps(
        image, out, "nuclei2d", "YX", {"min_size": 5}, block=64, seed_thresh=0.8, tta=False
    )
    for progress in steps:
        if progress.stage == "segment" and progress.region is not None:
            steps.close()  # cancelled after a block: resumed below
            break
    # the same settings, the parameters given as params: the run resumes, the blocks kept
    params = {"min_size": 5, "seed_thresh": 0.8}
    result = tessella.run_steps(
        tessella.segment_blockwise_steps(image, out, "nuclei2d", "YX", params, block=64, tta=False)
    )
    assert result.resumed
    assert result.recipe["params"]["seed_thresh"] == 0.8
    assert result.recipe["params"]["min_size"] == 5  # params' too, the keywords last


def test_segment_blockwise_steps_refuses_an_unknown_keyword_in_its_own_name(
    tmp_path, nuclei_sample
):
    image = nuclei_sample[0][:96, :96]
    with pytest.raises(
        ValueError, match=r"^segment_blockwise_steps: unknown keyword 'seed_tresh'.*block"
    ):
        tessella.segment_blockwise_steps(image, tmp_path / "b.zarr", "nuclei2d", seed_tresh=0.8)
    assert not (tmp_path / "b.zarr").exists()
