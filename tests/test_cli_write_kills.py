"""`tessella segment --overwrite` killed hard (SIGKILL, the OOM killer, a power cut) at any
step of writing labels and their recipe: every output path holds its complete old or new
file, never nothing and never a hidden copy only (bar the one rename of a zarr folder, which
a file system cannot do atomically: the next run puts it back), and the next run writing
that output undoes what a killed run left half done, says so in one line, and leaves no
hidden staging folder behind (each used to stay forever)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from tessella import cli
from tessella.cli import CliError
from tessella.engine.io import read_image, write_labels, write_zarr_labels

pytestmark = pytest.mark.skipif(os.name != "posix", reason="kills a POSIX subprocess")

OLD, NEW, NEXT = 7, 8, 9  # the labels' value and the recipe's "run" of each run
KILLED = 86

# Makes the script exit at once (as SIGKILL would: no handler, no cleanup) before its
# `kill_at`-th file-system change: any rename, link, removal or new folder.
_HOOK = textwrap.dedent(
    """
    count = 0

    def killing(real):
        def call(*args, **kwargs):
            global count
            count += 1
            if count == kill_at:
                os._exit({killed})
            return real(*args, **kwargs)

        return call

    for name in ("replace", "rename", "link", "remove", "unlink", "rmdir", "mkdir"):
        setattr(os, name, killing(getattr(os, name)))
    """
).format(killed=KILLED)

# Writes `target` (labels all NEW, recipe {"run": NEW}) with --overwrite (or, given
# "recover", only looks for what a killed write left, as the next run does first), and exits
# at once (as SIGKILL would: no handler, no cleanup) before its Nth file-system change: any
# rename, link, removal or new folder, its own or its libraries'.
_KILLER = textwrap.dedent(
    """
    import functools, os, sys
    from pathlib import Path

    import numpy as np

    from tessella import cli
    from tessella.engine.io import write_labels, write_zarr_labels

    target, kill_at, value = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    {hook}
    labels = np.full((32, 32), value, np.uint16)
    writer = write_zarr_labels if target.suffix == ".zarr" else write_labels
    write = functools.partial(writer, labels=labels)
    if sys.argv[4:] == ["recover"]:
        cli._check_outputs([(Path("in.tif"), target)], True)
    else:
        cli._write_labels_and_recipe(target, write, {{"run": value}}, True)
    print(count)
    """
).format(hook=_HOOK)


# Runs scripts like the two above, each in a child forked from one process that imported
# tessella once (a fresh interpreter per kill point spent most of its ~0.7 s importing): a
# line of JSON {"script", "argv"} in, the child's exit code out. The child starts with the
# modules the scripts import already imported (they install their hook after their imports,
# as before), its output to /dev/null and its errors to the driver's stderr; it ends with
# os._exit (KILLED from the hook, 0 when the script ran to its end, 1 on an exception).
_DRIVER = textwrap.dedent(
    """
    import json, os, sys, traceback

    import numpy as np

    from tessella import cli
    import zarr  # imported lazily by write_zarr_labels; its import changes no file

    from tessella.engine.io import write_labels, write_zarr_labels

    while line := sys.stdin.readline():
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                sys.argv = ["-c", *request["argv"]]
                sys.stdout = open(os.devnull, "w")
                exec(request["script"], {"__name__": "__main__"})
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(f"{os.waitstatus_to_exitcode(status)}\\n")
        sys.stdout.flush()
    """
)


class _Driver:
    def __init__(self, folder: Path) -> None:
        self.errors = folder / "driver.err"
        with self.errors.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _DRIVER],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )

    def run(self, script: str, *argv: str) -> tuple[int, str]:
        """The exit code of ``script`` run with ``argv``, and what it wrote to stderr."""
        before = self.errors.stat().st_size
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps({"script": script, "argv": argv}) + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        with self.errors.open() as err:
            err.seek(before)
            errors = err.read()
        assert reply, f"the driver died: {errors}"
        return int(reply), errors

    def close(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=60)


_driver: _Driver | None = None


@pytest.fixture(scope="module", autouse=True)
def _forking_driver(tmp_path_factory):
    global _driver
    _driver = _Driver(tmp_path_factory.mktemp("driver"))
    yield
    _driver.close()
    _driver = None


def _write(target: Path, value: int) -> None:
    labels = np.full((32, 32), value, np.uint16)
    (write_zarr_labels if target.suffix == ".zarr" else write_labels)(target, labels)
    cli._recipe_path(target).write_text(json.dumps({"run": value}))


def _state(target: Path) -> tuple:
    """(labels, recipe) as the run that wrote them (OLD, NEW, ...), None where missing,
    'broken' where not one run's whole output."""
    recipe = cli._recipe_path(target)
    labels = None
    if target.exists():
        try:
            data = np.asarray(read_image(target).data)
            values = np.unique(data)
            labels = int(values[0]) if values.size == 1 else "broken"
        except Exception:
            labels = "broken"
    try:
        run = json.loads(recipe.read_text())["run"] if recipe.exists() else None
    except (ValueError, KeyError):
        run = "broken"
    return labels, run


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _kill_at(target: Path, n: int, *mode: str) -> int:
    """The killer's exit code (KILLED, or 0 where the write finished before its Nth step)."""
    assert _driver is not None
    code, errors = _driver.run(_KILLER, str(target), str(n), str(NEW), *mode)
    assert code in (0, KILLED), errors
    return code


@pytest.mark.parametrize("suffix", [".tif", ".zarr"])
def test_a_kill_at_any_step_leaves_old_or_new_outputs(tmp_path, capsys, suffix):
    out = tmp_path / "out"
    killed_at, not_whole = 0, []
    for n in range(1, 200):
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        target = out / f"x{suffix}"
        _write(target, OLD)
        if _kill_at(target, n) == 0:  # the write finished: no kill point was left
            assert _state(target) == (NEW, NEW)
            assert _hidden(out) == []
            break
        killed_at = n
        labels, recipe = state = _state(target)
        assert recipe in (OLD, NEW), (n, state)
        if suffix == ".zarr" and labels is None:  # the one rename of a folder
            not_whole.append((n, state))
        else:
            assert labels in (OLD, NEW), (n, state)
            if labels != recipe:
                not_whole.append((n, state))
        left = _hidden(out)

        # the next run writing x finds what the killed one left: the old pair or the new one
        cli._check_outputs([(tmp_path / "in.tif", target)], overwrite=True)
        err = capsys.readouterr().err.strip()
        after = _state(target)
        assert after in ((OLD, OLD), (NEW, NEW)), (n, state, after, err)
        assert after == (OLD, OLD) or state == (NEW, NEW), (n, state, after)
        assert _hidden(out) == [], (n, state, err)
        if left:
            assert len(err.splitlines()) == 1 and str(target) in err, (n, err)
            assert "killed" in err, err
        else:
            assert err == "", (n, err)
        writer = write_zarr_labels if suffix == ".zarr" else write_labels
        write = functools.partial(writer, labels=np.full((32, 32), NEXT, np.uint16))
        cli._write_labels_and_recipe(target, write, {"run": NEXT}, True)
        assert _state(target) == (NEXT, NEXT) and _hidden(out) == [], n
    assert killed_at > 5  # the killer did get into the writes
    # between two renames the pair is mixed (or, for zarr, the folder is away), for one
    # kill point of a file and two of a zarr folder at most
    assert len(not_whole) <= (2 if suffix == ".zarr" else 1), not_whole


def test_the_next_cli_run_puts_back_what_a_kill_left_and_says_so(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """Killed with the previous labels moved aside (the folder's one rename), without
    --overwrite the next run puts them back, says so, and refuses to replace them."""
    out = tmp_path / "out"
    out.mkdir()
    target = out / "x.zarr"
    source = tmp_path / "in.zarr"
    image = nuclei_sample[0][:64, :64]
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype)[...] = image
    for n in range(1, 200):
        _write(target, OLD)
        assert _kill_at(target, n) == KILLED, "no kill point left the labels away"
        if _state(target) == (None, NEW):
            break
        cli._check_outputs([(source, target)], overwrite=True)  # clean up, try the next
        capsys.readouterr()
    args = ["segment", str(source), "-o", str(target), "--model", str(tiny_model_dir), "-q"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2, err
    assert err[0].startswith(f"warning: {target}: a write killed before it finished"), err
    assert "the previous labels and recipe are back" in err[0], err
    assert f"{target} exists; pass --overwrite" in err[1], err
    assert _state(target) == (OLD, OLD) and _hidden(out) == []


def test_undoing_a_killed_write_can_itself_be_killed(tmp_path, capsys):
    """The next run, killed while it puts back the previous zarr folder, leaves each path
    holding something whole, and the run after it finishes the job."""
    out = tmp_path / "out"
    target = out / "x.zarr"
    away = None  # the write's kill point that leaves the old folder moved aside
    for n in range(1, 50):
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        _write(target, OLD)
        for kill_at in [away] if away else range(1, 200):
            assert _kill_at(target, kill_at) == KILLED
            if _state(target) == (None, NEW):
                away = kill_at
                break
            cli._check_outputs([(tmp_path / "in.tif", target)], overwrite=True)
            _write(target, OLD)
        assert _state(target) == (None, NEW)
        capsys.readouterr()
        finished = _kill_at(target, n, "recover") == 0
        labels, recipe = state = _state(target)
        assert recipe in (OLD, NEW) and labels in (OLD, NEW, None), (n, state)
        cli._check_outputs([(tmp_path / "in.tif", target)], overwrite=True)
        assert _state(target) == (OLD, OLD) and _hidden(out) == [], n
        if finished:
            break
    else:
        pytest.fail("undoing never finished")


def test_a_write_in_progress_is_left_alone(tmp_path):
    """A staging folder whose run is alive (its lock held) is another run's write in
    progress: refused, not removed."""
    out = tmp_path / "out"
    out.mkdir()
    target = out / "x.tif"
    _write(target, OLD)
    go = tmp_path / "go"
    writer = textwrap.dedent(
        f"""
        import time
        from pathlib import Path

        import numpy as np

        from tessella import cli
        from tessella.engine.io import write_labels

        def write(path):
            Path({str(tmp_path / "started")!r}).touch()
            while not Path({str(go)!r}).exists():
                time.sleep(0.05)
            write_labels(path, np.full((32, 32), {NEW}, np.uint16))

        cli._write_labels_and_recipe(Path({str(target)!r}), write, {{"run": {NEW}}}, True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", writer], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if (tmp_path / "started").exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert (tmp_path / "started").exists(), child.stderr.read() if child.stderr else ""
        with pytest.raises(CliError, match=f"pid {child.pid}"):
            cli._check_outputs([(tmp_path / "in.tif", target)], overwrite=True)
        assert _state(target) == (OLD, OLD)
        go.touch()
        assert child.wait(timeout=60) == 0, child.stderr.read() if child.stderr else ""
    finally:
        go.touch()
        child.wait(timeout=60)
    assert _state(target) == (NEW, NEW) and _hidden(out) == []


# Probes whether `recipe` can be replaced (as --blockwise does before its run) and exits at
# once before its Nth file-system change.
_PROBE_KILLER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path

    from tessella import cli

    recipe, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    {hook}
    cli._probe_recipe(recipe, recipe.with_name("x.zarr"))
    """
).format(hook=_HOOK)


def test_probing_the_recipe_never_hides_it(tmp_path):
    """Killed (or interrupted) at any step, the probe leaves the recipe where it was: it used
    to rename it away and back, so a kill between left it as a hidden file."""
    recipe = tmp_path / "x.recipe.json"
    recipe.write_text(json.dumps({"run": OLD}))
    for n in range(1, 50):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE_KILLER, str(recipe), str(n)],
            capture_output=True,
            text=True,
        )
        assert done.returncode in (0, KILLED), done.stderr
        assert json.loads(recipe.read_text()) == {"run": OLD}, n
        if done.returncode == 0:
            break
        for stale in tmp_path.glob(".x.recipe.json.*"):  # a probe a kill may leave
            stale.unlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.recipe.json"]


def test_probing_an_interrupted_recipe_check_keeps_it(tmp_path, monkeypatch):
    """Ctrl-C during the probe: the recipe stays where it was, and nothing is left."""
    recipe = tmp_path / "x.recipe.json"
    recipe.write_text(json.dumps({"run": OLD}))
    real = {name: getattr(os, name) for name in ("replace", "rename", "link")}

    def interrupt(*_args, **_kwargs):
        raise KeyboardInterrupt

    for name in real:
        monkeypatch.setattr(os, name, interrupt)
    try:
        cli._probe_recipe(recipe, tmp_path / "x.zarr")
    except KeyboardInterrupt:
        pass
    for name, function in real.items():
        monkeypatch.setattr(os, name, function)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.recipe.json"]
    assert json.loads(recipe.read_text()) == {"run": OLD}


def test_probing_an_immutable_recipe_refuses_it(tmp_path):
    """A recipe the user cannot replace (``chattr +i``, where allowed) is refused before the
    run, without being moved."""
    import shutil

    if not shutil.which("chattr"):
        pytest.skip("no chattr")
    recipe = tmp_path / "x.recipe.json"
    recipe.write_text(json.dumps({"run": OLD}))
    if subprocess.run(["chattr", "+i", str(recipe)], capture_output=True).returncode:
        pytest.skip("chattr +i is not allowed here")
    try:
        with pytest.raises(CliError, match="cannot be written there"):
            cli._probe_recipe(recipe, tmp_path / "x.zarr")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["x.recipe.json"]
    finally:
        subprocess.run(["chattr", "-i", str(recipe)], check=True)
    cli._probe_recipe(recipe, tmp_path / "x.zarr")  # a replaceable one passes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.recipe.json"]
