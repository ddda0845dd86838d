"""``tessella.train(resume=True)`` continues a stopped run with the settings it was started
with, as ``tessella train --resume`` does: it built a config of the defaults instead (another
network, learning rate, batch, patch, hold-out...), so the resume was refused ("another
network") or, with the same network, trained on with other settings than the card's first
run. A setting given that differs from the checkpoint's is now said; another hold-out than
the one the run's best model was chosen on is refused (by the engine, so for every caller).

Tiny real runs: 128-pixel crops of the shipped DSB2018 nuclei sample, one step of batch 1 per
epoch; the hold-out scores are fixed (``_validate`` patched) so that nothing is predicted."""

from __future__ import annotations

import json
import warnings

import pytest

import tessella
import tessella.engine.train.loop as loop
from tessella.cli import main
from tests.conftest import nuclei_folder

FIRST = dict(
    features=(8, 16),
    epochs=1,
    steps_per_epoch=1,
    batch_size=1,
    patch=64,
    lr=2e-4,
    val_fraction=0.5,
    max_val_images=2,
    device="cpu",
)


def _scores(monkeypatch, *scores):
    it = iter(scores)
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(it))


@pytest.fixture
def stopped(tmp_path, monkeypatch, nuclei_sample):
    """A first run of 1 epoch (scored 0.5) trained by tessella.train with its own settings."""
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=4)
    out = tmp_path / "run"
    _scores(monkeypatch, 0.5)
    tessella.train("embedding", data, out, **FIRST)
    config = json.loads((out / "card.json").read_text())["training"]["config"]
    assert len(config["held_out"]) == 2, config["held_out"]  # drawn: half of 4 images
    return data, out, config


def _resumed(data, out, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tessella.train("embedding", data, out, resume=True, **options)
    return json.loads((out / "card.json").read_text())["training"], [
        str(w.message) for w in caught if "changes the settings" in str(w.message)
    ]


def test_resume_takes_the_runs_settings(stopped, monkeypatch):
    data, out, first = stopped
    _scores(monkeypatch, 0.6)
    training, said = _resumed(data, out, epochs=2)
    config = training["config"]
    for name in ("features", "steps_per_epoch", "batch_size", "patch", "lr", "val_fraction"):
        assert config[name] == first[name], name
    assert config["held_out"] == first["held_out"]
    assert [e["epoch"] for e in training["log_summary"]] == [1, 2]
    assert said == [
        f"resume {out}: this run changes the settings it was started with: epochs 1 -> 2 "
        "(leave an option out to keep the checkpoint's)"
    ]


def test_resume_says_a_setting_given_that_differs(stopped, monkeypatch):
    data, out, _ = stopped
    _scores(monkeypatch, 0.6)
    training, said = _resumed(data, out, epochs=2, lr=1e-4)
    assert training["config"]["lr"] == 1e-4  # told: taken, and said
    assert said and "epochs 1 -> 2, lr 0.0002 -> 0.0001" in said[0], said


@pytest.mark.parametrize("other", [{"holdout": "0"}, {"val_fraction": 0.25}])
def test_resume_refuses_another_hold_out(stopped, monkeypatch, other):
    """Scored on other images, the resumed epochs' scores could not be compared with the
    kept model's, and images the run trained on could be scored."""
    data, out, first = stopped
    _scores(monkeypatch, 0.6)
    with pytest.raises(ValueError, match="its epochs were scored, and its best model chosen, on"):
        tessella.train("embedding", data, out, resume=True, epochs=2, **other)
    training = json.loads((out / "card.json").read_text())["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [1]  # nothing trained


def test_the_command_refuses_another_hold_out_and_says_what_it_changes(
    stopped, monkeypatch, capsys
):
    data, out, first = stopped
    common = ["train", "embedding", "--data", str(data), "--out", str(out), "--device", "cpu"]
    _scores(monkeypatch)
    assert main([*common, "--resume", "--epochs", "2", "--holdout", "0"]) == 1
    err = capsys.readouterr().err
    held = ", ".join(sorted(first["held_out"]))
    assert f"on the images held out {held}; this run would score on the images held out 0" in err
    _scores(monkeypatch, 0.6)
    assert main([*common, "--resume", "--epochs", "2", "--lr", "1e-4"]) == 0
    said = capsys.readouterr().out
    assert (
        f"--resume {out}: this run changes the settings it was started with: --epochs 1 -> 2, "
        "--lr 0.0002 -> 0.0001\n" in said
    ), said


ASKED = "; this run asks for "


@pytest.mark.parametrize(
    "setting, python, option",
    [
        (
            {"max_val_images": 1},
            f"max_val_images=2{ASKED}max_val_images=1",
            f"--max-val-images 2{ASKED}--max-val-images 1",
        ),
        (
            {"val_orientations": True},
            f"val_orientations=False{ASKED}val_orientations=True",
            f"no --val-orientations{ASKED}--val-orientations",
        ),
    ],
)
def test_resume_refuses_another_scoring_of_the_hold_out_naming_it(
    stopped, monkeypatch, capsys, setting, python, option
):
    """Another max_val_images or val_orientations scores the same run otherwise (fewer
    images; each in 8 orientations): its scores would not be comparable with the kept
    model's. max_val_images was refused as another hold-out, naming the images and the
    hold-out's options but not the setting; val_orientations was taken. Now both are
    refused naming the setting and both values, as the caller gives it."""
    data, out, _first = stopped
    _scores(monkeypatch)  # nothing is scored: refused before
    with pytest.raises(ValueError) as refused:
        tessella.train("embedding", data, out, resume=True, epochs=2, **setting)
    said = str(refused.value)
    assert f"resume=True into {str(out)!r}: its epochs were scored" in said, said
    assert f"chosen, with {python}:" in said and "--" not in said, said
    (name,) = setting
    assert f"leave {name} out to take the checkpoint's" in said, said
    common = ["train", "embedding", "--data", str(data), "--out", str(out), "--device", "cpu"]
    flag = ["--max-val-images", "1"] if name == "max_val_images" else ["--val-orientations"]
    assert main([*common, "--resume", "--epochs", "2", *flag]) == 1
    err = capsys.readouterr().err
    assert (
        f"--resume {out}: its epochs were scored, and its best model chosen, with {option}" in err
    )
    training = json.loads((out / "card.json").read_text())["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [1]  # nothing trained


def test_the_hold_out_refusal_names_the_python_keywords_in_python(stopped, monkeypatch):
    """tessella.train's refusal named the command's options (--holdout, --val-fraction...)
    and started "--resume OUT", which a Python caller has not typed."""
    data, out, first = stopped
    _scores(monkeypatch)
    with pytest.raises(ValueError) as refused:
        tessella.train("embedding", data, out, resume=True, holdout="0")
    said = str(refused.value)
    held = ", ".join(sorted(first["held_out"]))
    assert said == (
        f"resume=True into {str(out)!r}: its epochs were scored, and its best model chosen, on "
        f"the images held out {held}; this run would score on the images held out 0: resume "
        "with the run's hold-out settings (holdout, val_fraction, val_data, seed, exclude: "
        "leave them out to take the checkpoint's) on the data it trained on, or train into "
        "another out folder"
    ), said


def test_a_one_image_run_resumes_from_python_and_the_command(tmp_path, monkeypatch, nuclei_sample):
    """One image is trained on and scored on, and the run records it as held out: each
    resume draws (and records) it again, so the hold-out check lets it go on, from
    tessella.train and from tessella train --resume alike (checked, session 33's gap 1)."""
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=1)
    out = tmp_path / "one"
    _scores(monkeypatch, 0.5, 0.6, 0.7)
    settings = {k: v for k, v in FIRST.items() if k not in ("val_fraction", "max_val_images")}
    tessella.train("embedding", data, out, **settings)
    training, _said = _resumed(data, out, epochs=2)
    assert training["config"]["held_out"] == ["0.tif"]
    common = ["train", "embedding", "--data", str(data), "--out", str(out), "--device", "cpu"]
    assert main([*common, "--resume", "--epochs", "3", "--quiet"]) == 0
    training = json.loads((out / "card.json").read_text())["training"]
    assert [e["epoch"] for e in training["log_summary"]] == [1, 2, 3]
    assert training["config"]["held_out"] == ["0.tif"]
