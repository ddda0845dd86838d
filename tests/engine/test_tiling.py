import tracemalloc

import numpy as np
import pytest
import torch

from tessella.engine.device import ExecutionPlan
from tessella.engine.inference import NetworkRunner, prepare_network
from tessella.engine.models import UNet
from tessella.engine.pipeline import run_steps
from tessella.engine.progress import Progress
from tessella.engine.tiling import blend_window, predict_tiled, tile_grid

FP32 = ExecutionPlan("cpu", None, False)


def _runner(network):
    net = prepare_network(network, FP32)
    return NetworkRunner(net, FP32, lambda raw: {"out": raw}, {"out": "scalar"}, network.ndim)


def _small_cnn(ndim):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d if ndim == 2 else torch.nn.Conv3d
    net = torch.nn.Sequential(conv(1, 4, 3, padding=1), torch.nn.ReLU(), conv(4, 2, 3, padding=1))
    net.ndim = ndim
    return net  # receptive field radius 2


def test_grid_covers_image_with_aligned_origins():
    grid = tile_grid((1000, 700), (256, 256), (32, 32), multiple=16)
    for origins, tile in zip(grid.origins, grid.tile_shape):
        assert all(o % 16 == 0 for o in origins)
        assert tile % 16 == 0
    assert grid.padded_shape[0] >= 1000 + 64


def test_tile_too_small_for_halo_is_a_clear_error():
    with pytest.raises(ValueError, match="too small for halo"):
        tile_grid((1000, 1000), (64, 64), (32, 32), multiple=16)


def test_blend_window_is_zero_on_halo_and_positive_inside():
    w = blend_window(64, 8, 8)
    assert (w[:8] == 0).all() and (w[-8:] == 0).all()
    assert (w[8:-8] > 0).all() and w[32] == 1


@pytest.mark.parametrize("ndim", [2, 3])
def test_tiled_equals_untiled_when_receptive_field_fits_halo(ndim):
    rng = np.random.default_rng(1)
    shape = (150, 170) if ndim == 2 else (40, 45, 50)
    image = rng.normal(size=(1, *shape)).astype(np.float32)
    runner = _runner(_small_cnn(ndim))
    tiled = run_steps(predict_tiled(image, runner, (48,) * ndim, (4,) * ndim))
    untiled = run_steps(predict_tiled(image, runner, (512,) * ndim, (4,) * ndim))
    assert tiled["out"].shape == (2, *shape)
    np.testing.assert_allclose(tiled["out"], untiled["out"], atol=1e-5)


def test_tiled_unet_equals_untiled_with_aligned_tiles():
    torch.manual_seed(0)
    net = UNet(ndim=2, in_channels=1, out_channels=2, features=(4, 8)).eval()
    image = np.random.default_rng(2).normal(size=(1, 200, 230)).astype(np.float32)
    runner = _runner(net)
    tiled = run_steps(predict_tiled(image, runner, (96, 96), (16, 16), multiple=2))
    untiled = run_steps(predict_tiled(image, runner, (512, 512), (16, 16), multiple=2))
    np.testing.assert_allclose(tiled["out"], untiled["out"], atol=1e-4)


def test_yields_typed_progress_once_per_tile_and_stops_when_closed():
    calls = []

    def forward(window):
        calls.append(window.shape)
        return {"out": window}

    image = np.ones((1, 300, 300), np.float32)
    grid = tile_grid((300, 300), (64, 64), (8, 8))
    steps = predict_tiled(image, forward, (64, 64), (8, 8))
    first = next(steps)
    assert first == Progress("predict", 0, grid.n_tiles)
    seen = [next(steps) for _ in range(3)]
    assert [p.done for p in seen] == [1, 2, 3]
    steps.close()  # what a cancelled worker does
    assert len(calls) == 3 < grid.n_tiles


def _peak_bytes(shape, tile):
    def forward(window):
        return {"out": window[:1] * 2}

    image = np.zeros((1, *shape), np.float32)
    tracemalloc.start()
    run_steps(predict_tiled(image, forward, tile, (8, 8)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_peak_memory_grows_with_image_not_with_tiles():
    few_tiles = _peak_bytes((512, 512), (256, 256))
    many_tiles = _peak_bytes((512, 512), (48, 48))
    bigger = _peak_bytes((1024, 1024), (48, 48))
    assert many_tiles < 1.3 * few_tiles  # ~150 tiles cost no more than ~9
    assert 3 < bigger / many_tiles < 5  # 4x the pixels, about 4x the memory


@pytest.mark.parametrize(
    ("pad_mode", "scipy_mode"),
    [("reflect", "mirror"), ("symmetric", "reflect"), ("edge", "nearest")],
)
def test_the_image_is_extended_past_its_edges_as_pad_mode_says(pad_mode, scipy_mode):
    # a 5x5 mean sees 2 px past the edge: tiled, it must equal scipy's filter with the same
    # extension (numpy's reflect is scipy's mirror, symmetric is scipy's reflect)
    from scipy import ndimage

    image = np.random.default_rng(1).random((1, 70, 90)).astype(np.float32)

    def mean5(window):
        return {"mean": ndimage.uniform_filter(window, (1, 5, 5), mode="constant")}

    outputs = run_steps(predict_tiled(image, mean5, (48, 48), (8, 8), pad_mode=pad_mode))
    expected = ndimage.uniform_filter(image, (1, 5, 5), mode=scipy_mode)
    np.testing.assert_allclose(outputs["mean"], expected, atol=1e-5)


def test_an_unknown_pad_mode_is_refused_by_name():
    with pytest.raises(ValueError, match="padding 'wrap': choose one of reflect, symmetric, edge"):
        run_steps(
            predict_tiled(np.zeros((1, 8, 8), np.float32), dict, (8, 8), (0, 0), pad_mode="wrap")
        )


def test_the_model_card_chooses_the_padding(tmp_path, monkeypatch):
    import json
    import shutil

    from tessella.engine import tiling
    from tessella.engine.pipeline import predict_steps
    from tessella.engine.registry import ModelError, bundled_dir, load_model

    model = tmp_path / "m"
    shutil.copytree(bundled_dir() / "nuclei2d", model)
    card = json.loads((model / "card.json").read_text())
    card["defaults"]["pad"] = "edge"
    (model / "card.json").write_text(json.dumps(card))
    used = []
    real = tiling.pad_array
    monkeypatch.setattr(
        tiling, "pad_array", lambda a, w, mode: used.append(mode) or real(a, w, mode)
    )
    image = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    run_steps(predict_steps(image, load_model(str(model)), "YX", device="cpu"))
    run_steps(predict_steps(image, "nuclei2d", "YX", device="cpu"))
    assert used == ["edge", "reflect"]  # the bundled card says nothing: mirrored

    card["defaults"]["pad"] = "zeros"
    (model / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"card.json: defaults.pad 'zeros' is not one of"):
        load_model(str(model))
