import numpy as np
import pytest
from scipy import ndimage

from tessella.engine.tta import (
    dihedral_transforms,
    inverse_spatial,
    invert_outputs,
    transform_image,
)

KINDS = {"vec": "vector", "sig": "axial", "smooth": "scalar"}


def _equivariant_net(image):
    """Outputs with known behaviour: a gradient (vector), its magnitudes (axial), a blur."""
    smooth = ndimage.gaussian_filter(image[0].astype(np.float64), 1.5)
    grad = np.stack(np.gradient(smooth))
    return {"vec": grad, "sig": np.abs(grad), "smooth": smooth[None]}


@pytest.mark.parametrize("ndim,count", [(2, 8), (3, 16)])
def test_group_sizes_and_identity_first(ndim, count):
    transforms = dihedral_transforms(ndim)
    assert len(transforms) == count == len(set(transforms))
    assert transforms[0].is_identity


@pytest.mark.parametrize("shape", [(37, 52), (9, 23, 31)])
def test_inverse_brings_vector_and_axial_outputs_back(shape):
    rng = np.random.default_rng(0)
    image = rng.normal(size=(1, *shape))
    reference = _equivariant_net(image)
    for transform in dihedral_transforms(len(shape)):
        outputs = _equivariant_net(transform_image(image, transform))
        back = invert_outputs(outputs, transform, KINDS)
        for name in KINDS:
            np.testing.assert_allclose(back[name], reference[name], atol=1e-10, err_msg=name)


def test_vectors_would_be_wrong_if_treated_as_scalars():
    image = np.random.default_rng(1).normal(size=(1, 20, 20))
    flip_x = next(
        t for t in dihedral_transforms(2) if t.perm == (0, 1) and t.flips == (False, True)
    )
    outputs = _equivariant_net(transform_image(image, flip_x))
    as_scalar = invert_outputs(outputs, flip_x, {"vec": "scalar"})["vec"]
    assert not np.allclose(as_scalar, _equivariant_net(image)["vec"])


def test_transforms_keep_z_in_3d():
    for transform in dihedral_transforms(3):
        assert transform.perm[0] == 0


class _PositionNet:
    """Not equivariant on purpose: channel 0 is the input, channel 1 is ``100 y + x`` whatever
    the input (a stand-in for a torch module in NetworkRunner)."""

    def __call__(self, x):
        import torch

        y, x_ = torch.meshgrid(
            torch.arange(x.shape[2], dtype=x.dtype),
            torch.arange(x.shape[3], dtype=x.dtype),
            indexing="ij",
        )
        return torch.cat([x, (100 * y + x_).expand(x.shape[0], 1, -1, -1)], dim=1)

    def parameters(self):
        import torch

        yield torch.zeros(1)


def test_stacked_outputs_keep_one_copy_per_transform_in_order():
    """A "stacked" output is brought back pixel by pixel but not averaged: copy k is what the
    network said about transform k's image, in dihedral_transforms order, across batches (a
    non-square window runs its transposes apart; max_batch 3 splits them further)."""
    from tessella.engine.device import ExecutionPlan
    from tessella.engine.inference import NetworkRunner

    image = np.random.default_rng(2).normal(size=(1, 6, 9)).astype(np.float32)
    runner = NetworkRunner(
        _PositionNet(),
        ExecutionPlan("cpu", None, False),
        lambda raw: {"mean": raw[:, :1], "each": raw[:, 1:]},
        {"mean": "scalar", "each": "stacked"},
        ndim=2,
        tta=True,
        max_batch=3,
    )
    out = runner(image)
    transforms = dihedral_transforms(2)
    assert out["each"].shape == (len(transforms), 6, 9)
    for k, transform in enumerate(transforms):
        height, width = transform_image(image, transform).shape[1:]
        y, x = np.mgrid[:height, :width].astype(np.float32)
        expected = inverse_spatial(100 * y + x, transform)
        np.testing.assert_array_equal(out["each"][k], expected, err_msg=str(transform))
    # the eight copies differ: none was averaged away or swapped
    assert len({out["each"][k].tobytes() for k in range(len(transforms))}) == len(transforms)
    # the scalar output is averaged as before: the input comes back unchanged
    np.testing.assert_allclose(out["mean"], image, atol=1e-6)
    plain = NetworkRunner(
        _PositionNet(),
        ExecutionPlan("cpu", None, False),
        lambda raw: {"each": raw[:, 1:]},
        {"each": "stacked"},
        ndim=2,
    )(image)
    assert plain["each"].shape == (1, 6, 9)
