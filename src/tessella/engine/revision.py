"""Which code made a result: the git revision of the source tree Tessella runs from.

``tessella_version`` ("0.1.0") names a release, and results can change slightly between
commits of the same release; a recipe and a trained model's card therefore also record
``tessella_revision`` (the checkout's commit, ``-dirty`` with uncommitted changes) where
Tessella runs from a git checkout. An installed wheel has no checkout: nothing is recorded there.
The revision says which code made a result; it is not a setting, so no comparison of
settings (``--skip-existing``, a replay, the reader's digest check) looks at it."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

__all__ = ["REVISION_KEY", "tessella_revision", "with_revision"]

#: the field of a recipe (and of a card's ``training`` record) that holds the revision
REVISION_KEY = "tessella_revision"


@functools.cache
def tessella_revision() -> str | None:
    """The commit of the checkout this package is imported from, as ``git describe --always
    --dirty`` would name it (``"d2f5430"``, ``"d2f5430-dirty"`` where the checkout has
    uncommitted changes), asked once per process, writing nothing into the checkout; None
    where it cannot be known: an installed package (no ``.git`` beside its ``src``), no
    git, or git refusing (a checkout of another user...).

    >>> revision = tessella_revision()
    >>> revision is None or (isinstance(revision, str) and revision != "")
    True
    """
    root = Path(__file__).resolve().parents[3]  # src/tessella/engine/revision.py -> repo
    if not (root / ".git").exists() or not (root / "src" / "tessella").is_dir():
        return None
    # the checkout's own index and tree, whatever GIT_DIR/GIT_INDEX_FILE the caller set
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    # (not ``git describe --dirty``: it refreshes the index, taking .git/index.lock and
    # rewriting .git/index even with GIT_OPTIONAL_LOCKS=0, so a user's commit running
    # beside Tessella could fail on the lock; ``rev-parse`` reads, and ``status`` with
    # --no-optional-locks writes nothing)
    head = _git(root, env, "rev-parse", "--short", "HEAD")
    if not head:
        return None
    changes = _git(root, env, "--no-optional-locks", "status", "--porcelain", "-uno")
    if changes is None:
        return None
    return f"{head}-dirty" if changes else head


def _git(root: Path, env: dict[str, str], *args: str) -> str | None:
    """What ``git -C root ARGS`` printed, stripped; None where git is missing or fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def with_revision(record: dict) -> dict:
    """``record`` (a recipe, a card's training record) with :data:`REVISION_KEY` put right
    after its ``tessella_version`` where the revision is known; else ``record`` as it is.
    ``record`` is not changed.

    >>> record = with_revision({"tessella_version": "0.1.0", "model": "nuclei2d"})
    >>> list(record)[:2] == ["tessella_version", REVISION_KEY] or list(record)[1] == "model"
    True
    """
    revision = tessella_revision()
    if revision is None:
        return record
    out: dict = {}
    for key, value in record.items():
        if key != REVISION_KEY:
            out[key] = value
        if key == "tessella_version":
            out[REVISION_KEY] = revision
    if REVISION_KEY not in out:
        out = {REVISION_KEY: revision, **out}
    return out
