"""Training data for time-lapse models: a window of frames around each labelled frame.

Two layouts are read:

- a Cell Tracking Challenge sequence folder ``.../NN`` (frames ``tTTT.tif``) whose ground truth
  is in ``.../NN_GT``: ``SEG/man_segTTT.tif`` labels the frames used for training. Where SEG
  is sparse (not every cell annotated, as in Fluo-N2DH-GOWT1), the cells that only the
  tracking markers ``TRA/man_trackTTT.tif`` show are left out of the loss (a band around each
  unannotated marker is ignored) instead of being taught as background. ``TTT`` is any number
  of digits (CTC writes four for long movies) and ``.tif``/``.tiff`` may be in any case; files
  of other names (``man_seg_old.tif``, ``t000 copy.tif``, ``notes.txt``) are left out and named
  in one line, and two files of one frame number (``t000.tif``, ``t000.tiff``) are refused;
- a folder with ``images/NAME.tif`` (TYX stacks) and ``masks/NAME.tif`` (TYX instance labels);
  frames whose mask is empty count as unlabelled and are skipped. Files left out, and masks
  with a frame where one label covers much of it (unannotated parts painted one value, with
  no ``ignore_label``), are warned about in one line each, as
  :func:`~.data.load_folder_pairs` does; so are SEG files of a CTC sequence where one label
  covers much of the frame.

Each :class:`~.data.Sample` holds the window of frames ``t - window//2 .. t + window//2``
(``target="centre"``) or ``t - window + 1 .. t`` (``"last"``) as channels, each frame
normalised on its own; frames beyond either end of the movie repeat the first or last one.
Samples are named ``STEM[t=TTT]`` (CTC: ``DATASET_NN[t=TTT]``), which ``--holdout`` and
``--exclude`` select as ``STEM[t=A:B]``.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from scipy import ndimage

from ..axes import to_model_layout
from ..io import read_image
from ..normalize import normalize
from ._folders import (
    _few,
    left_out_files,
    painted_label,
    tiff_files,
    warn_once,
    warn_painted,
)
from .data import Sample, as_int32_labels, check_finite, refuse_unknown_exclusions, selects

__all__ = ["window_indices", "stack_window", "load_timelapse_samples", "is_ctc_sequence"]

# CTC names; the number may have any count of digits, the suffix any case
_CTC_FRAME = re.compile(r"^t([0-9]+)\.tiff?$", re.IGNORECASE)
_CTC_SEG = re.compile(r"^man_seg([0-9]+)\.tiff?$", re.IGNORECASE)
_CTC_TRACK = re.compile(r"^man_track([0-9]+)\.tiff?$", re.IGNORECASE)
#: pixels around an unannotated cell's tracking marker left out of the loss
IGNORE_MARGIN = 8


def window_indices(t: int, count: int, window: int, target: str = "centre") -> list[int]:
    """The frames of the window whose outputs are for frame ``t`` of ``count``, clamped.

    Examples
    --------
    >>> window_indices(0, 10, 3), window_indices(9, 10, 3), window_indices(1, 10, 3, "last")
    ([0, 0, 1], [8, 9, 9], [0, 0, 1])
    """
    first = t - window // 2 if target == "centre" else t - window + 1
    return [min(max(i, 0), count - 1) for i in range(first, first + window)]


def stack_window(frames, normalization: dict) -> np.ndarray:
    """``(window * C, Y, X)`` float32 from the ``(C, Y, X)`` frames, each normalised alone."""
    return np.concatenate([normalize(f, normalization) for f in frames])


def is_ctc_sequence(path) -> bool:
    path = Path(path)
    return path.is_dir() and (path.parent / f"{path.name}_GT").is_dir()


def _numbered(
    folder: Path, pattern: re.Pattern, base: Path, left_out: dict, keep: tuple[str, ...] = ()
) -> dict[int, Path]:
    """The files of ``folder`` whose names ``pattern`` matches, by the number it finds. The
    others (folders too; hidden files and the names in ``keep`` aside) are added to
    ``left_out[pattern]`` as ``FOLDER/NAME`` relative to ``base``. Two files of one number
    (``t000.tif`` and ``t000.tiff``, ``t0.tif`` and ``t000.tif``) are refused."""
    found: dict[int, Path] = {}
    if not folder.is_dir():
        return found
    relative = folder.relative_to(base)
    for file in sorted(folder.iterdir()):
        if file.name.startswith(".") or file.name in keep:
            continue
        match = pattern.match(file.name)
        if match is None or file.is_dir():
            left_out.setdefault(pattern, []).append(
                f"{relative.as_posix()}/{file.name}" + ("/" if file.is_dir() else "")
            )
            continue
        number = int(match[1])
        if number in found:
            raise ValueError(
                f"{folder}: {found[number].name} and {file.name} are both frame {number}; keep one"
            )
        found[number] = file
    return found


_EXPECTED = {_CTC_FRAME: "tTTT.tif", _CTC_SEG: "man_segTTT.tif", _CTC_TRACK: "man_trackTTT.tif"}


def _ctc_sequence(
    path: Path, window, target, channels, normalization, exclude, seen, ignore_label, warned
):
    gt = path.parent / f"{path.name}_GT"
    left_out: dict[re.Pattern, list[str]] = {}
    base = path.parent
    frames = sorted(_numbered(path, _CTC_FRAME, base, left_out).items())
    seg_dir = gt / "SEG"
    seg_files = _numbered(seg_dir, _CTC_SEG, base, left_out)
    track_files = _numbered(gt / "TRA", _CTC_TRACK, base, left_out, keep=("man_track.txt",))
    if left_out:
        unused = "; ".join(
            f"{_few(names)} (not {_EXPECTED[pattern]})" for pattern, names in left_out.items()
        )
        warn_once(f"{path.parent}: left out {unused}", warned, stacklevel=3)
    if not frames:
        raise ValueError(f"{path}: a CTC sequence folder must hold frames tTTT.tif")
    if [t for t, _ in frames] != list(range(len(frames))):
        raise ValueError(f"{path}: frames must be numbered t000 .. t{len(frames) - 1:03d}")
    if not seg_dir.is_dir():
        raise ValueError(f"{gt}: no SEG folder with man_segTTT.tif ground truth")
    stem = f"{path.parent.name}_{path.name}"
    seen.extend(f"{stem}[t={t:03d}]" for t, _ in frames)  # annotated or not
    cache: dict[int, np.ndarray] = {}
    painted = []  # (SEG file, label, fraction, objects): unannotated parts, no ignore label?

    def frame(i):
        if i not in cache:
            data = np.asarray(read_image(frames[i][1]).data)
            check_finite(data, str(frames[i][1]))
            cache[i] = to_model_layout(data, "YX" if data.ndim == 2 else "YXC", "YX", channels)
        return cache[i]

    samples = []
    for t, seg_path in sorted(seg_files.items()):
        name = f"{stem}[t={t:03d}]"
        if any(selects(e, name) for e in exclude):
            continue
        if t >= len(frames):
            raise ValueError(f"{seg_path}: frame {t} is beyond the {len(frames)} frames of {path}")
        labels = as_int32_labels(read_image(seg_path).data, str(seg_path), ignore_label)
        if ignore_label is None and (found := painted_label(labels)):
            painted.append((seg_path.name, *found))
        image = stack_window(
            [frame(i) for i in window_indices(t, len(frames), window, target)], normalization
        )
        if labels.shape != image.shape[1:]:
            raise ValueError(
                f"{seg_path}: labels of shape {labels.shape} do not match frame {t}'s "
                f"shape {image.shape[1:]}"
            )
        sample = Sample(image, labels, name)
        tra_path = track_files.get(t)
        if tra_path is not None:
            markers = np.asarray(read_image(tra_path).data)
            annotated = np.unique(markers[labels > 0])
            unannotated = (markers > 0) & ~np.isin(markers, annotated)
            if unannotated.any():
                sample.ignore = ndimage.binary_dilation(unannotated, iterations=IGNORE_MARGIN) & (
                    labels == 0
                )
        samples.append(sample)
    warn_painted(seg_dir, painted, stacklevel=3, warned=warned)
    return samples


def _stack_folder(
    path: Path, window, target, channels, normalization, exclude, seen, ignore_label, warned
):
    image_dir, mask_dir = path / "images", path / "masks"
    if not image_dir.is_dir() or not mask_dir.is_dir():
        raise ValueError(
            f"{path} must be a Cell Tracking Challenge sequence folder (with a sibling "
            f"{path.name}_GT) or hold images/ and masks/ folders of TYX stacks"
        )
    unused = left_out_files(image_dir, mask_dir)
    if unused:
        warn_once(f"{path}: {unused}", warned, stacklevel=3)
    painted = []  # (mask file, label, fraction, objects): unannotated parts, no ignore label?
    samples = []
    image_paths = tiff_files(image_dir)
    if not image_paths:
        raise ValueError(f"{image_dir} holds no TIFF files")
    for image_path in image_paths:
        mask_path = mask_dir / image_path.name
        if not mask_path.is_file():
            raise ValueError(f"{image_path}: no matching labels file {mask_path}")
        image = read_image(image_path)
        data = np.asarray(image.data)
        labels = np.asarray(read_image(mask_path).data)
        if data.ndim not in (3, 4) or labels.shape != data.shape[:3]:
            raise ValueError(
                f"{image_path}: expected a TYX (or TYXC) stack and TYX labels ({mask_path}) of "
                f"the same shape, got {data.shape} and {labels.shape}"
            )
        labels = as_int32_labels(labels, str(mask_path), ignore_label)
        if ignore_label is None:  # the frame most covered by one label, of those labelled
            found = [f for frame in labels if frame.any() and (f := painted_label(frame))]
            if found:
                painted.append((mask_path.name, *max(found, key=lambda f: f[1])))
        check_finite(data, str(image_path))
        frame_axes = "YX" if data.ndim == 3 else "YXC"
        frames = [to_model_layout(f, frame_axes, "YX", channels) for f in data]
        for t in range(len(frames)):
            name = f"{Path(image_path.name).stem}[t={t:03d}]"
            seen.append(name)
            if not labels[t].any() or any(selects(e, name) for e in exclude):
                continue
            window_frames = [frames[i] for i in window_indices(t, len(frames), window, target)]
            samples.append(Sample(stack_window(window_frames, normalization), labels[t], name))
    warn_painted(mask_dir, painted, stacklevel=3, warned=warned)
    return samples


def load_timelapse_samples(
    data,
    window: int,
    target: str = "centre",
    channels: int = 1,
    normalization=None,
    exclude=(),
    ignore_label: int | None = None,
    warned: set[str] | None = None,
) -> list[Sample]:
    """Samples (window of frames -> labels of one frame) from one or several folders.

    Labels become int32 (:func:`~.data.as_int32_labels`: large IDs are renumbered, negative
    ones other than ``ignore_label``, the value of unannotated pixels, refused). What is
    warned of a folder is said once, however often it is given; a line already in ``warned``
    (a set that the calls of one run share) is not said again, and the lines said are added
    to it."""
    normalization = normalization or {"low": 1.0, "high": 99.8}
    exclude = [str(e) for e in exclude]
    paths = [Path(p) for p in ([data] if isinstance(data, (str, Path)) else data)]
    samples: list[Sample] = []
    seen: list[str] = []  # every frame's name, excluded or not
    warned = set() if warned is None else warned
    for path in paths:
        if not path.is_dir():
            raise ValueError(f"{path}: no such folder")
        reader = _ctc_sequence if is_ctc_sequence(path) else _stack_folder
        samples += reader(
            path, window, target, channels, normalization, exclude, seen, ignore_label, warned
        )
    refuse_unknown_exclusions(exclude, seen, ", ".join(map(str, paths)))
    if not samples:
        raise ValueError(f"no labelled frames in {', '.join(map(str, paths))}")
    return samples
