"""The bundled cells2dt model on held-out frames of the Fluo-N2DH-SIM+ movie."""

import numpy as np
import tifffile

from tessella.engine import metrics, tracking
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model


def test_card_and_held_out_frames_of_sim_plus(data_dir):
    model = load_model("cells2dt")
    card = model.card.raw
    assert card["method"] == "temporal" and card["input"]["window"] == 3
    assert card["training"]["command"].startswith("tessella train temporal")
    assert {e["sequence"].split("/")[-2] for e in card["validation"]["sequences"]} == {
        "ctc_Fluo-N2DH-SIM+",
        "ctc_Fluo-N2DH-GOWT1",
    }
    root = data_dir / "ctc_Fluo-N2DH-SIM+"
    frames = range(56, 62)  # held out of training; a 320 x 320 corner keeps the test quick
    crop = (slice(0, 320), slice(0, 320))
    movie = np.stack([tifffile.imread(root / "01" / f"t{t:03d}.tif")[crop] for t in frames])
    truth = np.stack(
        [tifffile.imread(root / "01_GT" / "SEG" / f"man_seg{t:03d}.tif")[crop] for t in frames]
    )
    result = run_steps(segment_steps(movie, model, "TYX"))
    assert result.labels.shape == movie.shape and result.lineage is not None
    assert metrics.seg_scores(list(zip(truth, result.labels)))["seg"] > 0.75
    # one cell keeps one ID: most ground-truth cells map to the same track in consecutive frames
    kept = []
    for t in range(len(frames) - 1):
        for cell in np.unique(truth[t])[1:]:
            if cell in truth[t + 1]:
                a = np.bincount(result.labels[t][truth[t] == cell]).argmax()
                b = np.bincount(result.labels[t + 1][truth[t + 1] == cell]).argmax()
                kept.append(a == b != 0)
    assert len(kept) > 40 and np.mean(kept) > 0.9
    assert len(tracking.track_table(result.labels, result.lineage)) < 2 * len(np.unique(truth[0]))


def test_unlinked_ids_across_a_blank_frame_are_not_split_as_tracks(data_dir):
    """Without linking, every object of the movie has its own ID (numbered frame after
    frame, as blockwise): no track crosses the blank frame. Per-frame IDs that repeated
    after it were once renumbered as pieces of one track, with a lineage between."""
    root = data_dir / "ctc_Fluo-N2DH-SIM+" / "01"
    crop = (slice(0, 256), slice(0, 256))
    first, last = (tifffile.imread(root / f"t{t:03d}.tif")[crop] for t in (56, 58))
    movie = np.stack([first, np.zeros_like(first), last])
    unlinked = run_steps(segment_steps(movie, "cells2dt", "TYX", params={"link": False}))
    assert not unlinked.labels[1].any() and unlinked.lineage == {}
    ids = [set(np.unique(frame[frame > 0]).tolist()) for frame in unlinked.labels]
    assert ids[0] and not ids[0] & ids[2]  # one ID, one object: none repeats
    assert ids[2] == set(range(len(ids[0]) + 1, len(ids[0]) + len(ids[2]) + 1))  # no gaps
    linked = run_steps(segment_steps(movie, "cells2dt", "TYX"))
    assert linked.lineage  # linked tracks crossing the blank frame go on as children


def test_a_lineage_keeps_no_track_that_lived_only_in_blank_frames():
    """A parent whose only frames were blank (cleared) is no track: its division goes, as
    blockwise drops it."""
    from tessella.engine.methods import Prediction
    from tessella.engine.pipeline import series_without_blank_frames

    movie = np.zeros((3, 4, 4), np.int32)
    movie[0, 0, 0] = 1  # track 1 only in frame 0, which is blank
    movie[1:, 0, 0] = 2  # its daughters 2 and 3
    movie[1:, 3, 3] = 3
    maps = {"foreground": np.zeros((1, 4, 4), np.float32)}
    predictions = [Prediction(maps, "YX", {"blank": t == 0}) for t in range(3)]
    labels, lineage = series_without_blank_frames(movie, {2: 1, 3: 1}, predictions)
    assert not labels[0].any() and lineage == {}
