"""The dask cluster of a blockwise run (``open_executor``) listens on this machine only: its
scheduler's HTTP server (no dashboard, but /info, /json, /metrics) was on all interfaces."""

from __future__ import annotations

import os

import psutil

from tessella.engine.blockwise._run import open_executor


def test_the_clusters_servers_listen_on_this_machine_only():
    with open_executor(workers=1) as executor:
        assert executor.submit(int, "7").result() == 7  # (a working cluster)
        listening = [
            c.laddr
            for c in psutil.Process(os.getpid()).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN
        ]
    assert len(listening) >= 2  # the scheduler's comm and its HTTP server
    assert all(address.ip in ("127.0.0.1", "::1") for address in listening), listening
