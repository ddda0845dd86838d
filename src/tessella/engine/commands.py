"""Commands that Tessella prints for the user to copy into a POSIX shell (advice in errors and
warnings), built in one place so that every one of them pastes as it reads.

Each word is quoted for the shell (:func:`shlex.quote`): a path with a space, a quote, a
dollar sign, a backtick or a backslash reaches the command as it is, never expanded or split.
A path that starts with ``-`` is written ``./-name`` so that it is not taken for an option.
"""

from __future__ import annotations

import os
import shlex

__all__ = ["shell_command", "convert_command"]


def shell_command(*words) -> str:
    """``words`` (text, numbers, paths) as one POSIX shell command line, each word quoted
    where the shell would otherwise change it.

    >>> print(shell_command("tessella", "segment", "it's $HOME.tif", "-o", "out.tif"))
    tessella segment 'it'"'"'s $HOME.tif' -o out.tif
    """
    return shlex.join(os.fspath(w) if isinstance(w, os.PathLike) else str(w) for w in words)


def _path_word(path) -> str:
    """A path as a command's argument: ``./-a.tif`` for ``-a.tif`` (not an option)."""
    text = os.fspath(path)
    return f"./{text}" if text.startswith("-") else text


def convert_command(image, out, chunk: int | None = None) -> str:
    """The ``tessella convert`` command that writes ``image`` (a TIFF or zarr path) into the
    chunked zarr ``out`` (:func:`~tessella.engine.blockwise.to_chunked_zarr`), with chunks
    of ``chunk`` pixels along each spatial axis (None: the default block).

    >>> print(convert_command("my slide.tif", "my slide.zarr", 1024))
    tessella convert 'my slide.tif' 'my slide.zarr' --chunk 1024
    """
    words: list = ["tessella", "convert", _path_word(image), _path_word(out)]
    if chunk is not None:
        words += ["--chunk", int(chunk)]
    return shell_command(*words)
