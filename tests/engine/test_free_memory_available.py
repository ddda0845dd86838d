"""The CPU's free memory for the suggested tile is MemAvailable, not MemFree (page cache)."""

from __future__ import annotations

import pytest

from tessella.engine import device
from tessella.engine.device import free_memory  # imported before conftest's stand-in replaces it
from tessella.engine.pipeline import _inputs

MEMINFO = """MemTotal:       24000000 kB
MemFree:          150000 kB
MemAvailable:   20000000 kB
Cached:         19000000 kB
"""
FEATURES = [32, 64, 128, 256]  # a 2D U-Net's levels


@pytest.fixture
def page_cache_full(tmp_path, monkeypatch):
    """A machine that has read GBs of images: 146 MiB of free pages, 19 GiB available."""
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(MEMINFO)
    monkeypatch.setattr(_inputs, "MEMINFO", str(meminfo))
    monkeypatch.setattr(_inputs, "_cgroup_available", lambda: None)
    monkeypatch.setattr(device, "free_memory", free_memory)  # the real one, not conftest's


def test_the_page_cache_counts_as_free_for_the_tile(page_cache_full):
    assert free_memory("cpu") == 20000000 * 1024
    # the card's 1024 tile is kept (it shrank where free pages were under ~1.4 GiB)
    assert device.suggest_tile(FEATURES, 2, 1024, device="cpu") == 1024


def test_a_cgroup_limit_still_bounds_it(page_cache_full, monkeypatch):
    monkeypatch.setattr(_inputs, "_cgroup_available", lambda: 300 * 2**20)
    assert free_memory("cpu") == 300 * 2**20
    assert device.suggest_tile(FEATURES, 2, 1024, device="cpu") < 1024
