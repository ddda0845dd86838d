"""``measure_objects`` with ``read_image``'s ``pixel_size`` of a stack whose file gives the
size of Y and X but not Z (an ImageJ TIFF with a resolution and no spacing): measured in
pixels, said once (review r1 finding 2: it was refused, 'spacing gives no size for axis Z',
while the README says it takes ``pixel_size`` as it is)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

import tessella


def _labels() -> np.ndarray:
    labels = np.zeros((3, 8, 10), np.uint16)
    labels[0:2, 1:4, 2:6] = 7  # 2 x 3 x 4 = 24 voxels
    labels[2, 5:7, 5:9] = 9  # 8 voxels
    return labels


def test_a_stack_s_pixel_size_without_z_measures_in_pixels_and_says_so(tmp_path):
    labels = _labels()
    path = tmp_path / "xy_only.tif"
    tifffile.imwrite(
        path,
        labels.astype(np.uint8),
        imagej=True,
        resolution=(2.0, 2.0),
        metadata={"axes": "ZYX", "unit": "um"},
    )
    image = tessella.read_image(path)
    assert image.axes == "ZYX" and "Z" not in image.pixel_size  # (the case of the finding)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = tessella.measure_objects(
            labels, image.data, spacing=image.pixel_size, unit=image.unit
        )
    said = [str(w.message) for w in caught]
    assert len(said) == 1, said
    assert "no size for axis Z" in said[0] and "volume_px" in said[0]
    assert caught[0].filename == __file__  # (this test's line, not Tessella's)
    assert table["label"].tolist() == [7, 9]
    assert table["volume_px"].tolist() == [24, 8]
    assert not any(name.startswith("volume_") and name != "volume_px" for name in table)
    assert table["bbox_max_z"].tolist() == [1, 2]


def test_a_time_series_without_z_size_warns_once():
    labels = np.stack([_labels(), _labels()])
    with pytest.warns(UserWarning, match="no size for axis Z") as caught:
        table = tessella.measure_objects(labels, spacing={"y": 0.5, "x": 0.5}, axes="TZYX")
    assert len(caught) == 1
    assert table["t"].tolist() == [0, 0, 1, 1] and "volume_um3" not in table


@pytest.mark.parametrize(
    ("spacing", "message"),
    [({"Z": 2.0, "Y": 0.5}, "no size for axis X"), ({"Y": -1.0, "X": 0.5}, "must be positive")],
)
def test_a_stack_s_spacing_without_y_or_x_or_with_a_bad_size_is_still_refused(spacing, message):
    with pytest.raises(ValueError, match=message):
        tessella.measure_objects(_labels(), spacing=spacing)


def test_a_full_spacing_still_gives_the_volume_in_units():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = tessella.measure_objects(_labels(), spacing={"Z": 2.0, "Y": 0.5, "X": 0.5})
    assert table["volume_um3"].tolist() == [12.0, 4.0]
