"""Scoring label files or folders is the engine's (``tessella.engine.evaluation.score_paths``
and ``file_pairs``): ``tessella evaluate PRED GT`` and ``tessella.evaluate_paths`` both call
it. It was ``tessella.cli._evaluate.evaluate_paths`` (pairing in ``cli._pairing``), which the
public ``tessella.evaluate_paths`` imported from the command-line package."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

import tessella
from tessella.cli import evaluate_paths as cli_evaluate_paths
from tessella.cli import main
from tessella.engine.evaluation import EvaluationInputError, file_pairs, score_paths

SRC = Path(tessella.__file__).parent


def _labels(boxes) -> np.ndarray:
    """A 64x64 label image with one object per (y, x, size) box, IDs 1, 2, ..."""
    labels = np.zeros((64, 64), np.uint16)
    for label, (y, x, size) in enumerate(boxes, 1):
        labels[y : y + size, x : x + size] = label
    return labels


@pytest.fixture
def folders(tmp_path):
    """``gt/a.tif`` (3 objects) and ``gt/b.tif`` (2 objects); ``pred/a.tif`` the same as its
    ground truth, ``pred/b.tiff`` (paired by name, without the suffix) one of its 2 objects,
    and ``pred/c.tif`` a prediction without ground truth."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    a = _labels([(2, 2, 12), (30, 30, 16), (40, 4, 10)])
    b = _labels([(5, 40, 14), (44, 44, 12)])
    tifffile.imwrite(gt / "a.tif", a)
    tifffile.imwrite(gt / "b.tif", b)
    tifffile.imwrite(pred / "a.tif", a)
    tifffile.imwrite(pred / "b.tiff", np.where(b == 1, 1, 0).astype(np.uint16))
    tifffile.imwrite(pred / "c.tif", a)
    return pred, gt


def test_the_engine_scores_folders_without_the_command_line_package(folders):
    """In a fresh interpreter: ``score_paths`` on two folders gives AP 1 for ``a`` and 1/2
    for ``b`` (one object of two found), their mean for the dataset, and skips ``c``; then
    ``tessella.evaluate_paths`` too; ``tessella.cli`` is never imported."""
    pred, gt = folders
    code = (
        "import json, sys\n"
        "from tessella.engine.evaluation import score_paths\n"
        "skipped = []\n"
        f"scores = score_paths({str(pred)!r}, {str(gt)!r}, ('ap', 'seg'), skipped=skipped,\n"
        "                     per_image=True)\n"
        "engine_only = 'tessella.cli' not in sys.modules\n"
        "import tessella\n"
        f"public = tessella.evaluate_paths({str(pred)!r}, {str(gt)!r}, ('ap', 'seg'),\n"
        "                                 per_image=True)\n"
        "print(json.dumps({'scores': scores, 'public': public, 'engine_only': engine_only,\n"
        "                  'skipped': [p.name for p in skipped],\n"
        "                  'cli': 'tessella.cli' in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["engine_only"] and not result["cli"]
    scores = result["scores"]
    assert result["skipped"] == ["c.tif"]
    assert scores["n_images"] == 2
    assert [row["name"] for row in scores["images"]] == ["a.tif", "b.tif"]
    assert [row["ap"]["0.5"] for row in scores["images"]] == [1.0, 0.5]
    assert [(row["n_true"], row["n_pred"]) for row in scores["images"]] == [(3, 3), (2, 1)]
    assert scores["ap"]["0.5"] == pytest.approx(0.75)
    assert [(row["fp"]["0.5"], row["fn"]["0.5"]) for row in scores["images"]] == [(0, 0), (0, 1)]
    assert [row["seg"] for row in scores["images"]] == [1.0, 0.5]
    assert scores["precision"]["0.5"] == 1.0 and scores["recall"]["0.5"] == pytest.approx(0.75)
    assert result["public"] == scores
    # the command line's scores are the engine's
    assert (
        json.loads(
            json.dumps(cli_evaluate_paths(str(pred), str(gt), ("ap", "seg"), per_image=True))
        )
        == scores
    )


def test_the_command_line_writes_the_engine_scores(folders, tmp_path, capsys):
    pred, gt = folders
    out = tmp_path / "scores.json"
    assert main(["evaluate", str(pred), str(gt), "--metric", "ap", "--metric", "seg",
                 "--json", str(out)]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "skipped: 1 prediction" in printed and "c.tif" in printed
    expected = score_paths(str(pred), str(gt), ("ap", "seg"), per_image=True)
    assert json.loads(out.read_text()) == json.loads(json.dumps(expected))


def test_engine_errors_are_one_line_value_errors_the_command_line_prints(folders, capsys):
    pred, gt = folders
    (pred / "b.tiff").unlink()
    with pytest.raises(EvaluationInputError) as raised:
        score_paths(str(pred), str(gt))
    message = str(raised.value)
    assert isinstance(raised.value, ValueError) and "\n" not in message
    assert message.startswith(f"{pred}: no prediction for 1 of the 2 ground-truth images")
    assert message.endswith(": b.tif")
    with pytest.raises(EvaluationInputError, match="no prediction for 1 of the 2"):
        file_pairs(str(pred), str(gt))
    assert main(["evaluate", str(pred), str(gt)]) == 1
    assert capsys.readouterr().err.strip() == f"tessella evaluate: error: {message}"
    with pytest.raises(ValueError) as public:
        tessella.evaluate_paths(pred, gt)
    assert str(public.value) == message


def test_notes_on_inputs_go_to_warn(folders):
    """An ignore label among the object IDs is told to ``warn`` (a UserWarning without it)."""
    pred, gt = folders
    truth = _labels([(2, 2, 12), (30, 30, 16), (40, 4, 10)])
    truth[50:, 50:] = 2  # unannotated, 2 being an object ID too
    tifffile.imwrite(gt / "a.tif", truth)
    (gt / "b.tif").unlink()
    notes: list[str] = []
    score_paths(str(pred), str(gt), ignore_label=2, warn=notes.append)
    assert len(notes) == 1 and notes[0].startswith("a.tif: unannotated label 2 is among")
    with pytest.warns(UserWarning, match="unannotated label 2 is among"):
        score_paths(str(pred), str(gt), ignore_label=2)


def test_the_public_api_warns_and_the_command_line_prints(folders, capsys):
    """``tessella.evaluate_paths`` gives its notes on the inputs as UserWarnings, which a
    caller can catch or silence (it printed them on stderr, which nothing could catch); the
    command line prints each as one ``warning:`` line on stderr, as before."""
    pred, gt = folders
    truth = _labels([(2, 2, 12), (30, 30, 16), (40, 4, 10)])
    truth[50:, 50:] = 2  # unannotated, 2 being an object ID too
    tifffile.imwrite(gt / "a.tif", truth)
    (gt / "b.tif").unlink()
    capsys.readouterr()
    with pytest.warns(UserWarning) as caught:
        tessella.evaluate_paths(pred, gt, ignore_label=2)
    [note] = [str(w.message) for w in caught]
    assert note.startswith("a.tif: unannotated label 2 is among")
    assert capsys.readouterr().err == ""
    assert main(["evaluate", str(pred), str(gt), "--ignore-label", "2"]) == 0
    assert capsys.readouterr().err.splitlines() == [f"warning: {note}"]


def _imported_modules(path: Path) -> list[str]:
    """The absolute names of the modules the source file ``path`` imports."""
    package = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            names.append(module)
    return names


def test_no_engine_module_imports_the_command_line():
    offenders = [
        f"{path.relative_to(SRC)}: {name}"
        for path in sorted((SRC / "engine").rglob("*.py"))
        for name in _imported_modules(path)
        if name == "tessella.cli" or name.startswith("tessella.cli.")
    ]
    assert offenders == []
    # (the check reads relative imports: the command line's own modules import the engine so)
    assert "tessella.engine.evaluation" in _imported_modules(SRC / "cli" / "_pairing.py")
