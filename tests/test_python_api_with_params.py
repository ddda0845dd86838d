"""``SegmentResult.with_params``: a result post-processed again with other parameters from its
cached predictions (user test s28/t4, problem 3), and the result's summary repr (problem 7).
Real data: ISBI 2012 EM sections with em-membranes2d, a Fluo-N2DH-SIM+ movie with nuclei2d."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile


@pytest.fixture
def network_calls():
    """How many times any torch module has run its forward since the fixture began (every
    network call passes through one)."""
    from torch.nn.modules.module import register_module_forward_pre_hook

    calls = []
    handle = register_module_forward_pre_hook(lambda module, args: calls.append(module))
    yield calls
    handle.remove()


@pytest.fixture(scope="module")
def em_stack(data_dir):
    images = data_dir / "em_membranes_isbi2012" / "images"
    return np.stack([tifffile.imread(images / f"0{i}.tif")[:128, :128] for i in range(3)])


@pytest.fixture(scope="module")
def em_result(em_stack):
    import tessella

    steps = tessella.segment_steps(
        em_stack, "em-membranes2d", axes="ZYX", spacing=(50, 4, 4), device="cpu"
    )
    return tessella.run_steps(steps)


def test_with_params_equals_segmenting_with_them_without_running_the_network(
    em_stack, em_result, network_calls
):
    import tessella

    before = em_result.labels.copy()
    changed = []
    for beta in (0.3, 0.6):
        network_calls.clear()
        tuned = em_result.with_params(beta=beta)
        assert network_calls == []  # post-processing only
        segmented = tessella.segment(
            em_stack, "em-membranes2d", axes="ZYX", spacing=(50, 4, 4), device="cpu", beta=beta
        )
        assert network_calls  # (the spy sees the network when it runs)
        assert tuned.labels.dtype == segmented.dtype
        np.testing.assert_array_equal(tuned.labels, segmented)
        changed.append(not np.array_equal(tuned.labels, before))
        assert tuned.recipe()["params"]["beta"] == beta
        assert tuned.recipe()["spacing"] == [50.0, 4.0, 4.0] and tuned.axes == "ZYX"
        assert tuned.predictions == em_result.predictions
    assert changed[-1]  # beta 0.6 splits objects that 0.4 keeps whole
    np.testing.assert_array_equal(em_result.labels, before)  # the result itself is unchanged
    assert em_result.recipe()["params"]["beta"] == 0.4
    # the other parameters keep the result's values; a dict and keywords, the keywords last
    again = em_result.with_params(beta=0.3).with_params({"beta": 0.5, "min_size": 200}, beta=0.4)
    assert again.recipe()["params"] == {**em_result.recipe()["params"], "min_size": 200}


def test_with_params_refuses_what_segment_refuses_in_the_same_words(em_stack, em_result):
    import tessella

    for bad in ({"foo": 1}, {"beta": 2}, {"min_size": "big"}):
        with pytest.raises(ValueError) as by_segment:
            tessella.segment(em_stack, "em-membranes2d", axes="ZYX", **bad)
        with pytest.raises(ValueError) as by_result:
            em_result.with_params(**bad)
        assert str(by_result.value) == str(by_segment.value)
    with pytest.raises(TypeError, match="params must be a dict"):
        em_result.with_params([("beta", 0.3)])


def test_with_params_on_a_movie_post_processes_each_frame_as_segment_does(data_dir, network_calls):
    import tessella

    sim = data_dir / "ctc_Fluo-N2DH-SIM+" / "01"
    movie = np.stack([tifffile.imread(sim / f"t00{t}.tif")[:128, :128] for t in range(3)])
    options = dict(axes="TYX", tta=False, device="cpu")
    result = tessella.run_steps(tessella.segment_steps(movie, "nuclei2d", **options))
    assert len(result.predictions) == 3
    network_calls.clear()
    tuned = result.with_params(seed_thresh=0.8, min_size=150)
    assert network_calls == []
    segmented = tessella.segment(movie, "nuclei2d", seed_thresh=0.8, min_size=150, **options)
    assert tuned.labels.shape == (3, 128, 128)
    np.testing.assert_array_equal(tuned.labels, segmented)
    assert not np.array_equal(tuned.labels, result.labels)


def test_a_result_s_repr_summarises_it_without_its_arrays(em_result):
    shown = repr(em_result)
    objects = int(np.count_nonzero(np.unique(em_result.labels)))
    assert "array(" not in shown and "\n" not in shown and len(shown) < 400, shown
    assert shown.startswith("SegmentResult(model='em-membranes2d' (boundary)")
    assert "labels=int32 (3, 128, 128) ZYX" in shown and f"{objects} objects" in shown
    assert "'beta': 0.4" in shown and "predictions=1 part" in shown
