"""README statements that the code, the cards and the data can check (user test s28/t5): the
status lines it quotes are the ones the panels write for today's result names, the cells2dt
training frames and the worms2d/em-membranes2d reproduction commands are the cards', the
Command line examples do not write one recipe twice, the install paragraph says what the
Makefile does, and the --val-fraction defaults and figures quoted twice agree."""

from __future__ import annotations

import argparse
import json
import re
import shlex
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "tessella" / "bundled"


def _readme() -> str:
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _flat(text: str) -> str:
    """Text with every run of white space (README's line breaks) as one space."""
    return re.sub(r"\s+", " ", text)


def _section(title: str) -> str:
    text = _readme()
    start = text.index(f"\n{title}\n")
    end = re.compile(r"\n##+ ").search(text, start + len(title) + 2)  # (a bash comment: one #)
    return text[start : end.start() if end else None]


def _commands(block_text: str, program: str) -> list[list[str]]:
    """The ``program ...`` command lines of a README section's bash blocks, continuation lines
    joined and comments dropped, split as the shell splits them."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", block_text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[: len(program.split())] == program.split():
                found.append(words)
    return found


def _options(words: list[str], ignore: tuple[str, ...]) -> dict[str, str]:
    """``--option value`` (or a bare flag) of a command, less the ignored options and the text
    a card adds after the command in parentheses."""
    options: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("("):
            break
        if word.startswith("-"):
            has_value = i + 1 < len(words) and not words[i + 1].startswith(("-", "("))
            value = words[i + 1] if has_value else ""
            if word not in ignore:
                options[word] = value
            i += 2 if has_value else 1
        else:
            options.setdefault("", word)  # the method (first positional)
            i += 1
    return options


# -- status lines quoted for today's result names ('<image> labels (<model>)') --------------


def test_evaluate_no_fit_note_quoted_in_readme_is_the_panels_for_a_result_name():
    from napari.layers import Labels

    from tessella._widgets._evaluate_picks import no_fit_note
    from tessella._widgets._segment_outputs import result_name

    pred = Labels(np.zeros((520, 696), np.int32), name=result_name("E03", "labels", "worms2d"))
    assert no_fit_note(pred) in _flat(_readme())


def test_correct_time_lapse_status_quoted_in_readme_is_the_panels(make_napari_viewer):
    from tessella._widgets._segment_outputs import result_name
    from tessella._widgets.correct import CorrectWidget

    labels = np.zeros((10, 64, 128), np.int32)
    labels[:, 10:14, 10:113] = 12  # 4 x 103 = 412 px in every frame
    labels[:, 40:50, 40:50] = 7
    viewer = make_napari_viewer()
    numbers = list(range(52, 62))  # (a folder t052.tif ... t061.tif, as the reader records)
    layer = viewer.add_labels(
        labels,
        name=result_name("01", "labels", "cells2dt"),
        metadata={"axes": "TYX", "frame_numbers": numbers},
    )
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    viewer.dims.set_current_step(0, 3)
    widget.set_selection([12])
    widget.delete_button.click()
    said = widget.status_label.text()
    assert said == (
        "delete 12 on '01 labels (cells2dt)' in frame 3 (t055): 412 px changed; track 12 now "
        "skips frame 3 (t055): a CTC export splits it in two there"
    )
    assert f'"{said}"' in _flat(_readme())


# -- the Models section against the cards and the data -------------------------------------


def _ranges(selectors: list[str], stem: str) -> list[range]:
    out = []
    for selector in selectors:
        match = re.fullmatch(re.escape(stem) + r"\[t=(\d+):(\d+)\]", selector)
        if match:
            out.append(range(int(match[1]), int(match[2])))
    return out


def test_cells2dt_gowt1_training_frames_in_readme_are_the_cards_and_the_datas(data_dir):
    card = json.loads((BUNDLED / "cells2dt" / "card.json").read_text(encoding="utf-8"))
    config = card["training"]["config"]
    held = _ranges(config["holdout"], "ctc_Fluo-N2DH-GOWT1_01")
    assert held and not config["exclude"]
    seg = data_dir / "ctc_Fluo-N2DH-GOWT1" / "01_GT" / "SEG"
    frames = sorted(int(p.stem[len("man_seg") :]) for p in seg.glob("man_seg*.tif"))
    trained = [t for t in frames if not any(t in r for r in held)]
    first_held = min(r.start for r in held)
    assert all(t < first_held for t in trained)  # one hold-out range at the end
    row = next(line for line in _readme().splitlines() if line.startswith("| `cells2dt` |"))
    expected = (
        f"Fluo-N2DH-GOWT1 01 SEG frames {trained[0]}-{trained[-1]} "
        f"(its {len(trained)} annotated frames before {first_held})"
    )
    assert expected in row, row


#: options that only fill the card (or name the starting model, which the README gives as the
#: folder the previous command wrote, as a bundled name would now mean the shipped model)
_CARD_ONLY = ("--data-citation", "--data-license", "-q", "--base")


def _card_commands(model: str) -> list[str]:
    training = json.loads((BUNDLED / model / "card.json").read_text(encoding="utf-8"))["training"]
    commands = [training["command"]]
    base = training.get("base_training", {})
    commands += [base[key] for key in sorted(base) if key.startswith("command")]
    return commands


def test_worms2d_and_em_membranes2d_reproduction_commands_are_every_card_command():
    for model, title in (("worms2d", "### worms2d"), ("em-membranes2d", "### em-membranes2d")):
        readme = [_options(w, _CARD_ONLY) for w in _commands(_section(title), "tessella train")]
        for command in _card_commands(model):
            wanted = _options(shlex.split(command), _CARD_ONLY)
            assert wanted in readme, f"{model}: README lacks the card's {command[:160]}"


# -- the Command line examples --------------------------------------------------------------


def test_command_line_examples_write_each_recipe_once():
    from tessella.engine.io._zarr import labels_recipe_path

    outputs: dict[Path, str] = {}
    for words in _commands(_section("## Command line"), "tessella segment"):
        if "--skip-existing" in words:
            continue  # goes on with the same outputs as the run before it, on purpose
        out = words[words.index("-o") + 1]
        if out.endswith("/"):
            continue  # a folder: a recipe beside each of its labels, named as its image
        recipe = labels_recipe_path(out)
        line = " ".join(words)
        assert recipe not in outputs, f"{line!r} and {outputs[recipe]!r} both write {recipe}"
        outputs[recipe] = line
    for words in _commands(_section("## Command line"), "tessella segment"):
        if "--recipe" in words:
            recipe = Path(words[words.index("--recipe") + 1])
            assert "--model" in outputs[recipe]  # it names the model it replays


# -- the install paragraph and figures quoted twice ------------------------------------------


def test_quick_start_says_what_the_makefile_installs():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pin = re.search(r'pip install "(torch==[0-9.]+)"', makefile)
    assert pin and "-c constraints.txt" in makefile
    assert "--index-url" not in makefile  # the build is pip's choice, as the README says
    quick = _flat(_section("## Quick start"))
    assert f"`{pin[1]}`" in quick and "`-c constraints.txt`" in quick
    assert "installs the CPU build" not in quick
    assert f'pip install "{pin[1]}" --index-url https://download.pytorch.org/whl/cpu' in quick


def test_val_fraction_defaults_in_readme_are_the_cli_and_the_panels():
    from tessella._widgets._train_data import HOLDOUT_FRACTION
    from tessella.cli._parser import _build_parser

    commands = next(
        a for a in _build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    train = commands.choices["train"]
    cli_default = next(a.default for a in train._actions if a.dest == "val_fraction")
    text = _flat(_readme())
    assert (
        f"`--val-fraction` (default {cli_default}; the Train panel holds out {HOLDOUT_FRACTION}"
        in text
    )
    assert (
        f"as `--val-fraction {HOLDOUT_FRACTION}` takes them "
        f"(the command line's default is {cli_default})" in text
    )


def test_one_decoder_network_times_in_prose_are_the_benchmarks_ab():
    text = _flat(_readme())
    table = re.search(r"network (\d\.\d\d) / (\d\.\d\d) s, post", text)
    assert table, "the Benchmarks row of session 12's A/B"
    two, one = table[1], table[2]
    assert f"image takes {one} s instead of {two} s on 2 CPU cores" in text
