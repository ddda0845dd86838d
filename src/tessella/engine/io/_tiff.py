"""Reading TIFF: tifffile's axes as ours, what the metadata states, the pixel size."""

from __future__ import annotations

from pathlib import Path

from ..axes import SUPPORTED_AXES, check_axes, guess_axes
from ._image import LABELS_SOFTWARE, ImageData

__all__ = ["_read_tiff", "_tiff_axes", "_tiff_error"]


def _tiff_axes(
    series_axes: str, shape: tuple[int, ...], strict: bool = True
) -> tuple[str, list[int]]:
    """Map tifffile's axes letters to ours; returns the axes and the singleton axes to drop.

    tifffile names an axis it knows nothing of Q (a plain ``imwrite`` of a stack) or I (plain
    pages): read as a plain array's are (:func:`~tessella.engine.axes.guess_axes`), one such
    axis is Z (ZYX) and two are T and Z (TZYX), where the other axes leave those free. An axis
    that maps to none of ours (or to one already taken), and unknown axes too many to be T
    and Z, raise ValueError naming tifffile's letters, unless ``strict`` is False (axes given
    for the file replace its own, so only their count matters): then they are ``?``. Axes of
    length 1 other than Y and X are dropped.

    >>> _tiff_axes("QYX", (5, 64, 64)), _tiff_axes("QQYX", (4, 5, 64, 64))
    (('ZYX', []), ('TZYX', []))
    >>> _tiff_axes("QQYX", (1, 5, 64, 64)), _tiff_axes("QSYX", (2, 3, 64, 64))
    (('ZYX', [0]), ('ZCYX', []))
    >>> _tiff_axes("QQQYX", (2, 4, 5, 64, 64), strict=False)
    ('???YX', [])
    """
    mapped: list[str] = []
    drop: list[int] = []
    unknown: list[int] = []
    for i, (letter, n) in enumerate(zip(series_axes, shape)):
        ours = {"S": "C", "Q": "?", "I": "?"}.get(letter, letter)
        if n == 1 and ours not in "YX":
            drop.append(i)
        elif ours == "?" or (ours in "TZCYX" and ours not in mapped):
            unknown += [len(mapped)] if ours == "?" else []
            mapped.append(ours)
        elif strict:
            raise ValueError(f"unsupported axis {letter!r} of length {n} in {series_axes!r}")
        else:
            mapped.append("?")
    free = [a for a in "TZ" if a not in mapped]
    if unknown and len(unknown) <= len(free):
        for position, axis in zip(unknown, free[len(free) - len(unknown) :]):
            mapped[position] = axis
    elif unknown and strict:
        raise ValueError(
            f"{len(unknown)} axes of unknown meaning (tifffile's Q or I) in {series_axes!r}"
        )
    return "".join(mapped), drop


def _tiff_pixel_size(tif) -> tuple[dict[str, float], str]:
    sizes: dict[str, float] = {}
    unit = "pixel"
    if tif.is_ome and tif.ome_metadata:
        import xml.etree.ElementTree as ET

        root = ET.fromstring(tif.ome_metadata)
        for element in root.iter():
            if element.tag.endswith("Pixels"):
                for axis in "ZYX":
                    value = element.get(f"PhysicalSize{axis}")
                    if value:
                        sizes[axis] = float(value)
                unit = element.get("PhysicalSizeXUnit", "µm" if sizes else "pixel")
                break
        return sizes, unit
    page = tif.pages[0]
    ij = tif.imagej_metadata or {}
    tags = page.tags
    # ImageJ files: pixels per ImageJ's unit, whatever ResolutionUnit says. Others: only a
    # resolution in centimetres is a pixel size; inches (72 dpi from an image editor) and no
    # unit are a print resolution, not one
    res_unit = int(getattr(tags.get("ResolutionUnit"), "value", 2))
    per_um = 1.0 if ij else (1e-4 if res_unit == 3 else None)
    # 1/1 is the default resolution, not a size, unless ImageJ names a unit (a 1 µm pixel)
    ij_unit = str(ij.get("unit", "")).strip() not in ("", "pixel", "pixels")
    for axis, tag in (("X", "XResolution"), ("Y", "YResolution")):
        if tag in tags and per_um is not None:
            num, den = tags[tag].value
            if num and den and (num != 1 or den != 1 or ij_unit):
                sizes[axis] = den / num / per_um
    if "spacing" in ij:
        sizes["Z"] = float(ij["spacing"])
    if sizes:
        unit = ij.get("unit", "pixel") if ij else "µm"
        unit = {"micron": "µm", "um": "µm", "\\u00B5m": "µm"}.get(unit, unit)
    return sizes, unit


def _tiff_error(path, exc: Exception) -> str:
    """One line for a TIFF that cannot be read: a cut or corrupt file raises anything from
    tifffile's own TiffFileError to a codec's DeflateError or an IndexError."""
    import tifffile

    plain = isinstance(exc, tifffile.TiffFileError | OSError | ValueError) and str(exc)
    return f"{path}: cannot read as TIFF ({exc if plain else f'{type(exc).__name__}: {exc}'})"


def _read_tiff(path: Path, axes: str | None) -> ImageData:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            data = series.asarray()
            meta_axes, drop = _tiff_axes(series.axes, series.shape, strict=False)
            stated, stated_by = _tiff_stated_axes(series, drop)
            sizes, unit = _tiff_pixel_size(tif)
            labels = str(tif.pages[0].software or "").startswith(LABELS_SOFTWARE)
    except MemoryError:
        raise
    except Exception as exc:  # tifffile and its codecs raise many kinds (DeflateError, ...)
        raise ValueError(_tiff_error(path, exc)) from None
    if drop and data.ndim == len(series.axes):
        data = data.squeeze(axis=tuple(drop))
    if axes is None:
        # without metadata, a stack of 3 or 4 planes is a stack like any other (ZYX, which
        # the CLI refuses for 2D models with a hint to give --axes TYX or CYX), not colour;
        # given axes override the file's, whatever tifffile made of them
        if len(meta_axes) != data.ndim:
            meta_axes = guess_axes(data.shape) if 2 <= data.ndim <= 4 else meta_axes
        if meta_axes not in SUPPORTED_AXES:
            raise ValueError(_unsupported_axes(path, series, meta_axes, data.shape))
        axes = meta_axes
    axes = check_axes(axes, data.ndim, str(path))
    if stated is not None and len(stated) != data.ndim:
        stated = None
    return ImageData(data, axes, sizes, unit, path, labels, stated_axes=stated, stated_by=stated_by)


def _unsupported_axes(path: Path, series, meta_axes: str, shape: tuple[int, ...]) -> str:
    """One line for a TIFF whose axes, as read from its metadata, Tessella does not read: what
    they were taken for, from what (a guess where tifffile knows nothing of an axis, Q or I,
    or took planes for planar RGB samples), and to pass ``--axes``."""
    kind = getattr(series, "kind", "")
    legend = {"Q": "Q unknown", "I": "I unknown", "S": "S colour samples"}
    said = [legend[letter] for letter in dict.fromkeys(series.axes) if letter in legend]
    letters = f" (tifffile's {series.axes!r}" + (f": {', '.join(said)})" if said else ")")
    letters = "" if series.axes == meta_axes else letters
    guessed = kind not in ("imagej", "ome") and (
        bool(set(series.axes) & set("QI")) or "S" in series.axes[:-1]
    )
    if guessed:
        source = "guessed from its TIFF tags"
    else:
        source = {"imagej": "from its ImageJ metadata", "ome": "from its OME metadata"}.get(
            kind, "from its TIFF description"
        )
    supported = ", ".join(SUPPORTED_AXES)
    if not 2 <= len(shape) <= 4:
        return (
            f"{path}: its shape {tuple(shape)} has {len(shape)} axes longer than 1"
            f"{letters}; Tessella reads 2 to 4 ({supported})"
        )
    hint = f", e.g. --axes {guess_axes(shape)}" if guessed else ""
    taken = f"axes {meta_axes!r}" if "?" not in meta_axes else "its axes"
    return (
        f"{path}: {taken}, {source}{letters}, are not supported; pass --axes with the "
        f"axes its shape {tuple(shape)} has, one of {supported}{hint}"
    )


def _tiff_stated_axes(series, drop: list[int]) -> tuple[str | None, str]:
    """What a TIFF's metadata says each kept axis is (``?``: nothing) and what says it.
    tifffile names axes it knows nothing of Q or I, and a plain ``imwrite`` of 3 or 4 planes
    tags them planar RGB (S first), so those are ``?``; Y and X are the pages' own."""
    letters = [letter for i, letter in enumerate(series.axes) if i not in drop]
    kind = getattr(series, "kind", "")
    last = len(letters) - 1
    stated = "".join(
        "?" if letter in "QI" or (letter == "S" and i != last) else {"S": "C"}.get(letter, letter)
        for i, letter in enumerate(letters)
    )
    if any(letter not in "TZCYX?" for letter in stated):
        return None, ""
    if kind in ("imagej", "ome"):
        return stated, {"imagej": "ImageJ metadata", "ome": "OME metadata"}[kind]
    if stated.endswith("C"):
        return stated, "TIFF tags (RGB)"
    return stated, "TIFF description" if set(stated) & set("TZC") else "TIFF pages"
