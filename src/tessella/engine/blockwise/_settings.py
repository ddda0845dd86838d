"""The settings of a run's plan as the user knows them: a run refused because the unfinished
run into its output had other settings names each one that differs, with both values, in the
words of the Segment panel and the command line (``test-time augmentation: off in the
unfinished run, on now``), never the plan's keys (``segmenter``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["PIXEL_KEYS", "describe_differences"]

PIXEL_KEYS = ("input_pixels", "input_sha256")  # the input's identity (_identity.py)

#: plan keys (and a model segmenter's fingerprint keys) as the panel and the CLI name them
_NAMES = {
    "input": "input",
    "input_key": "input array in the zarr",
    "shape": "image size",
    "dtype": "pixel type",
    "axes": "axes",
    "block": "block size",
    "halo": "halo",
    "stitch_depth": "stitching depth (another Tessella version)",
    "segmenter": "segmenter",
    "model": "model",
    "sha256": "model weights (sha256)",
    "tta": "test-time augmentation",
    "tile": "tile size",
    "spacing": "pixel size",
    "graph": "superpixel graph",
    "invert": "intensities",
    "temporal": "time-lapse model",
}
_SUPPORT = ("the method's context", "stitching", "connectivity", "size parameters")
_INVERT = {None: "as the model says", True: "inverted", False: "kept as they are"}
_MISSING = object()  # a key one plan lacks (a setting an older version did not record)


def describe_differences(old: dict, new: dict) -> list[str]:
    """Each setting that differs between the unfinished run's plan ``old`` and this run's
    ``new``: ``"NAME: OLD in the unfinished run, NEW now"``.

    Examples
    --------
    >>> old = {"axes": "YX", "segmenter": {"tta": False, "tile": 256, "params": {"a": 1}}}
    >>> new = {"axes": "YX", "segmenter": {"tta": True, "tile": 256, "params": {"a": 2}}}
    >>> for said in describe_differences(old, new):
    ...     print(said)
    test-time augmentation: off in the unfinished run, on now
    a: 1 in the unfinished run, 2 now
    """
    said: list[str] = []
    axes = str(new.get("axes", old.get("axes", "")))
    for key in [*new, *(k for k in old if k not in new)]:
        before, now = old.get(key, _MISSING), new.get(key, _MISSING)
        if before == now:
            continue
        if key in PIXEL_KEYS and _hashed_in_other_blocks(old, new):
            continue  # a numpy array's sha256 is read block by block: same pixels, other digest
        if key in PIXEL_KEYS:
            pixels = "the input's pixels: other than the unfinished run's"
            said += [pixels] if pixels not in said else []
        elif key == "segmenter" and isinstance(before, dict) and isinstance(now, dict):
            stitching = _item(old.get("support"), 1) != _item(new.get("support"), 1)
            said += _segmenter_differences(before, now, stitching)
        elif key == "support":
            for name, a, b in zip(_SUPPORT, _padded(before, 4), _padded(now, 4), strict=True):
                if a != b:
                    said.append(_difference(name, a, b))
        elif key == "sizes":
            names = [n or d for n, d in zip(_size_names(new, old), ("min_size", "max_size"))]
            for name, a, b in zip(names, _padded(before, 2), _padded(now, 2), strict=True):
                if a != b:
                    said.append(_difference(name, a, b))
        elif key in ("block", "halo"):
            said.append(_difference(_NAMES[key], _edges(before, axes), _edges(now, axes)))
        else:
            said.append(_difference(_NAMES.get(key, key), before, now))
    return said


def _hashed_in_other_blocks(old: dict, new: dict) -> bool:
    return str(new.get("input_pixels")).startswith("sha256:") and any(
        old.get(key) != new.get(key) for key in ("block", "shape", "axes")
    )


def _segmenter_differences(before: dict, now: dict, stitching: bool) -> list[str]:
    """A model segmenter's fingerprints (:meth:`ModelSegmenter.fingerprint`) compared."""
    said = []
    model = before.get("model") != now.get("model")
    for key in [*now, *(k for k in before if k not in now)]:
        a, b = before.get(key, _MISSING), now.get(key, _MISSING)
        if a == b or (key == "sha256" and model) or (key == "graph" and stitching):
            continue  # other weights of another model; the graph that stitching needs
        if key == "params" and isinstance(a, dict) and isinstance(b, dict):
            for name in [*b, *(n for n in a if n not in b)]:
                if a.get(name, _MISSING) != b.get(name, _MISSING):
                    said.append(_difference(name, a.get(name, _MISSING), b.get(name, _MISSING)))
        elif key == "model":
            said.append(_difference("model", *_model_names(a, b)))
        elif key == "invert":  # not recorded: as the model's card says
            said.append(_difference(_NAMES[key], _INVERT.get(_known(a)), _INVERT.get(_known(b))))
        elif key == "sha256":
            said.append(_difference(_NAMES[key], _short(a), _short(b)))
        elif key == "tile":
            said.append(_difference(_NAMES[key], _px(a), _px(b)))
        else:
            said.append(_difference(_NAMES.get(key, key), a, b))
    return said


def _difference(name: str, before: Any, now: Any) -> str:
    return f"{name}: {_value(before)} in the unfinished run, {_value(now)} now"


def _value(value: Any) -> str:
    if value is _MISSING:
        return "not recorded"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "none"
    if isinstance(value, list | tuple):
        return f"({', '.join(_value(v) for v in value)})"
    return str(value)


def _known(value: Any) -> Any:
    return None if value is _MISSING else value


def _item(values: Any, index: int) -> Any:
    return values[index] if isinstance(values, list | tuple) and len(values) > index else None


def _padded(values: Any, n: int) -> list:
    values = list(values) if isinstance(values, list | tuple) else [values]
    return (values + [_MISSING] * n)[:n]


def _size_names(*plans: dict) -> tuple[str, str]:
    """The names of the size parameters the stitching applies (the support's), if known."""
    for plan in plans:
        names = _item(plan.get("support"), 3)
        if isinstance(names, list | tuple) and len(names) == 2:
            return str(names[0]), str(names[1])
    return "", ""


def _edges(values: Any, axes: str) -> Any:
    """A block or halo per label axis as the panel and --block give it: per spatial axis
    (one number when all are equal), in pixels."""
    if not isinstance(values, list | tuple):
        return values
    spatial = [int(v) for v, a in zip(values, axes.replace("C", "")) if a in "ZYX"] or values
    edges = "x".join(str(v) for v in spatial) if len(set(spatial)) > 1 else str(spatial[0])
    return f"{edges} px"


def _px(value: Any) -> Any:
    return f"{value} px" if isinstance(value, int) and not isinstance(value, bool) else value


def _short(sha256: Any) -> Any:
    return f"{sha256[:12]}…" if isinstance(sha256, str) else sha256


def _model_names(before: Any, now: Any) -> tuple[Any, Any]:
    """Two model folders by their names, or by their paths where the names are the same."""
    if isinstance(before, str) and isinstance(now, str):
        names = Path(before).name, Path(now).name
        if names[0] != names[1]:
            return names
    return before, now
