"""The temporal method: network, post-processing, linking, CTC I/O, training data, pipeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tessella.engine import tracking
from tessella.engine.methods import Prediction, get_method
from tessella.engine.models import TemporalUNet
from tessella.engine.params import make_params
from tessella.engine.train.timelapse import load_timelapse_samples, window_indices
from tests.conftest import cell_movie, write_ctc_sequence

temporal = get_method("temporal")


def _relabel_randomly(labels, seed=0):
    """Each frame's IDs shuffled independently: what per-frame segmentation produces."""
    rng = np.random.default_rng(seed)
    out = np.zeros_like(labels)
    for t, frame in enumerate(labels):
        ids = np.unique(frame)
        ids = ids[ids > 0]
        lookup = np.zeros(frame.max() + 1, labels.dtype)
        lookup[ids] = rng.permutation(len(ids)) + 10
        out[t] = lookup[frame]
    return out


# --- network ----------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["centre", "last"])
def test_temporal_unet_reads_the_right_frames(target):
    torch.manual_seed(0)
    net = TemporalUNet(window=3, out_channels=(1, 1), features=(4, 8), target=target).eval()
    x = torch.randn(1, 3, 16, 16)
    changed_future = x.clone()
    changed_future[:, 2] += 1.0  # only the last frame of the window changes
    changed_past = x.clone()
    changed_past[:, 0] += 1.0
    with torch.no_grad():
        base, future, past = net(x), net(changed_future), net(changed_past)
    assert base.shape == (1, 2, 16, 16)
    assert not torch.allclose(base, past)  # every target frame sees the past
    # the centre frame sees the frame after it; the causal "last" target is the frame itself
    assert not torch.allclose(base, future)
    net_last_only = TemporalUNet(window=3, features=(4, 8), target="last")
    assert net_last_only.target_index == 2


def test_temporal_unet_rejects_wrong_channels():
    net = TemporalUNet(window=3, features=(4, 8))
    with pytest.raises(ValueError, match="3 frames x 1 channels"):
        net(torch.zeros(1, 2, 16, 16))


def test_window_indices_repeat_the_ends():
    assert window_indices(0, 5, 5) == [0, 0, 0, 1, 2]
    assert window_indices(4, 5, 5) == [2, 3, 4, 4, 4]
    assert window_indices(0, 1, 3) == [0, 0, 0]  # one frame: the window repeats it
    assert window_indices(3, 5, 3, "last") == [1, 2, 3]


# --- post-processing ------------------------------------------------------------------------


def _prediction_from_labels(labels, noise=0.0, seed=0):
    """Maps a perfect network would give: foreground, and each cell's centre map."""
    from tessella.engine.train.methods import centre_map

    rng = np.random.default_rng(seed)
    foreground = (labels > 0).astype(np.float32)
    centre = centre_map(labels)
    if noise:
        foreground = np.clip(foreground + rng.normal(0, noise, labels.shape), 0, 1)
        centre = np.clip(centre + rng.normal(0, noise, labels.shape), 0, 1)
    return Prediction({"foreground": foreground[None], "centre": centre[None]}, "YX")


def test_postprocess_splits_touching_cells():
    _image, labels, _tracks = cell_movie()
    frame = labels[0]
    prediction = _prediction_from_labels(frame, noise=0.05)
    split = temporal.postprocess(prediction, temporal.Params(min_size=20))
    merged = temporal.postprocess(prediction, make_params(temporal.Params, split=False))
    from tessella.engine.metrics import matching

    assert matching(frame, split, 0.7).tp == len(np.unique(frame)) - 1  # 2 and 3 apart
    assert merged.max() == split.max() - 1  # without the split, 2 and 3 are one object


def test_temporal_smoothing_fills_a_gap():
    _image, labels, _tracks = cell_movie()
    predictions = [_prediction_from_labels(f) for f in labels]
    dark = predictions[3].arrays["foreground"].copy()
    dark[0][labels[3] == 1] = 0.3  # cell 1 fades below the threshold for one frame
    predictions[3] = Prediction({**predictions[3].arrays, "foreground": dark}, "YX")
    off = make_params(temporal.Params, temporal_sigma=0.0)
    on = make_params(temporal.Params, temporal_sigma=1.0)
    assert not temporal.postprocess_series(predictions, off)[0][3][labels[3] == 1].any()
    filled, _ = temporal.postprocess_series(predictions, on)
    from scipy import ndimage

    # the cell moves 2 px a frame, so its rim blurs; its core comes back as one object
    core = ndimage.binary_erosion(labels[3] == 1, iterations=3)
    assert (filled[3][core] > 0).all() and np.unique(filled[3][core]).size == 1
    # the preview of one frame reads its neighbours and equals the whole-movie result there
    preview = temporal.postprocess_frame(predictions, 3, on)
    unlinked, _ = temporal.postprocess_series(
        predictions, make_params(temporal.Params, on, link=False)
    )
    np.testing.assert_array_equal(preview, unlinked[3])


# --- linking ----------------------------------------------------------------------------------


def test_link_follows_cells_and_divisions():
    _image, labels, tracks = cell_movie()
    tracked, lineage = tracking.link(_relabel_randomly(labels))
    # one ID per cell through the movie: the labels equal the truth up to renaming
    for t in range(labels.shape[0]):
        for cell in np.unique(labels[t])[1:]:
            ids = np.unique(tracked[t][labels[t] == cell])
            assert ids.size == 1
    mapping = {int(c): int(np.unique(tracked[0][labels[0] == c])[0]) for c in (1, 2, 3, 4)}
    assert len(set(mapping.values())) == 4
    for t in range(labels.shape[0]):
        for cell in (1, 2, 3):
            assert set(np.unique(tracked[t][labels[t] == cell])) == {mapping[cell]}
    daughters = {int(np.unique(tracked[5][labels[5] == c])[0]) for c in (5, 6)}
    assert {lineage[d] for d in daughters} == {mapping[4]}
    table = {k.id: k for k in tracking.track_table(tracked, lineage)}
    split = labels.shape[0] // 2
    assert table[mapping[4]].end == split - 1
    assert all(table[d].start == split and table[d].parent == mapping[4] for d in daughters)
    markers = labels  # the cells themselves as markers
    gt_tracks = [tracking.Track(*row) for row in tracks]
    scores = tracking.link_accuracy(markers, gt_tracks, tracked, lineage)
    assert scores["link_accuracy"] == 1.0 and scores["divisions_reproduced"] == 2


def test_link_without_divisions_and_far_movers():
    _image, labels, tracks = cell_movie()
    tracked, lineage = tracking.link(labels, divisions=False)
    assert lineage == {}
    gt_tracks = [tracking.Track(*row) for row in tracks]
    scores = tracking.link_accuracy(labels, gt_tracks, tracked, lineage)
    # one daughter continues the mother's track (a link kept, but no division found: since
    # b8463f9 a division counts only where the daughter's track has the mother's as parent)
    assert scores["division_links"] == 2 and scores["divisions_reproduced"] == 0
    assert scores["reproduced"] == scores["links"] - 1  # the daughter that starts anew
    # a cell jumping 30 px no longer overlaps: matched by distance when allowed
    jump = np.zeros((2, 64, 100), np.int32)
    jump[0, 20:30, 10:20] = 1
    jump[1, 20:30, 40:50] = 7
    assert tracking.link(jump, max_distance=40)[0][1].max() == 1
    assert tracking.link(jump, max_distance=10)[0][1].max() == 2  # a new track


def test_link_reproduces_sim_plus_ground_truth(data_dir):
    import tifffile

    gt = data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT"
    frames = range(20)
    seg = np.stack([tifffile.imread(gt / "SEG" / f"man_seg{t:03d}.tif") for t in frames])
    markers = np.stack([tifffile.imread(gt / "TRA" / f"man_track{t:03d}.tif") for t in frames])
    tracked, lineage = tracking.link(_relabel_randomly(seg))
    scores = tracking.link_accuracy(
        markers, tracking.read_ctc_tracks(gt / "TRA" / "man_track.txt"), tracked, lineage
    )
    assert scores["links"] > 500
    assert scores["link_accuracy"] > 0.98


def test_napari_tracks_data():
    _image, labels, _tracks = cell_movie()
    tracked, lineage = tracking.link(labels)
    data, graph = tracking.napari_tracks(tracked, lineage)
    assert data.shape[1] == 4
    assert len(data) == sum(len(np.unique(f)) - 1 for f in labels)
    assert graph == {c: [p] for c, p in lineage.items()}
    first = data[(data[:, 0] == tracked[0][30, 30]) & (data[:, 1] == 0)][0]
    np.testing.assert_allclose(first[2:], [30, 30], atol=0.5)


# --- CTC format -------------------------------------------------------------------------------


def test_write_ctc_round_trip_and_protects_files(tmp_path):
    import tifffile

    _image, labels, tracks = cell_movie()
    tracked, lineage = tracking.link(labels)
    out = tmp_path / "01_RES"
    files = tracking.write_ctc(tracked, lineage, out)
    assert [f.name for f in files][:2] == ["mask000.tif", "mask001.tif"]
    np.testing.assert_array_equal(tifffile.imread(out / "mask005.tif"), tracked[5])
    assert tifffile.imread(out / "mask005.tif").dtype == np.uint16
    table = tracking.read_ctc_tracks(out / "res_track.txt")
    assert {(k.id, k.parent) for k in table if k.parent} == set(lineage.items())
    before = (out / "res_track.txt").read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        tracking.write_ctc(tracked[:, ::-1], {}, out)
    assert (out / "res_track.txt").read_bytes() == before
    assert not list(tmp_path.glob(".*partial*"))
    with pytest.raises(ValueError, match="TYX"):
        tracking.write_ctc(tracked[0], {}, tmp_path / "x")


def test_evaluate_ctc_scores_a_result_folder(tmp_path):
    image, labels, tracks = cell_movie()
    write_ctc_sequence(tmp_path, image, labels, tracks, seg_frames={2, 5})
    tracked, lineage = tracking.link(_relabel_randomly(labels))
    tracking.write_ctc(tracked, lineage, tmp_path / "01_RES")
    scores = tracking.evaluate_ctc(tmp_path / "01_RES", tmp_path / "01_GT")
    assert scores["seg_frames"] == 2 and scores["seg"] == 1.0
    assert scores["link_accuracy"] == 1.0
    # perfect masks without linking (new IDs in every frame) reproduce no link
    unlinked = labels + (labels > 0) * 100 * np.arange(len(labels))[:, None, None]
    tracking.write_ctc(unlinked, {}, tmp_path / "bad")
    bad = tracking.evaluate_ctc(tmp_path / "bad", tmp_path / "01_GT", range(4, 8))
    assert bad["seg_frames"] == 1 and bad["seg"] == 1.0
    assert bad["links"] == 3 + 2 + 3 * 5 and bad["link_accuracy"] == 0.0
    with pytest.raises(ValueError, match="no maskTTT"):
        tracking.evaluate_ctc(tmp_path / "01_GT", tmp_path / "01_GT")


# --- training data ----------------------------------------------------------------------------


def test_ctc_samples_hold_windows_and_ignore_unannotated_cells(tmp_path):
    import tifffile

    image, labels, tracks = cell_movie()
    sparse = labels.copy()
    sparse[2][sparse[2] == 1] = 0  # frame 2's SEG leaves cell 1 out (sparse annotation)
    seq = write_ctc_sequence(tmp_path / "data", image, labels, tracks, seg_frames={0, 2})
    tifffile.imwrite(tmp_path / "data" / "01_GT" / "SEG" / "man_seg002.tif", sparse[2])
    samples = load_timelapse_samples(seq, window=3)
    assert [s.name for s in samples] == ["data_01[t=000]", "data_01[t=002]"]
    first, second = samples
    assert first.image.shape == (3, *labels.shape[1:])
    np.testing.assert_allclose(first.image[0], first.image[1])  # frame 0 repeated
    assert first.ignore is None
    assert second.ignore[labels[2] == 1].all() and not second.ignore[labels[2] > 1].any()
    held = load_timelapse_samples(seq, window=3, exclude=["data_01[t=1:3]"])
    assert [s.name for s in held] == ["data_01[t=000]"]
    with pytest.raises(ValueError, match="Cell Tracking Challenge sequence folder"):
        load_timelapse_samples(tmp_path / "data" / "01_GT", window=3)


def test_stack_folder_samples_skip_unlabelled_frames(tmp_path):
    import tifffile

    image, labels, _tracks = cell_movie(frames=4)
    for sub in ("images", "masks"):
        (tmp_path / sub).mkdir()
    partial = labels.copy()
    partial[1] = 0
    tifffile.imwrite(tmp_path / "images" / "movie.tif", image, photometric="minisblack")
    tifffile.imwrite(tmp_path / "masks" / "movie.tif", partial, photometric="minisblack")
    samples = load_timelapse_samples(tmp_path, window=5)
    assert [s.name for s in samples] == ["movie[t=000]", "movie[t=002]", "movie[t=003]"]
    assert samples[0].image.shape[0] == 5
    tifffile.imwrite(tmp_path / "masks" / "movie.tif", partial[:3], photometric="minisblack")
    with pytest.raises(ValueError, match="movie.tif: expected a TYX"):
        load_timelapse_samples(tmp_path, window=3)


# --- the pipeline with a (tiny) trained model ---------------------------------------------------


def test_pipeline_segments_and_links_a_movie(tiny_temporal_dir):
    from tessella.engine.pipeline import run_steps, segment_steps
    from tessella.engine.registry import load_model

    model = load_model(tiny_temporal_dir)
    assert model.card.raw["architecture"]["name"] == "TemporalUNet"
    assert model.card.raw["input"]["window"] == 3
    image, _labels, _tracks = cell_movie()
    # threshold 0 keeps everything: the tiny model's quality does not matter here
    result = run_steps(segment_steps(image, model, "TYX", {"threshold": 0.0, "split": False}))
    assert result.axes == "TYX" and result.labels.shape == image.shape
    assert result.lineage is not None and len(result.predictions) == image.shape[0]
    # one track spans the movie: IDs are consistent, not renumbered per frame
    assert len(tracking.track_table(result.labels)) == 1
    # shorter than the window, and a single 2D frame, both work
    short = run_steps(segment_steps(image[:2], model, "TYX"))
    assert short.labels.shape == image[:2].shape
    single = run_steps(segment_steps(image[0], model, "YX"))
    assert single.labels.shape == image.shape[1:]


def test_pipeline_rejects_a_volume_for_a_time_lapse_model(tiny_temporal_dir):
    from tessella.engine.pipeline import run_steps, segment_steps

    image, _labels, _tracks = cell_movie()
    with pytest.raises(ValueError, match="movie.tif: .*time-lapses.*give axes TYX"):
        run_steps(segment_steps(image, str(tiny_temporal_dir), "ZYX", name="movie.tif"))


def test_training_targets_centre_map_and_ignored_pixels():
    from tessella.engine.train.methods import _temporal_loss, _temporal_targets

    _image, labels, _tracks = cell_movie()
    frame = labels[0]
    ignore = np.zeros(frame.shape, bool)
    ignore[:, :20] = True
    foreground, centre, weights = _temporal_targets(frame, None, None, ignore=ignore)
    np.testing.assert_array_equal(foreground, frame > 0)
    for cell in np.unique(frame)[1:]:
        assert centre[frame == cell].max() == 1.0  # each cell peaks at its centre
    # where cells 2 and 3 touch, the centre map is at its lowest
    touching = (frame == 2) & np.roll(frame == 3, -1, axis=1)  # cell 3 just right of it
    assert touching.any() and centre[touching].max() <= 0.2
    assert (weights[ignore] == 0).all() and (weights[~ignore] == 1).all()
    # the loss prefers the truth to its opposite, and ignores the ignored pixels
    targets = [torch.from_numpy(a)[None] for a in (foreground, centre, weights)]
    good = torch.from_numpy(np.stack([foreground, centre]) * 16 - 8)[None]
    bad = -good
    assert _temporal_loss(good, targets, 2) < _temporal_loss(bad, targets, 2)
    scrambled = good.clone()
    scrambled[..., :20] = -scrambled[..., :20]
    assert torch.isclose(_temporal_loss(scrambled, targets, 2), _temporal_loss(good, targets, 2))
