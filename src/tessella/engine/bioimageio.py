"""Models as bioimage.io packages: export (``tessella export-bioimageio``) and import (a
``.zip`` given as ``--model``).

The package is a bioimage.io model (format 0.5) that ``bioimageio.spec`` validates: PyTorch
state-dict weights with our U-Net source as the architecture, percentile normalisation as the
preprocessing, a test input and the network's raw output for it, documentation, citation, and
our model card as an attachment. Importing reads that card and the weights back (the weights
with ``torch.load(weights_only=True)``: tensors only, no code is unpickled); packages whose
architecture is not one of ours are refused. ``bioimageio.spec`` is needed to export only.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.parse
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


def _documentation(card) -> str:
    raw = card.raw
    lines = [f"# {card.name}", "", raw.get("description", ""), ""]
    if inverts(card):
        lines += ["## Input", "", INVERT_NOTE, ""]
    if card.method in CHANNEL_NOTE:
        lines += ["## Output", "", "The network's raw output, before activation: "]
        lines[-1] += CHANNEL_NOTE[card.method]
        lines += [""]
    validation = raw.get("validation")
    if validation:
        lines += ["## Validation (tessella evaluate)", "", "```", json.dumps(validation, indent=2)]
        lines += ["```", ""]
    training = raw.get("training", {})
    if training:
        lines += ["## Training", "", f"Data: {training.get('data', '')}", ""]
        lines += [f"Command: `{training.get('command', '')}`", ""]
    if card.training_warnings:  # a shared model says it was trained on doubtful data
        lines += ["### Warnings of its training data", ""]
        said = "The run that trained it warned of its data (`training.warnings` in card.json"
        if card.base_warnings:  # a fine-tune's: its bases' (`training.base_training`, nested)
            said += "; a line `base 'X': ...` is what the run that trained its base X warned of"
        lines += [said + "):"]
        lines += [""] + [f"- {line}" for line in card.training_warnings] + [""]
    lines += [
        "Made with Tessella. Post-processing (the instances) is Tessella's "
        f"`{card.method}` method; open the package with `tessella segment --model PACKAGE.zip`.",
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
        (tmp / "README.md").write_text(_documentation(card))
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
            citation = card.raw.get("citation") or "Tessella"
            descr = v0_5.ModelDescr(
                name=card.name,
                description=card.raw.get("description")
                or f"{card.method} model made with Tessella",
                authors=[v0_5.Author(name="Tessella developers")],
                cite=[  # the card cites by text; a search for it is the link that cannot be wrong
                    v0_5.CiteEntry(
                        text=citation,
                        url=v0_5.HttpUrl(
                            "https://scholar.google.com/scholar?q="
                            + urllib.parse.quote_plus(citation.split(";")[0][:200])
                        ),
                    )
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
