"""A blockwise run whose commit failed after its OME-Zarr labels were made to name their image
relative to the output, resumed by a second run (a real process each): the labels still name
the image. The commit step runs again on resume, and re-deriving the name from the work
folder's labels (already the output's) resolved it one folder too deep."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import tifffile

from tessella.engine.blockwise._store import work_dir
from tests.conftest import SAMPLES, write_ome_zarr

ROOT = Path(__file__).resolve().parents[2]  # (where ``tests`` is imported from)

#: a blockwise run of argv[2] into argv[3]; argv[1] "fail": moving the result onto the
#: output fails (a full disk), after the labels were made to name their image
RUN = """
import os, sys
from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter, label_blocks_steps
from tessella.engine.pipeline import run_steps
from tests.engine.test_blockwise_lock import components
replace = os.replace
def full(a, b, *args, **kwargs):
    if str(a).endswith("result.zarr"):
        raise OSError(28, "No space left on device")
    return replace(a, b, *args, **kwargs)
if sys.argv[1] == "fail":
    os.replace = full
try:
    run_steps(label_blocks_steps(sys.argv[2], sys.argv[3], FunctionSegmenter(components),
                                 block=32, halo=2, support=BlockwiseSupport(0, "touch")))
except OSError as exc:
    print(f"failed: {exc}", flush=True)
else:
    print("done", flush=True)
"""


def _run(mode, image, out):
    done = subprocess.run(
        [sys.executable, "-c", RUN, mode, str(image), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout, done.stderr


def test_a_resumed_commit_names_the_image_relative_to_the_output(tmp_path):
    nuclei = tifffile.imread(SAMPLES / "nuclei.tif")[:64, :64]
    mask = (nuclei > np.percentile(nuclei, 70)).astype(np.uint8)
    image = write_ome_zarr(
        tmp_path / "data" / "img.zarr", mask[None, None], "czyx", [1, 1, 0.5, 0.5], (1, 1, 32, 32)
    )
    out = tmp_path / "out" / "blocks.zarr"
    said, err = _run("fail", image, out)
    assert said.startswith(f"failed: {out}: cannot finish ("), err
    assert said.rstrip().endswith("run again to resume") and not out.exists()
    assert (work_dir(out) / "result.zarr").exists()
    said, err = _run("resume", image, out)
    assert said == "done\n", err
    named = json.loads((out / ".zattrs").read_text())["image-label"]["source"]["image"]
    assert named == "../../data/img.zarr"
    assert os.path.samefile(os.path.normpath(out / named), image)
