"""``divisions_reproduced`` (``tessella evaluate --ctc``'s "divisions: N of M") counts a
ground-truth division as found only where the result divides there: the daughter's result
track is a daughter of the mother's (user test s33/t12, finding 3). A daughter that simply
carries on the mother's track ID reproduces the link (the links figure counts it, as the
README says) but was also counted as a division found: "divisions: 7 of 9" where the result
had 4. On real tracks: the TRA markers of Fluo-N2DH-SIM+ 01, frames 8-12, in which tracks 11,
18 and 24 divide (daughters 31-36)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.engine import tracking

SIM = "ctc_Fluo-N2DH-SIM+"
FRAMES = list(range(8, 13))
DIVISIONS = {31: 11, 32: 11, 33: 18, 34: 18, 35: 24, 36: 24}


@pytest.fixture(scope="module")
def sim_truth(data_dir):
    """The markers of frames 8-12, the ground truth's tracks and the divisions among them."""
    root = data_dir / SIM / "01_GT" / "TRA"
    markers = np.stack([tifffile.imread(root / f"man_track{t:03d}.tif") for t in FRAMES])
    table = tracking.read_ctc_tracks(root / "man_track.txt")
    # the tracks as frame indices of the stack (frame 8 is index 0)
    shifted = [tracking.Track(k.id, k.start - 8, k.end - 8, k.parent) for k in table]
    present = set(np.unique(markers).tolist())
    lineage = {k.id: k.parent for k in table if k.parent and {k.id, k.parent} <= present}
    assert lineage == DIVISIONS
    return markers.astype(np.int32), shifted, lineage


def test_a_result_that_divides_as_the_truth_finds_every_division(sim_truth):
    markers, table, lineage = sim_truth
    scores = tracking.link_accuracy(markers, table, markers, lineage)
    assert scores["division_links"] == 6
    assert scores["divisions_reproduced"] == 6
    assert scores["reproduced"] == scores["links"]


def test_a_daughter_that_keeps_the_mothers_id_is_a_link_not_a_division(sim_truth):
    """Daughter 31 carries on track 11 (the mother's ID, no division in the result), and
    daughters 35 and 36 are new tracks without a parent: the links into 31 are reproduced
    as before, 35 and 36's are not; of the 6 divisions only the 3 the result makes (32 of
    11, 33 and 34 of 18) are found."""
    markers, table, lineage = sim_truth
    tracked = markers.copy()
    tracked[tracked == 31] = 11
    kept = {c: p for c, p in lineage.items() if c not in (31, 35, 36)}
    scores = tracking.link_accuracy(markers, table, tracked, kept)
    assert scores["division_links"] == 6
    assert scores["divisions_reproduced"] == 3
    assert scores["reproduced"] == scores["links"] - 2  # 11 -> 31 counts as a link kept
