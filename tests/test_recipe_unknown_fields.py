"""A recipe with a field no Tessella recipe holds is refused, naming the field and the one
it is nearest, in ``tessella.replay`` and ``tessella segment --recipe`` alike (s34 user test
t16, finding 3): "parms" for "params", "Tile", "TTA", or a parameter ("seed_thresh") put
beside "params" instead of in it, were replayed with the defaults without a word. Every
recipe Tessella writes is still read: the command's own, the API's, and those with the
fields Export and blockwise runs add."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import tessella
from tessella._io_recipe import read_recipe
from tessella.cli import main
from tests.conftest import DATA


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A real DSB2018 nuclei crop (96 x 96) segmented by ``tessella segment`` (nuclei2d, a
    seed threshold of 0.5): ``(folder, image path, labels path, recipe path)``."""
    source = DATA / "fixtures" / "img2d.tif"
    if not source.is_file():
        pytest.fail(f"the fixture image is not at {source} (set TESSELLA_DATA)")
    folder = tmp_path_factory.mktemp("recipes")
    image = folder / "nuclei.tif"
    tifffile.imwrite(image, tifffile.imread(source)[:96, :96])
    labels = folder / "labels.tif"
    args = ["segment", str(image), "-o", str(labels), "--model", "nuclei2d"]
    assert main([*args, "--set", "seed_thresh=0.5", "--no-tta", "-q"]) == 0
    return folder, image, labels, folder / "labels.recipe.json"


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda r: {**r, "parms": r.pop("params")},
            "unknown field 'parms' (did you mean 'params'?)",
        ),
        (lambda r: {**r, "Tile": 512}, "'Tile' (did you mean 'tile'?)"),
        (lambda r: {**r, "TTA": True}, "'TTA' (did you mean 'tta'?)"),
        (
            lambda r: {**r, "seed_thresh": 0.7},
            "'seed_thresh' (a parameter of the embedding method: write it in \"params\", e.g. "
            '"params": {"seed_thresh": 0.7})',
        ),
    ],
)
def test_an_unknown_field_is_refused_by_replay_and_the_command(
    made, tmp_path, capsys, change, said
):
    folder, image, _labels, recipe_path = made
    recipe = change(json.loads(recipe_path.read_text()))
    bad = tmp_path / "bad.recipe.json"
    bad.write_text(json.dumps(recipe))
    with pytest.raises(ValueError) as caught:
        tessella.replay(bad, tessella.read_image(image))
    assert str(caught.value).startswith(f"{bad}: unknown field") and said in str(caught.value)
    with pytest.raises(ValueError, match=r"^recipe: unknown field"):
        tessella.replay(recipe, tessella.read_image(image))  # (a dict too)
    out = tmp_path / "out.tif"
    assert main(["segment", str(image), "--recipe", str(bad), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: unknown field" in err and said in err
    assert not out.exists()


def test_every_recipe_tessella_writes_is_read(made, tmp_path):
    folder, image, labels, recipe_path = made
    written = json.loads(recipe_path.read_text())
    assert written["params"]["seed_thresh"] == 0.5
    # the command's recipe replays (in Python as by the command): the same labels
    again = tessella.replay(recipe_path, tessella.read_image(image))
    assert np.array_equal(again, tessella.read_image(labels).data)
    # the API's recipe, and one with the fields Export, Tune and blockwise runs add
    result = tessella.run_steps(
        tessella.segment_steps(tessella.read_image(image), "nuclei2d", tta=False)
    )
    exported = {
        **written,
        "exported": {"tiff": "labels.tif", "stack": "labels.stack.tif"},
        "labels_edited": True,
        "note": "edited",
        "stack_objects": 3,
        "stack_from": "labels",
        "stack_digest": {},
        "labels_digest_files": [],
        "frame_numbers": [0],
        "lineage": [],
        "channel": 0,
        "series": 0,
        "stack": True,
        "blockwise": {"block": [1024, 1024]},
        "voxel_size": [1.0, 1.0],
        "unit": "µm",
    }
    for recipe in (result.recipe(), exported):
        path = tmp_path / "r.recipe.json"
        path.write_text(json.dumps(recipe))
        assert read_recipe(path)["model"] == "nuclei2d"
