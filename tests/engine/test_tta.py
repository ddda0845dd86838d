import numpy as np
import pytest
from scipy import ndimage

from tessella.engine.tta import dihedral_transforms, invert_outputs, transform_image

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
