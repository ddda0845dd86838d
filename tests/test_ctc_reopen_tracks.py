"""A Cell Tracking Challenge result folder reopened in napari keeps its tracks (user test
s33/t12, findings 1 and 2): the reader reads ``res_track.txt`` (``man_track.txt`` of a
ground truth's ``TRA``) into the labels' recorded lineage, as a Segment run of a time-lapse
model records it, and adds a Tracks layer beside them, so that Export writes the same
``res_track.txt`` again (it wrote every parent as 0, saying nothing); a track file that does
not fit the masks is said, naming it, and what fits is kept. A result ``01_RES`` beside its
movie ``01`` takes the movie's pixel size, as ``01_GT/SEG`` does.

The result is made of real tracks: the TRA markers of Fluo-N2DH-SIM+ 01, frames 8-12, in
which tracks 11 and 18 divide at frame 10 (daughters 31, 32 and 33, 34)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from tessella._io import COMPANION_OF_KEY, COMPANIONS_KEY, read_layers
from tessella._widgets._labels_states import STATES_KEY
from tessella._widgets._tracks_layer import LINEAGE_KEY
from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks, write_ctc
from tests.widgets.helpers import choose_text

SIM = "ctc_Fluo-N2DH-SIM+"
NUMBERS = list(range(8, 13))
DIVISIONS = {31: 11, 32: 11, 33: 18, 34: 18, 35: 24, 36: 24}


@pytest.fixture(scope="module")
def sim_markers(data_dir):
    """SIM+ 01's TRA markers of frames 8-12 and the divisions among them."""
    root = data_dir / SIM / "01_GT" / "TRA"
    markers = np.stack([tifffile.imread(root / f"man_track{t:03d}.tif") for t in NUMBERS])
    table = read_ctc_tracks(root / "man_track.txt")
    present = set(np.unique(markers).tolist())
    lineage = {k.id: k.parent for k in table if k.parent and {k.id, k.parent} <= present}
    assert lineage == DIVISIONS
    return markers.astype(np.uint16), lineage


def _result(folder, sim_markers):
    """A CTC result of the markers written into ``folder`` (``mask008.tif`` ...)."""
    markers, lineage = sim_markers
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (nothing to split or drop)
        write_ctc(markers, lineage, folder, frame_numbers=NUMBERS)
    return folder


def _labels_and_tracks(layers):
    assert [kind for _data, _kwargs, kind in layers] == ["labels", "tracks"]
    (labels, labels_kwargs, _), (tracks, tracks_kwargs, _) = layers
    return labels, labels_kwargs, tracks, tracks_kwargs


def test_a_result_folder_opens_with_its_divisions_and_a_tracks_layer(sim_markers, tmp_path):
    markers, lineage = sim_markers
    folder = _result(tmp_path / "sim_RES", sim_markers)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the file fits the masks: nothing said
        layers = read_layers(folder)
    labels, meta_kwargs, tracks, tracks_kwargs = _labels_and_tracks(layers)
    np.testing.assert_array_equal(labels, markers)
    metadata = meta_kwargs["metadata"]
    assert metadata["frame_numbers"] == NUMBERS
    assert metadata["axes"] == "TYX" and "axes_guessed" not in metadata
    [state] = metadata[STATES_KEY]  # as a Segment run records a linked movie
    assert state["lineage"] == lineage and not state["edited"]
    # the Tracks layer: a row per object at its centroid, divisions as graph edges
    assert tracks_kwargs["graph"] == {c: [p] for c, p in DIVISIONS.items()}
    assert tracks_kwargs["metadata"][LINEAGE_KEY] == lineage
    token = metadata[COMPANIONS_KEY]["tracks"]
    assert tracks_kwargs["metadata"][COMPANION_OF_KEY] == token
    assert tracks_kwargs["name"] == "sim_RES tracks"
    objects = sum(np.count_nonzero(np.unique(frame)) for frame in markers)
    assert tracks.shape == (objects, 4)
    row = tracks[(tracks[:, 0] == 31)][0]  # daughter 31 is first in frame 10 (index 2)
    ys, xs = np.nonzero(markers[2] == 31)
    np.testing.assert_allclose(row[1:], [2, ys.mean(), xs.mean()])


def test_the_tracks_of_a_ground_truth_tra_folder(data_dir, tmp_path):
    """``01_GT/TRA`` (``man_trackTTT.tif`` and ``man_track.txt``, frames 0-12 here, the file
    cut to them as the CTC ground truth of such a movie would be) opens with its divisions."""
    root = tmp_path / "01_GT" / "TRA"
    root.mkdir(parents=True)
    frames = range(13)
    tra = data_dir / SIM / "01_GT" / "TRA"
    markers = []
    for t in frames:
        markers.append(tifffile.imread(tra / f"man_track{t:03d}.tif"))
        tifffile.imwrite(root / f"man_track{t:03d}.tif", markers[-1])
    rows = []
    for k in read_ctc_tracks(tra / "man_track.txt"):
        if k.start <= frames[-1]:
            rows.append(f"{k.id} {k.start} {min(k.end, frames[-1])} {k.parent}")
    (root / "man_track.txt").write_text("\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers = read_layers(root)
    _labels, kwargs, _tracks, tracks_kwargs = _labels_and_tracks(layers)
    assert kwargs["metadata"][STATES_KEY][0]["lineage"] == DIVISIONS
    assert tracks_kwargs["graph"] == {c: [p] for c, p in DIVISIONS.items()}


def test_a_track_file_that_does_not_fit_the_masks_is_said_and_what_fits_kept(sim_markers, tmp_path):
    """``res_track.txt`` edited by hand: daughter 32's row removed, track 5's end moved,
    a row of a label in no mask, and daughter 34's mother changed to a track that goes on
    past her first frame. The warning names the file and each problem; the divisions that
    fit (31, 33, 35, 36) are kept."""
    markers, _lineage = sim_markers
    folder = _result(tmp_path / "sim_RES", sim_markers)
    track_file = folder / "res_track.txt"
    table = read_ctc_tracks(track_file)
    lines = []
    for k in table:
        if k.id == 32:
            continue
        end = k.end - 1 if k.id == 5 else k.end
        parent = 5 if k.id == 34 else k.parent
        lines.append(f"{k.id} {k.start} {end} {parent}")
    lines.append("999 8 9 0")
    track_file.write_text("\n".join(lines) + "\n")
    assert 5 in np.unique(markers[-1])  # track 5 goes on to frame 12

    with pytest.warns(UserWarning) as caught:
        layers = read_layers(folder)
    said = [str(w.message) for w in caught if "res_track" in str(w.message)]
    assert len(said) == 1, said
    [text] = said
    assert text.startswith(f"{track_file}: does not fit the masks beside it")
    assert "label 32 of the masks is not in it (no parent)" in text
    assert "track 999 is in no mask (left out)" in text
    assert "track 5 is in frames 8-11 in it, 8-12 in the masks" in text
    assert "division dropped: 34 of 5, not ending before it begins in the masks (8-12)" in text
    _labels, kwargs, _tracks, tracks_kwargs = _labels_and_tracks(layers)
    kept = {31: 11, 33: 18, 35: 24, 36: 24}
    assert kwargs["metadata"][STATES_KEY][0]["lineage"] == kept
    assert tracks_kwargs["graph"] == {c: [p] for c, p in kept.items()}


def test_an_unreadable_track_file_is_said_and_the_masks_open(sim_markers, tmp_path):
    folder = _result(tmp_path / "sim_RES", sim_markers)
    (folder / "res_track.txt").write_text("1 8 12 0\n2 8 twelve 0\n")
    with pytest.warns(UserWarning, match=r"res_track.txt: not read \(.*line 2"):
        layers = read_layers(folder)
    assert [kind for _data, _kwargs, kind in layers] == ["labels"]
    assert STATES_KEY not in layers[0][1]["metadata"]


def test_a_result_beside_its_movie_takes_its_pixel_size(data_dir, sim_markers, tmp_path):
    """``01_RES`` (masks without a pixel size, as CTC writes them) beside ``01`` (SIM+'s
    frames, 0.1238 µm): drawn at the movie's scale, so that it overlays it."""
    movie = tmp_path / "01"
    movie.mkdir()
    for t in NUMBERS:
        (movie / f"t{t:03d}.tif").symlink_to(data_dir / SIM / "01" / f"t{t:03d}.tif")
    size = read_image(movie / "t008.tif").pixel_size["Y"]
    assert size == pytest.approx(0.1238, abs=1e-4)
    _result(tmp_path / "01_RES", sim_markers)
    [(_image, image_kwargs, _)] = read_layers(movie)
    _labels, kwargs, _tracks, tracks_kwargs = _labels_and_tracks(read_layers(tmp_path / "01_RES"))
    assert kwargs["scale"] == pytest.approx((1.0, size, size))
    assert kwargs["scale"] == pytest.approx(image_kwargs["scale"])
    assert kwargs["units"] == image_kwargs["units"]
    assert tracks_kwargs["scale"] == kwargs["scale"]
    assert kwargs["metadata"]["pixel_size"] == {"Y": size, "X": size}
    # a result folder not named after a movie beside it keeps its pixels
    _result(tmp_path / "other_RES", sim_markers)
    _labels, kwargs, _tracks, _kw = _labels_and_tracks(read_layers(tmp_path / "other_RES"))
    assert kwargs["scale"] == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("lazy", [False, True], ids=["in_memory", "lazy"])
def test_reopened_result_exports_the_same_res_track(
    make_napari_viewer, qtbot, sim_markers, tmp_path, monkeypatch, lazy
):
    """open -> Export (CTC): the same ``res_track.txt``, line for line, and the same masks;
    the Tracks layer drawn beside the labels is theirs. Labels opened lazily (read from
    disk as shown: no recorded state) are not read whole to open them: no Tracks layer (it
    would read every frame), and they export the divisions of their track file, kept with
    them (review s33/r10 #6)."""
    from tessella._widgets import _results

    folder = _result(tmp_path / "sim_RES", sim_markers)
    if lazy:
        monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "0")
    viewer = make_napari_viewer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the lazy labels' own notice)
        layers = viewer.open(str(folder), plugin="tessella")
    labels = layers[0]
    assert isinstance(labels.data, np.ndarray) != lazy
    assert labels.name == "sim_RES"
    if lazy:
        assert len(layers) == 1 and _results.tracks_layer(viewer, labels) is None
        assert labels.metadata[_results.LINEAGE_KEY] == DIVISIONS
    else:
        tracks = layers[1]
        assert tracks.name == "sim_RES tracks"
        assert _results.tracks_layer(viewer, labels) is tracks
        assert tracks.graph == {c: [p] for c, p in DIVISIONS.items()}

    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, labels.name)
    export.path_edit.setText(str(tmp_path / "again"))
    for box in ("tiff", "zarr", "csv", "recipe", "ctc"):
        getattr(export, f"{box}_checkbox").setChecked(box == "ctc")
    assert export.ctc_checkbox.isEnabled(), export.ctc_checkbox.toolTip()
    if lazy:  # (labels on disk: written in a worker)
        with qtbot.waitSignal(export.exported, timeout=120_000) as blocker:
            export.export_button.click()
        written = blocker.args[0]
    else:
        written = export.export()
    [out] = [path for path in written if path.is_dir()]
    before = (folder / "res_track.txt").read_text().splitlines()
    assert (out / "res_track.txt").read_text().splitlines() == before
    assert sum(line.split()[3] != "0" for line in before) == len(DIVISIONS)
    for t in NUMBERS:
        np.testing.assert_array_equal(
            tifffile.imread(out / f"mask{t:03d}.tif"), tifffile.imread(folder / f"mask{t:03d}.tif")
        )


def test_the_reopened_tracks_follow_correct_and_undo(make_napari_viewer, sim_markers, tmp_path):
    """The Tracks layer the reader opened beside the result follows Correct's edits of the
    labels and their undo, as a Segment run's does."""
    from tessella._widgets.correct import CorrectWidget

    folder = _result(tmp_path / "sim_RES", sim_markers)
    viewer = make_napari_viewer()
    labels, tracks = viewer.open(str(folder), plugin="tessella")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(labels.unique_id))
    viewer.dims.set_current_step(0, 3)  # t011

    def frames_of(label: int) -> set[int]:
        rows = tracks.data[tracks.data[:, 0].astype(int) == label]
        return set(np.round(rows[:, 1]).astype(int).tolist())

    assert frames_of(31) == {2, 3, 4}
    widget.set_selection([31])
    widget.delete_button.click()
    assert "delete 31" in widget.status_label.text()
    assert frames_of(31) == {2, 4}  # the track follows
    widget.undo_button.click()
    assert frames_of(31) == {2, 3, 4}
    assert tracks.graph == {c: [p] for c, p in DIVISIONS.items()}
