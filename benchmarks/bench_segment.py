"""``tessella segment`` end to end on a 2048x2048 nuclei image: read, network, post, write."""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from ._common import median_time, nuclei_image, row


def run(repeats: int = 3) -> None:
    import tifffile

    from tessella.cli import main
    from tessella.engine.methods.embedding import Params, postprocess
    from tessella.engine.pipeline import predict_steps, run_steps
    from tessella.engine.registry import load_model

    size = 2048
    image = nuclei_image(size)
    model = load_model("nuclei2d")
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "img.tif", Path(tmp) / "labels.tif"
        tifffile.imwrite(source, image)
        total = median_time(
            lambda: main(["segment", str(source), "-o", str(target), "--overwrite", "-q"]), repeats
        )
    network = median_time(lambda: run_steps(predict_steps(image, model, "YX")), repeats)
    prediction = run_steps(predict_steps(image, model, "YX"))[0]
    start = time.perf_counter()
    labels = postprocess(prediction, Params())
    post = time.perf_counter() - start
    megapixels = size * size / 1e6
    row(
        "segment 2048^2 end to end (CLI: read, network, post, write)",
        total,
        "s",
        1.88,
        "StarDist 0.9.2 network+NMS",
    )
    row("  of which network (tiled, normalisation included)", network)
    row(f"  of which post-processing ({labels.max()} objects)", post)
    print(
        f"  throughput: {1 / total:.2f} images/s, {megapixels / total:.2f} MPix/s "
        f"(StarDist about 2.2 MPix/s)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  peak resident memory of this process: {peak:.0f} MiB "
        f"(image {image.nbytes / 2**20:.0f} MiB)"
    )
