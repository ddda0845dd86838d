"""Reading TIFF: tifffile's axes as ours, what the metadata states, the pixel size."""

from __future__ import annotations

from pathlib import Path

from ..axes import check_axes, guess_axes
from ._image import LABELS_SOFTWARE, ImageData

__all__ = ["_read_tiff", "_tiff_axes", "_tiff_error"]


def _tiff_axes(series_axes: str, shape: tuple[int, ...]) -> tuple[str, list[int]]:
    """Map tifffile's axes letters to ours; returns the axes and the singleton axes to drop."""
    mapped, drop = [], []
    for i, (letter, n) in enumerate(zip(series_axes, shape)):
        letter = {"S": "C", "Q": "Z", "I": "Z"}.get(letter, letter)
        if letter not in "TZCYX" or (n == 1 and letter not in "YX") or letter in mapped:
            if n != 1:
                raise ValueError(f"unsupported axis {letter!r} of length {n} in {series_axes!r}")
            drop.append(i)
            continue
        mapped.append(letter)
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
            meta_axes, drop = _tiff_axes(series.axes, series.shape)
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
        # the CLI refuses for 2D models with a hint to give --axes TYX or CYX), not colour
        axes = meta_axes if len(meta_axes) == data.ndim else guess_axes(data.shape)
    axes = check_axes(axes, data.ndim, str(path))
    if stated is not None and len(stated) != data.ndim:
        stated = None
    return ImageData(data, axes, sizes, unit, path, labels, stated_axes=stated, stated_by=stated_by)


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
