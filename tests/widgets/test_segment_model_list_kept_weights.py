"""The Segment panel's model list says what `tessella models` says of a model's weights and
scores (user test s32/t10, finding 10): a fine-tune whose run kept its base's weights
unchanged ('= nuclei2d's weights (kept: no epoch beat them)' there) was listed as a plain
'kept (embedding, YX)', and one trained on and scored on the same image ('!' there) only ⚠."""

from __future__ import annotations

from tests.test_bioimageio_kept_base_readme import kept_base_model

SCORED_ON = (
    "'img0_labels' is trained on and scored on (nothing else to hold out): val_ap50 and the "
    "choice of epoch tell how well the model fits the images it learns from (add a pair)"
)


def test_the_model_list_marks_kept_base_weights_and_a_score_on_the_training_image(
    make_napari_viewer, tmp_path, monkeypatch
):
    kept = kept_base_model(tmp_path / "models", "kept-nuclei")
    one = kept_base_model(tmp_path / "models", "one-pair", warnings=[SCORED_ON])
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))

    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    combo = widget.model_combo
    text = {combo.itemData(i): combo.itemText(i) for i in range(combo.count())}
    assert text[str(kept.resolve())] == "kept-nuclei (embedding, YX; = nuclei2d's weights)"
    assert text[str(one.resolve())] == (
        "one-pair (embedding, YX; = nuclei2d's weights; scored on its training image) ⚠"
    )
    bundled = [t for t in text.values() if t.startswith("nuclei2d ")]
    assert bundled == ["nuclei2d (embedding, YX)"]  # the first with those weights: unmarked
