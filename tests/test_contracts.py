"""The architecture's rules: the engine never imports GUI code; the manifest is valid."""

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import yaml

import tessella

GUI_PACKAGES = ("qtpy", "napari", "magicgui", "superqt", "PyQt5", "PyQt6", "PySide2", "PySide6")
SRC = Path(tessella.__file__).parent


def test_engine_source_has_no_gui_imports():
    offenders = []
    for path in (SRC / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in GUI_PACKAGES]
    assert offenders == []


def test_importing_the_whole_engine_loads_no_gui_module():
    code = (
        "import importlib, pkgutil, sys, tessella.engine as e\n"
        "for m in pkgutil.walk_packages(e.__path__, 'tessella.engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "import tessella.cli\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {GUI_PACKAGES!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_package_import_does_not_pull_torch_or_widgets():
    code = (
        "import sys, tessella\n"
        "print(sorted(m for m in sys.modules if m.startswith(('torch', 'tessella._widgets'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]"


def test_every_manifest_python_name_imports():
    manifest = yaml.safe_load((SRC / "napari.yaml").read_text())
    names = [c["python_name"] for c in manifest["contributions"]["commands"]]
    assert names
    for name in names:
        module, _, attr = name.partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), name


def test_npe2_validates_the_manifest():
    npe2 = Path(sys.executable).with_name("npe2")
    done = subprocess.run([str(npe2), "validate", "tessella"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in (done.stdout + done.stderr).lower()


def test_all_engine_modules_declare_all():
    import tessella.engine as engine

    for info in pkgutil.walk_packages(engine.__path__, "tessella.engine."):
        module = importlib.import_module(info.name)
        if not info.name.rsplit(".", 1)[-1].startswith("_") or info.ispkg:
            assert hasattr(module, "__all__"), info.name


def test_ruff_lint_and_format_are_clean():
    ruff = Path(sys.executable).with_name("ruff")
    root = SRC.parents[1]
    targets = [str(root / d) for d in ("src", "tests", "benchmarks", "tools")]
    lint = subprocess.run([str(ruff), "check", *targets], capture_output=True, text=True, cwd=root)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [str(ruff), "format", "--check", *targets], capture_output=True, text=True, cwd=root
    )
    assert fmt.returncode == 0, fmt.stdout


def test_the_engine_type_checks():
    """mypy on the engine, with the settings in pyproject.toml (STYLE: mypy on the engine)."""
    root = SRC.parent.parent
    if not (root / "pyproject.toml").is_file():
        import pytest

        pytest.skip("needs the source checkout (pyproject.toml) for the mypy settings")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
