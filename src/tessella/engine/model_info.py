"""What a model is and which post-processing parameters it takes, with their ranges: the
bundled and user models as ``tessella models`` lists them, and any model folder or package.

Reading a model's card loads no weights and no torch: listing is quick.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .params import ParamSpec, param_specs
from .registry import ModelCard, checked_card, list_models, shared_names

__all__ = ["ModelInfo", "model_info", "models"]


@dataclass(frozen=True)
class ModelInfo:
    """One model: its name, method, the axes of the images it segments and its parameters.

    ``params`` are the specs of its method's post-processing parameters (name, range, help)
    with ``default`` set to this model's default, which ``tessella.segment`` uses unless a
    keyword or ``params={...}`` sets another. ``tta`` and ``tile`` are its defaults for
    those options; ``origin`` is ``"bundled"`` or ``"user"`` (a listed user model folder), or
    ``"path"`` for a folder or package given by path; ``card`` is its whole model card.
    ``name_shared``: another model has its name, so the name alone is refused as ambiguous
    (give ``path``), as ``tessella models`` marks it (copies of one model do not count).
    """

    name: str
    method: str
    description: str
    axes: str
    channels: int
    params: tuple[ParamSpec, ...]
    tta: bool
    tile: int
    path: Path
    origin: str
    card: ModelCard
    name_shared: bool = False

    def param(self, name: str) -> ParamSpec:
        """The spec of parameter ``name`` (ValueError naming the known ones)."""
        for spec in self.params:
            if spec.name == name:
                return spec
        known = ", ".join(spec.name for spec in self.params)
        raise ValueError(f"model {self.name!r} has no parameter {name!r}; known: {known}")


def _info(card: ModelCard, path: Path, origin: str, name_shared: bool = False) -> ModelInfo:
    from .methods import get_method

    defaults: dict[str, Any] = card.defaults.get("params", {})
    specs = tuple(
        dataclasses.replace(spec, default=defaults[spec.name]) if spec.name in defaults else spec
        for spec in param_specs(get_method(card.method).Params)
    )
    return ModelInfo(
        name=card.name,
        method=card.method,
        description=str(card.raw.get("description", "")),
        axes=card.image_axes,
        channels=card.channels,
        params=specs,
        tta=bool(card.defaults.get("tta", False)),
        tile=int(card.defaults.get("tile", 1024)),
        path=path,
        origin=origin,
        card=card,
        name_shared=name_shared,
    )


def models() -> list[ModelInfo]:
    """The bundled and user models, as ``tessella models`` lists them.

    Examples
    --------
    >>> names = [info.name for info in models()]
    >>> "nuclei2d" in names and "worms2d" in names
    True
    """
    listed = list_models()
    shared = shared_names(listed)
    return [_info(card, path, origin, card.name in shared) for card, path, origin in listed]


def model_info(model: str | os.PathLike) -> ModelInfo:
    """The model named ``model`` (bundled first, then user), or the model folder or
    bioimage.io package (.zip exported by Tessella) at that path; its weights are not loaded.

    Raises
    ------
    tessella.engine.registry.ModelError
        (a ValueError) For an unknown name or a folder without a model card, naming the
        models there are.

    Examples
    --------
    >>> info = model_info("nuclei2d")
    >>> info.method, info.axes
    ('embedding', 'YX')
    >>> spec = info.param("seed_thresh")
    >>> spec.default, spec.low, spec.high  # nuclei2d's default, the range
    (0.9, 0.0, 1.0)
    """
    card, path = checked_card(model, verify=False)
    listed = list_models()
    origins = {p.resolve(): origin for _card, p, origin in listed}
    origin = origins.get(path.resolve(), "path")
    return _info(card, path, origin, origin != "path" and card.name in shared_names(listed))
