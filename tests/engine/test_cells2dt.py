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
    """Without linking, IDs are per frame: the same ID before and after a blank frame is
    no track crossing it. They were renumbered as pieces of one, with a lineage between."""
    root = data_dir / "ctc_Fluo-N2DH-SIM+" / "01"
    crop = (slice(0, 256), slice(0, 256))
    first, last = (tifffile.imread(root / f"t{t:03d}.tif")[crop] for t in (56, 58))
    movie = np.stack([first, np.zeros_like(first), last])
    unlinked = run_steps(segment_steps(movie, "cells2dt", "TYX", params={"link": False}))
    assert not unlinked.labels[1].any() and unlinked.lineage == {}
    ids = [set(np.unique(frame[frame > 0]).tolist()) for frame in unlinked.labels]
    assert ids[0] & ids[2]  # per-frame IDs repeat after the blank frame, as they should
    assert max(ids[2]) == len(ids[2])  # 1..n in that frame, not moved past the first's
    linked = run_steps(segment_steps(movie, "cells2dt", "TYX"))
    assert linked.lineage  # linked tracks crossing the blank frame go on as children
