"""Labels written to ``IMAGE.zarr/labels/NAME`` whose image's labels group cannot list them
(its ``.zattrs`` a folder: a broken group) are refused in one line naming the group, the labels
and the image, and what became of the labels: in memory (``tessella segment``'s staging) the
labels are not written; blockwise (Python, and ``--blockwise``) they are written and only the
listing is missing. One helper words both (engine/io/_zarr.list_labels_in_image)."""

from __future__ import annotations

import pytest

from tessella.cli import main
from tests.conftest import write_ome_zarr
from tests.engine.test_blockwise_zarr_out import _label


@pytest.fixture
def broken(tmp_path, nuclei_sample):
    """An OME-Zarr image whose labels group cannot be written (``labels/.zattrs`` a folder)."""
    image = nuclei_sample[0][:64, :64]
    source = write_ome_zarr(
        tmp_path / "img.zarr", image[None, None], "czyx", [1, 1, 0.5, 0.5], (1, 1, 32, 32)
    )
    (source / "labels" / ".zattrs").mkdir(parents=True)
    return source


def _segment(*args):
    return main(["segment", *map(str, args), "--model", "nuclei2d", "--no-tta", "--device", "cpu"])


def test_in_memory_labels_that_cannot_be_listed_are_not_written(broken, capsys):
    out = broken / "labels" / "nuclei"
    assert _segment(broken, "-o", out, "-q") == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        f"{broken / 'labels'}: cannot list nuclei among the labels of {broken} "
        "(Is a directory); nothing was written"
    ), err
    assert len(err.splitlines()) == 1
    assert not out.exists() and not (broken / "labels" / "nuclei.recipe.json").exists()


def test_blockwise_labels_that_cannot_be_listed_are_written_and_it_says_so(broken, capsys):
    out = broken / "labels" / "blobs"
    with pytest.raises(OSError) as info:
        _label(broken, out)
    assert str(info.value).startswith(
        f"{broken / 'labels'}: cannot list blobs among the labels of {broken} ("
    )
    assert str(info.value).endswith("); the labels are written") and "\n" not in str(info.value)
    assert (out / ".zattrs").is_file()
    out = broken / "labels" / "nuclei.zarr"
    args = ["-o", out, "--blockwise", "--workers", "0", "--block", "32", "-q"]
    assert _segment(broken, *args) == 1
    err = capsys.readouterr().err.strip()
    assert f"cannot list nuclei.zarr among the labels of {broken}" in err, err
    assert "the labels are written" in err and len(err.splitlines()) == 1
    assert (out / ".zattrs").is_file()
