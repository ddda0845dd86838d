"""Recovery never puts a killed write's earlier output (``.old``) back over a target that
another writer made meanwhile. Before, recover_leftovers looked for the target and then
renamed the ``.old`` there, which replaced a file made between the two; now the rename
refuses to replace (``rename_no_replace``) and the ``.old`` is kept and named."""

from __future__ import annotations

from tessella.engine.io import _leftovers
from tessella.engine.io._leftovers import _host, recover_leftovers
from tests.engine._leftovers_common import _dead_pid


def test_recovery_never_puts_an_earlier_file_back_over_one_made_meanwhile(tmp_path, monkeypatch):
    """A killed write's ``.old`` (target missing: it was killed between its renames), and
    another writer makes the target just after recovery looked for it."""
    out = tmp_path / "cells.tif"
    token = f"{_host()}-{_dead_pid()}-0badcafe"
    old = tmp_path / f".cells.tif.{token}.old"
    old.write_text("earlier")
    (tmp_path / f".cells.tif.{token}.tmp").write_text("half")
    real = _leftovers._there

    def there(path):
        seen = real(path)
        if path == out and not seen:
            out.write_text("made meanwhile")  # (right after the look)
        return seen

    monkeypatch.setattr(_leftovers, "_there", there)
    line = recover_leftovers(out, warn=False)
    assert out.read_text() == "made meanwhile"
    assert old.read_text() == "earlier"
    assert line is not None and old.name in line
