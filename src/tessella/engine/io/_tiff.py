"""Reading TIFF: tifffile's axes as ours, what the metadata states, the pixel size."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..axes import SUPPORTED_AXES, guess_axes, misplaced_axes, supported_order
from ._image import LABELS_SOFTWARE, ImageData

__all__ = [
    "PLANAR_RGB_TAGS",
    "TiffLayout",
    "_read_tiff",
    "_tiff_axes",
    "_tiff_error",
    "tiff_layout",
    "tifffile_planar_rgb",
]

#: ``ImageData.stated_by`` of a stack read from tifffile's planar RGB tags
#: (:func:`tifffile_planar_rgb`): the tags say colour, the reader took the planes for a stack
PLANAR_RGB_TAGS = "TIFF tags (planar RGB)"


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


def _tiff_pixel_size(tif, series: int = 0) -> tuple[dict[str, float], str]:
    """The pixel size of ``tif``'s series ``series`` per axis (only the axes its metadata
    give: a size it leaves out stays unknown) and its unit."""
    sizes: dict[str, float] = {}
    unit = "pixel"
    if tif.is_ome and tif.ome_metadata:
        import xml.etree.ElementTree as ET

        root = ET.fromstring(tif.ome_metadata)
        pixels = [element for element in root.iter() if element.tag.endswith("Pixels")]
        for element in pixels[series : series + 1] or pixels[:1]:
            for axis in "ZYX":
                value = element.get(f"PhysicalSize{axis}")
                if value:
                    sizes[axis] = float(value)
            unit = element.get("PhysicalSizeXUnit", "µm" if sizes else "pixel")
        return sizes, _unit_name(unit)
    page = tif.series[series].keyframe if series < len(tif.series) else tif.pages[0]
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
        unit = _unit_name(unit)
    return sizes, unit


class UnitCaseWarning(UserWarning):
    """A file's unit is a metre whose capital prefix is one of its own (``Mm``: megametres,
    ``PM``: petametres), most likely milli- or picometres typed in the wrong case."""


def _warn_unit_case(path, unit: str, sizes: dict) -> None:
    """Warn, in one line naming the file, where its unit is read as a metre of a capital
    prefix (``Mm``: megametres) that is most likely the small one's (mm): kept as the file
    says (a recipe's unit and ``--voxel-size`` refuse it), but 1e9-fold off if mistyped."""
    import warnings

    from ._write import capital_prefix_misread

    misread = capital_prefix_misread(str(unit))
    if misread is None:
        return
    reads_as, meant, symbol = misread
    size = ", ".join(f"{a} {v:g}" for a, v in sizes.items())
    warnings.warn(
        f"{path}: its unit {unit!r} reads as {reads_as}"
        + (f" (pixel size {size} {unit})" if size else "")
        + f"; kept as the file says. If {meant} are meant, set the unit to {symbol} (or µm) "
        "in Fiji (Image > Properties) or give --voxel-size with its unit",
        UnitCaseWarning,
        stacklevel=6,  # (read_image's caller, as _pick_series's: one frame deeper)
    )


def _unit_name(unit: str) -> str:
    """One spelling per unit in what is read: "µm" for every spelling of the micrometre
    (:func:`~tessella.engine.io._write.unit_symbol`'s, as "UM", "µM"; OME's own symbol, NGFF's
    "micrometer" written back where NGFF asks for it); the
    ``\\uXXXX`` escapes ImageJ writes a unit's characters outside ASCII in (Fiji's "Å" is
    ``\\u00C5``) read as the characters, as Fiji reads them.

    >>> _unit_name("\\u00C5"), _unit_name("micron"), _unit_name("nm")
    ('Å', 'µm', 'nm')
    """
    from ._write import _java_unescaped, unit_symbol  # (here: _write imports _zarr, which
    # imports this)

    text = _java_unescaped(str(unit))
    return "µm" if unit_symbol(text) == "µm" else text  # (as every unit is read: "UM", "µM")


@contextlib.contextmanager
def tifffile_log_held():
    """tifffile's log records while a TIFF is opened and read, held back and given out after,
    but dropped where it is refused: a cut file's "<tifffile.TiffPages @398100> invalid offset
    to first page 398100" came on stderr before the one-line error that says it."""
    logger = logging.getLogger("tifffile")
    held: list[logging.LogRecord] = []

    def hold(record: logging.LogRecord) -> bool:
        held.append(record)
        return False

    logger.addFilter(hold)
    try:
        yield
    except BaseException:
        held.clear()
        raise
    finally:
        logger.removeFilter(hold)
        for record in held:
            logger.handle(record)


def _tiff_error(path, exc: Exception) -> str:
    """One line for a TIFF that cannot be read: a cut or corrupt file raises anything from
    tifffile's own TiffFileError to a codec's DeflateError or an IndexError."""
    import tifffile

    plain = isinstance(exc, tifffile.TiffFileError | OSError | ValueError) and str(exc)
    return f"{path}: cannot read as TIFF ({exc if plain else f'{type(exc).__name__}: {exc}'})"


@dataclass(frozen=True)
class TiffLayout:
    """What :func:`tiff_layout` reads of a TIFF's metadata (no pixel): how ``read_image``
    reads it."""

    #: the series read (:func:`_pick_series`)
    series: int
    #: its shape without ``drop``
    shape: tuple[int, ...]
    #: the positions (in the series' own shape) of its axes of length 1, left out
    drop: list[int]
    #: its axes as read from its metadata (or guessed from its shape) in the order the file
    #: stores them, ``?`` where unknown: what ``read_image`` reads without axes given
    axes: str
    #: what its metadata state each kept axis is (``?``: nothing), what states it
    #: (:func:`_tiff_stated_axes`); None where they do not name one per kept axis
    stated: str | None
    stated_by: str
    #: ``axes`` are guessed against what tifffile makes of the file (``read_image`` says so):
    #: channels last (YXC) for a plain ``imwrite`` of (Y, X, 2..8) stored as a volume 2..8
    #: pixels wide; a stack (ZYX) for tifffile's planar RGB of 3 or 4 planes
    #: (:func:`tifffile_planar_rgb`; ``stated_by`` is then :data:`PLANAR_RGB_TAGS`)
    guessed: bool
    #: ``read_image`` reads ``axes`` without axes given (one of SUPPORTED_AXES, or axes its
    #: metadata name in another order, which it transposes)
    readable: bool
    #: the order the engine reads ``axes`` in (transposed to it), None where it reads none
    order: str | None
    #: the pixel size per axis its metadata give, and its unit (:func:`_tiff_pixel_size`)
    sizes: dict[str, float]
    unit: str
    #: written by Tessella as labels
    labels: bool

    @property
    def stated_axes(self) -> str | None:
        """What its metadata state of ``axes`` (None where ``axes`` were guessed)."""
        return None if self.guessed else self.stated


def tiff_layout(path: Path, tif, series: int | None = None) -> TiffLayout:
    """The layout of the open TIFF ``tif`` (of ``path``) as ``read_image`` reads it, from its
    metadata alone (no pixel read, so that a TIFF bigger than memory is described too): the
    series (``series``, else :func:`_pick_series`'s choice, said where there are several),
    its axes in the order the file stores them, the order the engine reads them in, and its
    pixel size. ``read_image`` (:func:`_read_tiff`) and ``tessella convert`` both read it."""
    if len(tif.pages) == 0 or not tif.series:  # (a cut file: tifffile found no page)
        raise ValueError(f"{path}: truncated or not a complete TIFF (no image directory)")
    index = _pick_series(path, tif.series, series, stacklevel=5)  # (one frame deeper)
    chosen = tif.series[index]
    axes, drop = _tiff_axes(chosen.axes, chosen.shape, strict=False)
    stated, stated_by = _tiff_stated_axes(chosen, drop)
    shape = tuple(int(n) for i, n in enumerate(chosen.shape) if i not in drop)
    sizes, unit = _tiff_pixel_size(tif, index)
    _warn_unit_case(path, unit, sizes)
    if stated is not None and len(stated) != len(shape):
        stated = None
    # without metadata, a stack of 3 or 4 planes is a stack like any other (ZYX, which the
    # CLI refuses for 2D models with a hint to give --axes TYX or CYX), not colour
    guessed = False
    if len(axes) != len(shape):
        axes = guess_axes(shape) if 2 <= len(shape) <= 4 else axes
    elif axes == "CYX" and stated == "?YX" and tifffile_planar_rgb(tif, chosen, drop):
        # tifffile's planar RGB: what tifffile.imwrite(path, stack) writes for any stack of 3
        # or 4 planes, byte for byte as for a (3, Y, X) colour image written with
        # photometric="rgb": a stack, as tifffile.imread and napari's own reader read it,
        # said (read_image), with axes CYX to read it as colour
        axes, guessed, stated_by = "ZYX", True, PLANAR_RGB_TAGS
    elif axes == "ZYX" and stated == "?YX" and guess_axes(shape) == "YXC":
        # a plain imwrite of (Y, X, 2..8) is stored as Y pages X pixels by 2..8 wide:
        # channels last (as Fiji and scikit-image take it), not a volume 2 pixels wide
        axes, guessed = "YXC", True
    # axes its metadata name are read in any order (transposed); guessed ones only as
    # guessed (a plain imwrite's (2, 3, Y, X), tagged planar RGB, is no ZCYX hyperstack)
    named = not guessed and stated is not None and "?" not in stated
    readable = axes in SUPPORTED_AXES or (named and supported_order(axes) is not None)
    return TiffLayout(
        series=index,
        shape=shape,
        drop=drop,
        axes=axes,
        stated=stated,
        stated_by=stated_by,
        guessed=guessed,
        readable=readable,
        order=supported_order(axes) if readable else None,
        sizes=sizes,
        unit=unit,
        labels=str(tif.pages[0].software or "").startswith(LABELS_SOFTWARE),
    )


def _read_tiff(
    path: Path,
    axes: str | None,
    channel: int | None = None,
    series: int | None = None,
    ignore_metadata: bool = False,
) -> ImageData:
    """A TIFF's image (:func:`_pick_series` of its series), in a supported order of the axes
    its metadata name or ``axes`` give (both in the order the file stores its dimensions:
    ImageJ's ZCYX is read as CZYX, transposed in place: :func:`_transposed_in_place`), its
    pixel size per axis; ``channel``: that channel alone (no C axis). What it reads of the
    metadata is :func:`tiff_layout`."""
    import tifffile

    try:
        with tifffile_log_held(), tifffile.TiffFile(path) as tif:
            layout = tiff_layout(path, tif, series)
            chosen = tif.series[layout.series]
            data = chosen.asarray()
    except MemoryError:
        raise
    except ValueError as exc:
        if str(exc).startswith(str(path)):  # (ours: a series that does not exist)
            raise
        raise ValueError(_tiff_error(path, exc)) from None
    except Exception as exc:  # tifffile and its codecs raise many kinds (DeflateError, ...)
        raise ValueError(_tiff_error(path, exc)) from None
    drop, stated, stated_by = layout.drop, layout.stated, layout.stated_by
    if drop and data.ndim == len(chosen.axes):
        data = data.squeeze(axis=tuple(drop))
    if axes is None:
        # given axes override the file's, whatever tifffile made of them
        meta_axes, stated = layout.axes, layout.stated_axes
        if layout.guessed and layout.stated_by == PLANAR_RGB_TAGS:
            _say_planar_stack(path, data.shape)
        elif layout.guessed:
            _say_guessed(path, data.shape, meta_axes)
        named = stated is not None and "?" not in stated
        if not layout.readable and not (named and channel is not None and "C" in meta_axes):
            raise ValueError(_unsupported_axes(path, chosen, meta_axes, data.shape))
        axes = meta_axes
    else:
        axes = _given_axes(path, axes, data.ndim, stated, stated_by, ignore_metadata)
    stored_axes = axes
    if channel is not None:
        data, axes, stated = _one_channel(path, data, axes, stated, channel)
    order = supported_order(axes)
    if order is None:
        raise ValueError(_unsupported_axes(path, chosen, axes, data.shape))
    if order != axes:  # the file's order, transposed to one the engine reads, in place
        data = _transposed_in_place(data, axes, order)
        if stated is not None:
            stated = "".join(stated[axes.index(a)] for a in order)
        axes = order
    return ImageData(
        data,
        axes,
        layout.sizes,
        layout.unit,
        path,
        layout.labels,
        stated_axes=stated,
        stated_by=stated_by,
        stored_axes=stored_axes,
    )


def _transposed_in_place(data: np.ndarray, axes: str, order: str) -> np.ndarray:
    """``data`` (of ``axes``) with its axes in ``order``, C-contiguous, rearranged in its own
    memory where it owns it (the array just read): a copy of the whole (``np.
    ascontiguousarray`` of the transposed view) held a big stack twice at once, and a
    transposed view made every channel a copy when normalised. Where the last axes stay
    (ImageJ's ZCYX read as CZYX: whole YX planes move) the planes are moved along the
    cycles of their permutation, one plane held aside; where the first axes stay (TCYX read
    as TYXC) each of their blocks is transposed through a copy of that block; else (no
    axis stays) the whole is copied.

    >>> x = np.arange(24).reshape(2, 3, 2, 2)
    >>> y = _transposed_in_place(x.copy(), "ZCYX", "CZYX")
    >>> bool(np.array_equal(y, x.transpose(1, 0, 2, 3))), y.flags.c_contiguous
    (True, True)
    """
    moved = np.transpose(data, [axes.index(a) for a in order])
    kept_last = len(axes) - len(os.path.commonprefix([axes[::-1], order[::-1]]))
    kept_first = len(os.path.commonprefix([axes, order]))
    owned = data.flags.c_contiguous and data.flags.writeable
    if not owned or (kept_last == len(axes) and kept_first == 0):
        return np.ascontiguousarray(moved)
    flat = data.reshape(-1)  # (a view: contiguous) the memory the result is written into
    if kept_last < len(axes):  # planes: the trailing axes that stay, moved whole
        planes = flat.reshape(int(np.prod(data.shape[:kept_last], dtype=np.int64)), -1)
        lead = [axes.index(a) for a in order[:kept_last]]
        source = np.arange(len(planes)).reshape(data.shape[:kept_last]).transpose(lead).ravel()
        done = np.zeros(len(planes), bool)
        for start in range(len(planes)):  # plane `at` of the result is plane source[at]
            if done[start] or source[start] == start:
                continue
            aside, at = planes[start].copy(), start
            while source[at] != start:
                planes[at] = planes[source[at]]
                done[at], at = True, source[at]
            planes[at], done[at] = aside, True
    else:  # blocks of the leading axes that stay, each transposed through a copy of it
        blocks = flat.reshape(int(np.prod(data.shape[:kept_first], dtype=np.int64)), -1)
        inner = [axes.index(a) - kept_first for a in order[kept_first:]]
        for i, block in enumerate(data.reshape(len(blocks), *data.shape[kept_first:])):
            blocks[i] = np.transpose(block, inner).copy().reshape(-1)
    return flat.reshape(moved.shape)


def _say_guessed(path: Path, shape: tuple[int, ...], axes: str) -> None:
    import warnings

    warnings.warn(
        f"{path}: its metadata name no axes; read as {axes}, guessed from its shape "
        f"{tuple(shape)} ({shape[-1]} channels last); if they are others, give them "
        "(axes= in Python, --axes on the command line)",
        UserWarning,
        stacklevel=4,
    )


def _say_planar_stack(path: Path, shape: tuple[int, ...]) -> None:
    import warnings

    n = shape[0]
    warnings.warn(
        f"{path}: its TIFF tags say {n} planes of colour (planar {'RGBA' if n == 4 else 'RGB'}"
        f"), as tifffile.imwrite writes any stack of {n} planes saved without axes; read as a "
        f"stack of {n} slices (ZYX); if it is one image of {n} colours or channels, give axes "
        "CYX, if frames of a time-lapse TYX (axes= in Python, --axes on the command line, "
        "the Axes box of the Segment panel)",
        UserWarning,
        stacklevel=4,
    )


def tifffile_planar_rgb(tif, series, drop: list[int] | None = None) -> bool:
    """Whether ``series`` of the open TIFF ``tif`` is 3 or 4 planes (the axes tifffile names
    S, Y, X) that tifffile wrote as planar RGB without axes (its Software tag or its shaped
    description, no ImageJ or OME metadata): what ``tifffile.imwrite(path, stack)`` writes for
    a stack of 3 or 4 planes, which nothing tells from a colour image written so. Planar RGB
    that other software wrote (an image editor's or a scanner's) is colour."""
    import tifffile

    if getattr(series, "kind", "") in ("imagej", "ome"):
        return False
    kept = "".join(a for i, a in enumerate(series.axes) if i not in (drop or []))
    page = series.keyframe
    if kept != "SYX" or int(page.samplesperpixel) not in (3, 4):
        return False
    if page.photometric != tifffile.PHOTOMETRIC.RGB:
        return False
    if page.planarconfig != tifffile.PLANARCONFIG.SEPARATE:
        return False
    return str(page.software or "").startswith("tifffile") or bool(tif.is_shaped)


#: metadata that name a file's axes (not tifffile's RGB tags, which only say the samples of
#: a pixel are colour: axes given against them are said, not refused)
_NAMING = ("ImageJ metadata", "OME metadata", "TIFF description")


def _given_axes(
    path: Path, axes: str, ndim: int, stated: str | None, stated_by: str, ignore: bool = False
) -> str:
    """``axes`` given for a file, upper-cased: one letter of TZCYX per dimension in the order
    the file stores them. Letters its metadata put elsewhere (CZYX given for an ImageJ
    ZCYX hyperstack) are refused naming both, never read as a silent transposition; a
    relabelling (its Z taken as T) is :func:`~tessella.engine.io.read_image`'s warning, and so
    is a reordering where ``ignore`` (metadata known to be wrong)."""
    if not isinstance(axes, str):
        raise ValueError(f"{path}: axes must be text such as 'YX', got {axes!r}")
    axes = axes.upper()
    if len(axes) != ndim:
        raise ValueError(f"{path}: axes {axes!r} name {len(axes)} axes but the array has {ndim}")
    if len(set(axes)) != len(axes) or set(axes) - set("TZCYX"):
        raise ValueError(
            f"{path}: axes {axes!r} must name each dimension once, with letters of TZCYX"
        )
    misplaced = misplaced_axes(axes, stated) if stated_by in _NAMING and not ignore else ""
    if misplaced:
        raise ValueError(misplaced_message(path, axes, misplaced, stated, stated_by))
    return axes


def misplaced_message(path, axes: str, misplaced: str, stated, stated_by: str) -> str:
    """The refusal of ``axes`` that put the letters ``misplaced`` where a file's metadata
    (``stated_by``, saying ``stated``) do not: how to read it by its metadata, and how to
    read it as given where the metadata are wrong."""
    return (
        f"{path}: axes {axes} put {', '.join(misplaced)} where its {stated_by} do not; they "
        f"say {stated}, the order the file stores its dimensions in: give axes in that order "
        f"(axes={stated!r} in Python, --axes {stated} on the command line), or, where its "
        f"metadata are wrong, read it as {axes} anyway (ignore_axes_metadata=True in Python, "
        "--ignore-axes-metadata on the command line)"
    )


def _one_channel(path: Path | None, data, axes: str, stated: str | None, channel: int):
    """``data`` of channel ``channel`` alone, without its C axis; an image without C has one
    channel (0). A channel it does not have is refused naming the file and its count."""
    count = data.shape[axes.index("C")] if "C" in axes else 1
    if isinstance(channel, bool) or not isinstance(channel, int | np.integer):
        raise ValueError(f"{path}: channel must be a whole number, got {channel!r}")
    if not 0 <= channel < count:
        raise ValueError(
            f"{path}: no channel {channel}: it has {count} channel{'s' if count > 1 else ''} "
            f"(0 to {count - 1})"
        )
    if "C" not in axes:
        return data, axes, stated
    at = axes.index("C")
    data = np.take(data, int(channel), axis=at)
    if stated is not None:
        stated = stated[:at] + stated[at + 1 :]
    return data, axes.replace("C", ""), stated


def _pick_series(path: Path, all_series, wanted: int | None, stacklevel: int = 4) -> int:
    """Which series of a TIFF to read: ``wanted``, else the first that is not a thumbnail (a
    series of the axes of another and under a quarter of its pixels); where there are
    several, a warning names the file, their count, and the one read (``stacklevel``: its
    :func:`warnings.warn`'s)."""
    count = len(all_series)
    if wanted is not None:
        if isinstance(wanted, bool) or not isinstance(wanted, int | np.integer):
            raise ValueError(f"{path}: series must be a whole number, got {wanted!r}")
        if not 0 <= wanted < count:
            raise ValueError(
                f"{path}: no series {wanted}: it holds {count} series (0 to {count - 1})"
            )
        return int(wanted)
    if count == 1:
        return 0

    def pixels(s) -> int:
        return int(np.prod(s.shape))

    def thumbnail(s) -> bool:
        return any(o.axes == s.axes and pixels(s) * 4 <= pixels(o) for o in all_series)

    index = next((i for i, s in enumerate(all_series) if not thumbnail(s)), 0)
    skipped = [i for i in range(index) if thumbnail(all_series[i])]
    chosen = all_series[index]
    said = (
        f" and skipped {', '.join(map(str, skipped))} (thumbnail{'s' if len(skipped) > 1 else ''})"
        if skipped
        else ""
    )
    import warnings

    warnings.warn(
        f"{path}: holds {count} series (images); read series {index} (shape "
        f"{tuple(chosen.shape)}, axes {chosen.axes}){said}; choose one with series=N in "
        "Python, --series N on the command line",
        UserWarning,
        stacklevel=stacklevel,
    )
    return index


def _unsupported_axes(path: Path, series, meta_axes: str, shape: tuple[int, ...]) -> str:
    """One line for a TIFF whose axes, as read from its metadata, Tessella does not read: what
    they were taken for, from what (a guess where tifffile knows nothing of an axis, Q or I,
    or took planes for planar RGB samples), and to give the axes (``axes=``, ``--axes``)."""
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
        pick = (
            "; choose one channel (channel= in Python, --channel on the command line)"
            if "C" in meta_axes and len(shape) == 5
            else ""
        )
        return (
            f"{path}: its shape {tuple(shape)} has {len(shape)} axes longer than 1"
            f"{letters}; Tessella reads 2 to 4 ({supported}){pick}"
        )
    hint = f", e.g. {guess_axes(shape)}" if guessed else ""
    taken = f"axes {meta_axes!r}" if "?" not in meta_axes else "its axes"
    return (
        f"{path}: {taken}, {source}{letters}, are not supported; give the axes its shape "
        f"{tuple(shape)} has in the order the file stores them (axes= in Python, --axes on "
        f"the command line): the letters of one of {supported}{hint}"
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
