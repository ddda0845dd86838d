"""Pairing predicted and ground-truth image files by name, without the suffix: what
:func:`score_paths` (``tessella evaluate PRED GT``, :func:`tessella.evaluate_paths`) and
``tessella evaluate --overlapping`` score."""

from __future__ import annotations

from pathlib import Path

from ..errors import MissingFileError

__all__ = ["EvaluationInputError", "MissingInputError", "file_pairs", "image_stem"]


class EvaluationInputError(ValueError):
    """A one-line error naming the file, folder or option that cannot be scored: the
    command line prints it as its error, :func:`tessella.evaluate_paths` raises it as a
    ValueError."""


class MissingInputError(EvaluationInputError, MissingFileError):
    """A file or folder to score that is not there: an :class:`EvaluationInputError` (the
    command line's one-line error) and a :class:`~tessella.engine.errors.MissingFileError`
    (a ``FileNotFoundError`` and a ``ValueError``), as :func:`tessella.evaluate_paths` raises
    it."""


#: suffixes a label image's stem is taken without, longest first (``a.ome.tif`` is ``a``):
#: TIFF, zarr, and the 2D pictures :func:`~tessella.engine.io.read_image` reads (PNG label
#: masks, as many annotation tools save them)
_IMAGE_SUFFIXES = (
    ".ome.tiff",
    ".ome.tif",
    ".ome.zarr",
    ".tiff",
    ".tif",
    ".zarr",
    ".png",
    ".jpeg",
    ".jpg",
    ".bmp",
)


def _few(paths, count: int = 5) -> str:
    """The first ``count`` of ``paths``, and how many more."""
    names = [str(p) for p in paths]
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return ", ".join(names[:count]) + more


def image_stem(path: Path) -> str | None:
    """The name of an image file (TIFF, zarr, PNG/JPEG/BMP picture) without its suffix;
    None for other files.

    >>> image_stem(Path("a.ome.tif")), image_stem(Path("a.TIFF")), image_stem(Path("a.png"))
    ('a', 'a', 'a')
    >>> image_stem(Path("a.csv")), image_stem(Path("a.recipe.json"))
    (None, None)
    """
    name = path.name
    for suffix in _IMAGE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _images_by_stem(folder: Path) -> dict[str, list[Path]]:
    """The TIFF, zarr and picture images of ``folder`` by stem (:func:`image_stem`)."""
    stems: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        stem = image_stem(path)
        if stem is not None and not path.name.startswith("."):
            stems.setdefault(stem, []).append(path)
    return stems


def file_pairs(pred: str, gt: str, skipped: list | None = None) -> list[tuple[Path, Path]]:
    """(GT file, PRED file) pairs: two files, or the images (TIFF, zarr, PNG/JPEG/BMP)
    of the GT folder each with the prediction of its stem (``P/a.tiff`` predicts ``G/a.tif``,
    as ``tessella segment`` keeps each input's suffix; ``P/a.tif`` predicts ``G/a.png``).
    :class:`EvaluationInputError` for a stem two files of a folder share and for ground
    truth without a prediction (all of them named in one line); predictions without ground
    truth are skipped (added to ``skipped``, for the printout to say)."""
    pred_path, gt_path = Path(pred), Path(gt)
    for path in (pred_path, gt_path):
        if not path.exists():
            raise MissingInputError(f"{path}: no such file or folder", str(path))
    from ..io import is_zarr_path

    folders = [p.is_dir() and not is_zarr_path(p) for p in (pred_path, gt_path)]  # zarr: a file
    if folders[0] != folders[1]:
        raise EvaluationInputError(
            f"PRED {pred_path} and GT {gt_path} must both be images (TIFF, zarr or PNG) or both "
            "folders of them"
        )
    if not folders[0]:
        return [(gt_path, pred_path)]
    truths, predictions = _images_by_stem(gt_path), _images_by_stem(pred_path)
    if not truths:
        raise EvaluationInputError(
            f"{gt_path}: the folder holds no .tif/.tiff/.zarr/.png/.jpg/.bmp images"
        )
    for stems, folder in ((truths, gt_path), (predictions, pred_path)):
        shared = [paths for stem, paths in stems.items() if len(paths) > 1 and stem in truths]
        if shared:
            raise EvaluationInputError(
                f"{folder}: {' and '.join(p.name for p in shared[0])} share the name "
                f"{image_stem(shared[0][0])!r}, so which is paired with which is unclear"
                + (f" ({len(shared) - 1} more names alike)" if len(shared) > 1 else "")
                + "; rename or move one of them"
            )
    missing = [paths[0] for stem, paths in truths.items() if stem not in predictions]
    if missing:
        raise EvaluationInputError(
            f"{pred_path}: no prediction for {len(missing)} of the {len(truths)} ground-truth "
            f"images of {gt_path} (predictions are paired by name, without the suffix; to "
            "score only some images, give a ground-truth folder of just theirs, copies or "
            "links): " + _few(p.name for p in missing)
        )
    if skipped is not None:
        skipped.extend(paths[0] for stem, paths in predictions.items() if stem not in truths)
    return [(paths[0], predictions[stem][0]) for stem, paths in truths.items()]
