"""``tools/score_model.py --record`` merges into a card's validation entry (notes and parts
scored on the same images kept), records each image's scores and which images were scored,
and refuses a subset or another split unless ``--dataset`` says what it is; the commands the
bundled cards store run as written from the repository root."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
import tifffile

from tests.test_tools import TOOLS, _main, _tool, _two_crops

BUNDLED = TOOLS.parent / "src" / "tessella" / "bundled"


def _copy_nuclei2d(tmp_path: Path, validation: dict) -> Path:
    model = tmp_path / "model"
    shutil.copytree(BUNDLED / "nuclei2d", model)
    card = json.loads((model / "card.json").read_text())
    card["validation"] = validation
    (model / "card.json").write_text(json.dumps(card, indent=2))
    return model


def _card(model: Path) -> dict:
    return json.loads((model / "card.json").read_text())["validation"]


def _bundled_entry() -> dict:
    """nuclei2d's entry of 64 images, without images_sha256 (as the cards' were before)."""
    entry = json.loads((BUNDLED / "nuclei2d" / "card.json").read_text())["validation"]
    return {k: v for k, v in entry.items() if k != "images_sha256"}


def test_record_refused_before_scoring(tmp_path, nuclei_sample, capsys):
    """Images that are not those of the card's entry (or a card without one) are refused
    unless --dataset says what they are, before anything is segmented, the card untouched."""
    data = _two_crops(tmp_path / "data", nuclei_sample, 160, binary=False)
    command = ["--images", str(data / "images"), "--masks", str(data / "masks"), "--record"]
    # an entry of 64 images that does not record which (the cards' entries before
    # images_sha256)
    model = _copy_nuclei2d(tmp_path / "a", _bundled_entry())
    before = (model / "card.json").read_text()
    done = _main("score_model", capsys, str(model), *command)
    assert done.returncode != 0
    assert "--record refused" in done.stderr and "no images_sha256" in done.stderr
    assert "--dataset 'validation split'" in done.stderr  # its own words, if they are its images
    assert "$ tessella" not in done.stdout and (model / "card.json").read_text() == before
    # a card without an entry
    model = _copy_nuclei2d(tmp_path / "b", {})
    del_card = json.loads((model / "card.json").read_text())
    del del_card["validation"]
    (model / "card.json").write_text(json.dumps(del_card))
    done = _main("score_model", capsys, str(model), *command)
    assert done.returncode != 0 and "has no validation entry yet" in done.stderr
    # one of the entry's two images: a subset
    pairs = _tool("score_model").pairs_of(data / "images", data / "masks", ())
    digest = _tool("score_model").images_sha256(pairs)
    entry = {"dataset": "two crops", "n_images": 2, "images_sha256": digest}
    model = _copy_nuclei2d(tmp_path / "c", entry)
    done = _main("score_model", capsys, str(model), *command, "--names", "1")
    assert (
        done.returncode != 0
        and "the images given (1 image) are not the 2 the card's" in done.stderr
    )
    assert "'two crops'" in done.stderr and "$ tessella" not in done.stdout


def test_record_merges_into_the_entry(tmp_path, nuclei_sample, capsys):
    """A re-score of the entry's images needs no --dataset: the scores, each image's, the
    command and the date replace theirs; the note and a TTA part scored on them are kept; the
    difference from the card's scores is printed."""
    data = _two_crops(tmp_path / "data", nuclei_sample, 160, binary=False)
    pairs = _tool("score_model").pairs_of(data / "images", data / "masks", ())
    with_tta = {"tta": True, "scores": {"avs": 0.5}}
    entry = {"dataset": "two crops", "tta": False, "n_images": 2, "scores": {"avs": 0.1}}
    entry |= {"images_sha256": _tool("score_model").images_sha256(pairs), "date": "2026-01-01"}
    entry |= {"with_tta": with_tta, "note": "these scores are not fully blind"}
    model = _copy_nuclei2d(tmp_path, entry)
    command = [str(model), "--images", str(data / "images"), "--masks", str(data / "masks")]
    done = _main("score_model", capsys, *command, "--record")
    assert done.returncode == 0, done.stderr
    entry = _card(model)
    assert entry["note"] == "these scores are not fully blind" and entry["with_tta"] == with_tta
    assert "kept, written by hand (check they still hold): note" in done.stdout
    assert entry["dataset"] == "two crops" and entry["n_images"] == 2
    assert entry["date"] != "2026-01-01"
    assert "scores: differs from the card: scores.avs 0.1 -> " in done.stdout
    per_image = entry["per_image"]
    assert list(per_image) == ["0", "1"]
    mean = sum(row["avs"] for row in per_image.values()) / 2
    assert entry["scores"]["avs"] == pytest.approx(mean, abs=1e-4) and mean > 0.5
    assert entry["command"].startswith("python tools/score_model.py ")
    assert "--record" not in entry["command"] and "--dataset" not in entry["command"]
    # whole folders: the two steps, placeholders for what they write
    assert entry["commands"][0].startswith(f"tessella segment {data / 'images'} -o PRED ")
    assert entry["commands"][1].startswith(f"tessella evaluate PRED {data / 'masks'} ")
    # each image's scores on one line of the card
    assert '"0": {"ap50": ' in (model / "card.json").read_text()


def test_record_other_images_named(tmp_path, nuclei_sample, capsys):
    """Images named with --dataset other than the entry's: recorded, the note kept, the parts
    scored on the entry's images dropped (and said)."""
    data = _two_crops(tmp_path / "data", nuclei_sample, 160, binary=False)
    model = _copy_nuclei2d(tmp_path, {**_bundled_entry(), "note": "not fully blind"})
    command = [str(model), "--images", str(data / "images"), "--masks", str(data / "masks")]
    done = _main("score_model", capsys, *command, "--names", "1", "--record", "--dataset", "c")
    assert done.returncode == 0, done.stderr
    entry = _card(model)
    assert entry["note"] == "not fully blind" and entry["dataset"] == "c"
    assert "with_tta" not in entry and "orientations" not in entry
    assert "dropped, scored on other images than these: with_tta, orientations" in done.stdout
    assert entry["n_images"] == 1 and list(entry["per_image"]) == ["1"]
    assert "--names 1" in entry["command"]
    assert "commands" not in entry  # a subset's steps would not run as written


def test_one_image_file_and_its_mask(tmp_path, nuclei_sample, capsys):
    """A validation volume kept as two files (Lucchi++'s image.tif and mito.tif) is scored
    as given, without a folder of links; its commands write PRED.tif."""
    image, labels = nuclei_sample
    tifffile.imwrite(tmp_path / "image.tif", image[:256, :200])
    tifffile.imwrite(tmp_path / "mito.tif", (labels[:256, :200] > 0).astype("uint8"))
    model = _copy_nuclei2d(tmp_path, {})
    command = [str(model), "--images", str(tmp_path / "image.tif")]
    command += ["--masks", str(tmp_path / "mito.tif"), "--metric", "iou", "--gt-binary"]
    done = _main("score_model", capsys, *command, "--record", "--dataset", "one crop")
    assert done.returncode == 0, done.stderr
    entry = _card(model)
    assert entry["n_images"] == 1 and list(entry["per_image"]) == ["image"]
    assert entry["per_image"]["image"]["foreground_iou"] == entry["scores"]["foreground_iou"]
    assert entry["scores"]["foreground_iou"] > 0.7
    segment, evaluate = entry["commands"]
    assert f"segment {tmp_path / 'image.tif'} -o PRED.tif " in segment
    assert f"evaluate PRED.tif {tmp_path / 'mito.tif'} --json SCORES.json" in evaluate
    # a folder and a file are refused in one line
    done = _main("score_model", capsys, str(model), "--images", str(tmp_path / "image.tif"))
    assert done.returncode != 0
    done = _main(
        "score_model",
        capsys,
        str(model),
        "--images",
        str(tmp_path),
        "--masks",
        str(tmp_path / "mito.tif"),
    )
    assert done.returncode != 0 and "must both be folders" in done.stderr


def test_paths_shown_from_the_repository_root():
    tool = _tool("score_model")
    assert tool.shown_path(tool.REPO.parent / "shared" / "data") == "../shared/data"
    assert tool.shown_path(tool.REPO / "src" / "tessella") == "src/tessella"
    assert tool.shown_path("/usr/share") == "/usr/share"
    assert tool.shown_model("nuclei2d") == "nuclei2d"  # a name stays a name
    assert tool.shown_model(str(BUNDLED / "nuclei2d")) == "src/tessella/bundled/nuclei2d"


def _entries(validation: dict):
    for entry in validation.get("sequences", [validation]):
        yield entry
        yield from (v for v in entry.values() if isinstance(v, dict) and "command" in v)


@pytest.mark.parametrize("name", sorted(p.name for p in BUNDLED.iterdir() if p.is_dir()))
def test_bundled_cards_commands_run_as_written(name, data_dir, monkeypatch):
    """Every command a bundled card's validation stores parses, and every file it names is
    there, as seen from the repository root (no made-up syntax, no absolute paths, no folder
    that nothing says how to build); a score_model.py call names the very images the entry
    records (its images_sha256)."""
    from tessella.cli._parser import _build_parser

    monkeypatch.chdir(TOOLS.parent)  # where they are run from
    tool = _tool("score_model")
    validation = json.loads((BUNDLED / name / "card.json").read_text())["validation"]
    commands = [e.get("command") for e in _entries(validation)]
    commands += [c for e in _entries(validation) for c in e.get("commands", [])]
    assert commands and all(commands), name
    for command in commands:
        words = shlex.split(command)
        assert not any(w.startswith("/") for w in words), command
        paths = [w for w in words if w.startswith(("../", "src/", "tools/"))]
        # score_ctc.py's --seq SEQUENCE:A:B
        paths = [p.rsplit(":", 2)[0] if p.count(":") == 2 else p for p in paths]
        for path in paths:
            assert (TOOLS.parent / path).exists(), (command, path)
        if words[:2] == ["python", "tools/score_model.py"]:
            args = tool.build_parser().parse_args(words[2:])
            pairs = tool.pairs_of(TOOLS.parent / args.images, TOOLS.parent / args.masks, args.names)
            if "images_sha256" in validation:
                assert tool.images_sha256(pairs) == validation["images_sha256"], command
        elif words[:2] == ["python", "tools/score_ctc.py"]:
            args = _tool("score_ctc").build_parser().parse_args(words[2:])
            for spec in args.seq:
                sequence = TOOLS.parent / spec.rsplit(":", 2)[0]
                assert sequence.with_name(sequence.name + "_GT").is_dir(), command
        else:
            assert words[0] == "tessella", command
            _build_parser().parse_args(words[1:])
