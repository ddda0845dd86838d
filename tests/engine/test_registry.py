import json
import shutil

import numpy as np
import pytest

from tessella.engine.registry import ModelError, find_model, list_models, load_model, sha256_file


def test_user_model_directory_is_listed_and_loaded(tiny_model_dir, tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(tiny_model_dir, root / "mine")
    monkeypatch.setenv("TESSELLA_MODELS", str(root))
    entries = {card.name: origin for card, _path, origin in list_models()}
    assert entries["tiny"] == "user"
    model = load_model("tiny")
    assert model.card.method == "embedding"
    assert model.card.sha256 == sha256_file(root / "mine" / "model.safetensors")


def test_card_records_what_the_design_asks(tiny_model_dir):
    card = json.loads((tiny_model_dir / "card.json").read_text())
    for key in (
        "method",
        "architecture",
        "input",
        "normalization",
        "sha256",
        "training",
        "method_args",
        "defaults",
    ):
        assert key in card
    assert card["training"]["data"] and "config" in card["training"]


def test_weights_are_half_precision_safetensors(tiny_model_dir):
    from safetensors.numpy import load_file

    state = load_file(str(tiny_model_dir / "model.safetensors"))
    floats = [v for v in state.values() if v.dtype.kind == "f"]
    assert floats and all(v.dtype == np.float16 for v in floats)


def test_tampered_weights_are_refused(tiny_model_dir, tmp_path):
    copy = tmp_path / "tampered"
    shutil.copytree(tiny_model_dir, copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the sha256"):
        load_model(copy)


def test_missing_weights_and_bad_card_are_named(tiny_model_dir, tmp_path):
    copy = tmp_path / "noweights"
    shutil.copytree(tiny_model_dir, copy)
    (copy / "model.safetensors").unlink()
    with pytest.raises(ModelError, match="weights file .* is missing"):
        load_model(copy)
    (copy / "card.json").write_text("{not json")
    with pytest.raises(ModelError, match="cannot read model card"):
        load_model(copy)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelError, match="unknown model 'no-such-model'"):
        find_model("no-such-model")


def test_unknown_architecture_is_refused(tiny_model_dir, tmp_path):
    copy = tmp_path / "arch"
    shutil.copytree(tiny_model_dir, copy)
    card = json.loads((copy / "card.json").read_text())
    card["architecture"]["name"] = "os.system"
    (copy / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="unknown architecture"):
        load_model(copy)


def test_saved_model_files_are_readable_by_others(tiny_model_dir):
    import stat

    for name in ("model.safetensors", "card.json"):
        assert stat.S_IMODE((tiny_model_dir / name).stat().st_mode) & 0o044 == 0o044


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda card: None, "must be a JSON object, got null"),
        (lambda card: [card], "must be a JSON object, got a list"),
        (lambda card: card | {"normalization": []}, "'normalization' must be an object"),
        (lambda card: card | {"name": 5}, "'name' must be text"),
        (lambda card: card | {"defaults": "x"}, "'defaults' must be an object"),
        (lambda card: card | {"input": {"axes": 3}}, "'input.axes' must be text"),
        (lambda card: card | {"pixel_size": "big"}, "'pixel_size' must be an object, a list"),
    ],
)
def test_a_card_of_the_wrong_shape_is_a_model_error_naming_it(
    tiny_model_dir, tmp_path, change, message
):
    """Valid JSON of the wrong shape raised TypeError/AttributeError deep in the code."""
    copy = tmp_path / "bad"
    shutil.copytree(tiny_model_dir, copy)
    card = json.loads((copy / "card.json").read_text())
    (copy / "card.json").write_text(json.dumps(change(card)))
    with pytest.raises(ModelError, match=message) as info:
        load_model(copy, verify=False)
    assert str(copy / "card.json") in str(info.value)


def test_a_broken_user_model_is_skipped_with_a_warning(tiny_model_dir, tmp_path, monkeypatch):
    """One broken user model must not break `tessella models` or a run of another model."""
    root = tmp_path / "models"
    shutil.copytree(tiny_model_dir, root / "good")
    (root / "broken").mkdir()
    (root / "broken" / "card.json").write_text("null")
    monkeypatch.setenv("TESSELLA_MODELS", str(root))
    with pytest.warns(UserWarning, match="broken.card.json.*skipped") as caught:
        names = {card.name for card, _path, _origin in list_models()}
    assert len(caught) == 1
    assert {"tiny", "nuclei2d"} <= names
    assert find_model("nuclei2d").name == "nuclei2d"
    with pytest.raises(ModelError, match="must be a JSON object"):
        load_model(root / "broken")
    # asked for by its folder's name: the card's own problem, not "unknown model"
    with pytest.raises(ModelError, match="broken.card.json must be a JSON object"):
        load_model("broken")


def test_a_folder_named_like_a_model_does_not_shadow_it(tmp_path, monkeypatch):
    """A folder `nuclei2d` in the working directory (an output folder, say) made
    `--model nuclei2d` fail with "not a model directory"; a path is explicit with a slash, or
    when the folder holds a card.json."""
    from tessella.engine.registry import bundled_dir

    monkeypatch.chdir(tmp_path)
    (tmp_path / "nuclei2d").mkdir()
    assert find_model("nuclei2d") == bundled_dir() / "nuclei2d"
    with pytest.raises(ModelError, match="not a model directory"):
        load_model("./nuclei2d")
    (tmp_path / "nuclei2d" / "card.json").write_text("{}")
    assert find_model("nuclei2d").resolve() == (tmp_path / "nuclei2d").resolve()
