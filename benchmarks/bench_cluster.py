"""Post-processing (clustering) time: what a slider change costs."""

from __future__ import annotations

from ._common import median_time, nuclei_image, row


def run(repeats: int = 3) -> None:
    from tessella.engine.methods.embedding import Params, postprocess
    from tessella.engine.pipeline import predict_steps, run_steps
    from tessella.engine.registry import load_model

    model = load_model("nuclei2d")
    params = Params()
    for size, reference, name in ((1024, 0.97, "EmbedSeg 0.2.5"), (2048, 13.1, "EmbedSeg 0.2.5")):
        image = nuclei_image(size)
        prediction = run_steps(predict_steps(image, model, "YX"))[0]
        labels = postprocess(prediction, params)
        seconds = median_time(lambda p=prediction: postprocess(p, params), repeats)
        row(
            f"clustering {size}^2, {labels.max()} objects (real nuclei2d prediction)",
            seconds,
            "s",
            reference,
            name,
        )
        cellpose = 1.42 if size == 1024 else 13.9
        print(
            f"  {'':<58} (Cellpose 4.2 recompute from flows {cellpose:.2f} s; "
            f"{cellpose / seconds:.0f}x)"
        )
        if size == 1024:
            changed = Params(seed_thresh=0.8)
            seconds = median_time(lambda p=prediction, c=changed: postprocess(p, c), repeats)
            row("  slider change (seed_thresh 0.9 -> 0.8), 1024^2", seconds)
