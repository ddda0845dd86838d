"""Run every benchmark and print figures beside the reference tools' and the project's targets
(README.md, Benchmarks).

python -m benchmarks [--quick] [--only segment,cluster,precision,tune,boundary,semantic,blockwise,
                                       temporal,patches,evaluate]
"""

from __future__ import annotations

import argparse

from . import (
    bench_blockwise,
    bench_boundary,
    bench_cluster,
    bench_evaluate,
    bench_patches,
    bench_precision,
    bench_segment,
    bench_semantic,
    bench_temporal,
    bench_tune,
)

SUITES = {
    "precision": bench_precision,
    "cluster": bench_cluster,
    "segment": bench_segment,
    "tune": bench_tune,
    "boundary": bench_boundary,
    "semantic": bench_semantic,
    "blockwise": bench_blockwise,
    "temporal": bench_temporal,
    "patches": bench_patches,
    "evaluate": bench_evaluate,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", help="comma-separated: " + ",".join(SUITES))
    parser.add_argument("--threads", type=int, default=2, help="torch threads (reference: 2)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    chosen = args.only.split(",") if args.only else list(SUITES)
    for name in chosen:
        print(f"\n== {name} ==")
        SUITES[name].run(repeats=2 if args.quick else 3)


if __name__ == "__main__":
    main()
