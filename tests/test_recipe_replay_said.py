"""``tessella segment --recipe`` and ``tessella.replay`` say whether the replay reproduced
the labels the recipe records, where the input is the one it records (s35 t18 #4: the same
line was printed whether the labels matched or not)."""

from __future__ import annotations

import json

import pytest
import tifffile

import tessella
from tessella.cli import main
from tests.conftest import DATA

IMAGE = DATA / "fixtures" / "img2d.tif"


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """nuclei2d on a 256² crop of the nuclei fixture (without TTA) and its recipe."""
    if not IMAGE.is_file():
        pytest.skip(f"no {IMAGE}")
    folder = tmp_path_factory.mktemp("replay_said")
    image = folder / "img.tif"
    tifffile.imwrite(image, tifffile.imread(IMAGE)[:256, :256])
    run = ["segment", str(image), "--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]
    assert main([*run, "-o", str(folder / "first.tif")]) == 0
    return image, folder / "first.recipe.json"


def test_the_command_says_whether_it_reproduced_the_labels(segmented, tmp_path, capsys):
    image, recipe = segmented
    again = ["segment", str(image), "--recipe", str(recipe), "--device", "cpu"]
    capsys.readouterr()
    assert main([*again, "-o", str(tmp_path / "again.tif")]) == 0
    out, err = capsys.readouterr()
    assert f"{recipe}: reproduced the recorded labels" in out, out
    assert "other labels" not in err

    zeroed = json.loads(recipe.read_text())
    zeroed["labels_digest"]["sha256"] = "0" * 64  # (t18's check: labels it did not make)
    bad = tmp_path / "zeroed.recipe.json"
    bad.write_text(json.dumps(zeroed))
    assert (
        main(
            [
                "segment",
                str(image),
                "--recipe",
                str(bad),
                "--device",
                "cpu",
                "-q",
                "-o",
                str(tmp_path / "bad.tif"),
            ]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert f"warning: {bad}: the replay gave other labels than it records" in err, err
    assert "reproduced" not in out


def test_the_api_warns_where_the_replay_differs(segmented, tmp_path):
    image, recipe = segmented
    zeroed = json.loads(recipe.read_text())
    zeroed["labels_digest"]["sha256"] = "0" * 64
    with pytest.warns(UserWarning, match="the replay gave other labels than it records"):
        tessella.replay(zeroed, tessella.read_image(image))
    if zeroed.get("tessella_revision"):  # (from a git checkout: the code's commit is named)
        zeroed["tessella_revision"] = "0000000"
        with pytest.warns(UserWarning, match="Tessella revision 0000000, now "):
            tessella.replay(zeroed, tessella.read_image(image))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        tessella.replay(str(recipe), tessella.read_image(image))
