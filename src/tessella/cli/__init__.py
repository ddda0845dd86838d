"""The ``tessella`` command line: models, segment, evaluate, train, convert.

Exit codes: 0 ok, 1 failed (bad input, a model that cannot be loaded, ...), 2 bad usage.
"""

from __future__ import annotations

import sys

from ._console import CliError, _drop_stdout, _stdout_gone
from ._convert import _cmd_convert
from ._evaluate import _cmd_evaluate, evaluate_paths
from ._models import _cmd_export_bioimageio, _cmd_models, model_dir
from ._parser import _build_parser
from ._segment import _cmd_segment
from ._train import Terminated, _cmd_train, _sigterm_as_interrupt

# the writer's steps, which tests drive one by one
from ._write import _check_outputs as _check_outputs
from ._write import _probe_recipe as _probe_recipe
from ._write import _recipe_path as _recipe_path
from ._write import _write_labels_and_recipe as _write_labels_and_recipe

__all__ = ["main", "model_dir", "evaluate_paths", "CliError", "Terminated"]


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "models": _cmd_models,
        "segment": _cmd_segment,
        "evaluate": _cmd_evaluate,
        "train": _cmd_train,
        "export-bioimageio": _cmd_export_bioimageio,
        "convert": _cmd_convert,
    }
    import warnings

    def show(message, category, *_args, **_kwargs) -> None:  # one line, no source excerpt
        from tqdm import tqdm

        # on a line of its own: tqdm clears a progress bar being drawn, then draws it again
        # below (a plain print went on the bar's line: "a.tif: 100%|####| 1/1warning: ...")
        tqdm.write(f"warning: {message}", file=sys.stderr)
        sys.stderr.flush()

    try:
        # the engine's warnings, as one line each; `kill`, `timeout`, a batch system's time
        # limit: stop as Ctrl-C does
        with warnings.catch_warnings(), _sigterm_as_interrupt():
            warnings.showwarning = show
            warnings.simplefilter("always", UserWarning)
            code = handlers[args.command](args)
            sys.stdout.flush()  # here, where a reader gone away is seen (below)
            return code
    except (CliError, ValueError, FileExistsError, OSError) as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_gone():
            # `tessella models --json | head`: the reader has all it wanted
            _drop_stdout()
            return 141  # 128 + SIGPIPE, as a shell reports a Unix tool that SIGPIPE ended
        print(f"tessella {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except Terminated as exc:  # (train: after which epoch, what was kept, how to go on)
        print(f"tessella {args.command}: terminated{getattr(exc, 'kept', '')}", file=sys.stderr)
        return 143  # 128 + SIGTERM, as a shell reports a process that SIGTERM ended
    except KeyboardInterrupt as exc:
        print(f"tessella {args.command}: interrupted{getattr(exc, 'kept', '')}", file=sys.stderr)
        return 130
