"""Per-object measurements against values computed independently with numpy, and CSV output."""

import csv

import numpy as np
import pytest

from tessella.engine.measure import measure_objects, size_column, write_csv


def numpy_measures(labels: np.ndarray, image: np.ndarray | None = None) -> dict[int, dict]:
    """Area, centroid, inclusive bounding box and mean intensity of every label, by masks."""
    found = {}
    for label in np.unique(labels[labels > 0]):
        mask = labels == label
        coords = np.nonzero(mask)
        found[int(label)] = {
            "area": int(mask.sum()),
            "centroid": [c.mean() for c in coords],
            "min": [int(c.min()) for c in coords],
            "max": [int(c.max()) for c in coords],
            "mean": None if image is None else float(image[mask].astype(np.float64).mean()),
        }
    return found


def read_csv(path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def test_sizes_centroids_and_boxes_match_numpy_on_real_labels(nuclei_sample):
    image, labels = nuclei_sample
    table = measure_objects(labels, image)
    expected = numpy_measures(labels, image)

    assert list(table) == [
        "label",
        "area_px",
        "centroid_y",
        "centroid_x",
        "bbox_min_y",
        "bbox_min_x",
        "bbox_max_y",
        "bbox_max_x",
        "mean_intensity",
    ]
    assert table["label"].tolist() == sorted(expected)
    assert len(expected) > 50  # the real sample has many nuclei
    for row, label in enumerate(table["label"]):
        want = expected[int(label)]
        assert table["area_px"][row] == want["area"]
        assert table["centroid_y"][row] == pytest.approx(want["centroid"][0])
        assert table["centroid_x"][row] == pytest.approx(want["centroid"][1])
        assert [table["bbox_min_y"][row], table["bbox_min_x"][row]] == want["min"]
        assert [table["bbox_max_y"][row], table["bbox_max_x"][row]] == want["max"]
        assert table["mean_intensity"][row] == pytest.approx(want["mean"])


def test_physical_area_and_volume_use_the_pixel_size(nuclei_sample):
    _image, labels = nuclei_sample
    table = measure_objects(labels, spacing={"Y": 0.5, "X": 0.25}, unit="µm")
    assert "area_um2" in table
    np.testing.assert_allclose(table["area_um2"], table["area_px"] * 0.125)
    # centroids stay in pixel indices whatever the spacing
    np.testing.assert_allclose(table["centroid_y"], measure_objects(labels)["centroid_y"])

    volume = np.stack([labels[:100, :100]] * 3)
    table_3d = measure_objects(volume, spacing=(2.0, 0.5, 0.5), unit="nm")
    counts = np.bincount(volume.ravel())
    np.testing.assert_array_equal(table_3d["volume_px"], counts[table_3d["label"]])
    np.testing.assert_allclose(table_3d["volume_nm3"], table_3d["volume_px"] * 0.5)
    np.testing.assert_allclose(table_3d["centroid_z"], 1.0)
    assert table_3d["bbox_min_z"].tolist() == [0] * len(table_3d["label"])
    assert table_3d["bbox_max_z"].tolist() == [2] * len(table_3d["label"])
    assert size_column("ZYX", "µm") == "volume_um3"


def test_time_series_is_measured_frame_by_frame(nuclei_sample):
    image, labels = nuclei_sample
    # frame 1 shows the same objects, with the same IDs, flipped left to right
    stack = np.stack([labels, labels[:, ::-1]])
    images = np.stack([image, image[:, ::-1]])
    table = measure_objects(stack, images, axes="TYX")

    n = len(np.unique(labels)) - 1
    assert list(table)[:2] == ["t", "label"]
    assert table["t"].tolist() == [0] * n + [1] * n
    assert table["label"][:n].tolist() == table["label"][n:].tolist()
    for t in (0, 1):
        frame = measure_objects(stack[t], images[t])
        rows = table["t"] == t
        for name, values in frame.items():
            np.testing.assert_allclose(table[name][rows], values, err_msg=name)
    width = labels.shape[1]
    np.testing.assert_allclose(table["centroid_x"][n:], width - 1 - table["centroid_x"][:n])
    np.testing.assert_array_equal(table["area_px"][n:], table["area_px"][:n])


def test_mean_confidence_and_channels(nuclei_sample):
    image, labels = nuclei_sample
    confidence = (image.astype(np.float32) - image.min()) / (image.max() - image.min())
    rgb = np.stack([image, image // 2, np.zeros_like(image)], axis=-1)
    table = measure_objects(labels, rgb, confidence=confidence)
    expected = numpy_measures(labels, confidence)
    for row, label in enumerate(table["label"]):
        assert table["mean_confidence"][row] == pytest.approx(expected[int(label)]["mean"])
        mask = labels == label
        assert table["mean_intensity_c1"][row] == pytest.approx((image[mask] // 2).mean())
    np.testing.assert_array_equal(table["mean_intensity_c2"], 0)

    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        measure_objects(labels, confidence=confidence * 2)


def test_huge_label_ids_are_measured_under_their_own_ids(nuclei_sample):
    """regionprops keeps a slot per id up to the largest: one id of 2**31 - 1 asked for
    16 GB. The rows are the same as with small ids, each under its own id."""
    image, labels = nuclei_sample
    small = measure_objects(labels, image)
    big = labels.astype(np.int64)
    big[big > 0] += 2**31 - 1 - int(big.max())  # the largest id becomes 2**31 - 1
    table = measure_objects(big, image)
    assert table["label"].max() == 2**31 - 1
    assert table["label"].tolist() == (small["label"] + 2**31 - 1 - labels.max()).tolist()
    for column in small:
        if column != "label":
            np.testing.assert_array_equal(table[column], small[column])
    huge = np.where(labels > 0, labels.astype(np.uint64) + np.uint64(2**40), 0).astype(np.uint64)
    assert measure_objects(huge)["area_px"].tolist() == small["area_px"].tolist()
    top = np.where(labels > 0, labels.astype(np.uint64) + np.uint64(2**63), 0).astype(np.uint64)
    ids = measure_objects(top)["label"]
    assert ids.min() > 2**63 and ids.tolist() == [int(v) + 2**63 for v in small["label"]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"image": np.zeros((10, 10))}, r"image shape \(10, 10\) differs from labels shape"),
        ({"confidence": np.zeros((520, 10))}, r"confidence shape \(520, 10\) differs"),
        ({"spacing": (0.5,)}, "spacing has 1 entries"),
        ({"spacing": {"X": 0.5}}, "no size for axis Y"),
        ({"axes": "ZYX"}, "axes 'ZYX' name 3 axes but the array has 2"),
    ],
)
def test_mismatches_raise_clear_errors(nuclei_sample, kwargs, message):
    _image, labels = nuclei_sample
    with pytest.raises(ValueError, match=message):
        measure_objects(labels, **kwargs)


def test_float_labels_are_refused(nuclei_sample):
    _image, labels = nuclei_sample
    with pytest.raises(ValueError, match="labels must be integers, not float64"):
        measure_objects(labels.astype(np.float64))


def test_empty_labels_give_empty_columns():
    table = measure_objects(np.zeros((20, 20), np.uint16), spacing=(1.0, 1.0))
    assert "area_um2" in table and all(len(values) == 0 for values in table.values())


def test_csv_round_trip(tmp_path, nuclei_sample):
    image, labels = nuclei_sample
    table = measure_objects(labels, image, spacing={"Y": 0.3, "X": 0.3})
    path = write_csv(tmp_path / "objects.csv", table)

    header, rows = read_csv(path)
    assert header == list(table)
    assert len(rows) == len(table["label"])
    for column, name in enumerate(header):
        values = [row[column] for row in rows]
        if table[name].dtype.kind == "i":
            assert [int(v) for v in values] == table[name].tolist()
        else:  # floats are written exactly
            assert [float(v) for v in values] == table[name].tolist()


def test_csv_refuses_to_overwrite_unless_asked(tmp_path, nuclei_sample):
    _image, labels = nuclei_sample
    path = tmp_path / "objects.csv"
    path.write_bytes(b"old contents\n")
    table = measure_objects(labels)

    with pytest.raises(FileExistsError, match="objects.csv"):
        write_csv(path, table)
    assert path.read_bytes() == b"old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["objects.csv"]  # no temporary file left

    write_csv(path, table, overwrite=True)
    header, rows = read_csv(path)
    assert header[0] == "label" and len(rows) == len(table["label"])


def test_csv_columns_of_different_lengths_are_refused(tmp_path):
    with pytest.raises(ValueError, match="columns differ in length"):
        write_csv(tmp_path / "bad.csv", {"a": np.arange(3), "b": np.arange(2)})
    assert not (tmp_path / "bad.csv").exists()
