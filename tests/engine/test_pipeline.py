import numpy as np
import pytest

from tessella.engine.pipeline import predict_steps, run_steps, segment, segment_steps
from tessella.engine.progress import Progress


def test_segment_steps_yields_progress_and_returns_labels(tiny_model_dir, nuclei_sample):
    image, _ = nuclei_sample
    steps = segment_steps(image, tiny_model_dir, "YX", tile=256)
    progress = []
    while True:
        try:
            progress.append(next(steps))
        except StopIteration as stop:
            result = stop.value
            break
    assert all(isinstance(p, Progress) for p in progress)
    predicts = [p for p in progress if p.stage == "predict"]
    assert predicts[-1].done == predicts[-1].total > 1
    assert result.labels.shape == image.shape and result.labels.dtype.kind in "iu"
    recipe = result.recipe()
    assert recipe["model"] == "tiny" and set(recipe["params"]) >= {"seed_thresh", "min_size"}


def test_time_lapse_is_segmented_frame_by_frame(tiny_model_dir, nuclei_sample):
    image, _ = nuclei_sample
    movie = np.stack([image[:256, :256], image[256:512, :256]])
    predictions = run_steps(predict_steps(movie, tiny_model_dir, "TYX"))
    assert len(predictions) == 2
    labels = segment(movie, tiny_model_dir, "TYX")
    assert labels.shape == movie.shape


def test_a_blank_frame_or_slice_gets_no_labels_and_stops_nothing(nuclei_sample, data_dir):
    """A blank frame of a movie (a camera's first frame) or a blank slice of an EM stack
    (padding) gives empty labels there; the other frames are segmented as on their own.
    A wholly blank image (an empty well) is 0 objects, warned of; it was refused."""
    image, _ = nuclei_sample
    movie = np.stack([np.zeros((256, 256), image.dtype), image[:256, :256], image[256:512, :256]])
    labels = segment(movie, "nuclei2d", "TYX", device="cpu")
    assert not labels[0].any() and labels[1].max() > 10
    alone = segment(movie[2], "nuclei2d", "YX", device="cpu")  # IDs go on after frame 1's
    np.testing.assert_array_equal(labels[2], np.where(alone > 0, alone + labels[1].max(), 0))
    with pytest.warns(UserWarning, match=r"image is constant \(every pixel is 0\): nothing"):
        blank = segment(np.zeros_like(movie), "nuclei2d", "TYX")
    assert blank.shape == movie.shape and not blank.any()

    import tifffile

    stack = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif")[:4, 256:512, :256]
    stack = stack.copy()
    stack[0] = stack[0].max()  # a padded slice: one value
    result = run_steps(segment_steps(stack, "em-mito2d", "ZYX", tta=False, device="cpu"))
    assert result.predictions[0].meta["blank_slices"] == [0]
    assert not result.labels[0].any() and result.labels[1:].any()


@pytest.mark.parametrize(
    "image,axes,message",
    [
        # (a constant image is 0 objects, warned of: test_blank_image_is_0_objects.py; one
        # constant at infinity is still refused)
        (np.full((64, 64), np.inf, np.float32), "YX", "4,096 infinite"),
        (np.full((64, 64), np.nan, np.float32), "YX", "NaN"),
        (np.zeros((4, 64, 64), np.uint8) + np.arange(64, dtype=np.uint8), "ZYX", "use axes TYX"),
        (np.zeros((64, 64), np.complex64), "YX", "unsupported pixel type"),
        (np.zeros((0, 64), np.uint8), "YX", "empty"),
    ],
)
def test_bad_images_give_one_line_errors(tiny_model_dir, image, axes, message):
    with pytest.raises(ValueError, match=message) as info:
        segment(image, tiny_model_dir, axes)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "image,options,message",
    [
        ("/data/nuclei.tif", {}, "not the path '/data/nuclei.tif': read the file"),
        ([[0, 1], [2, 3]], {}, "takes an array .* not list"),
        (None, {}, "not NoneType"),
        (np.zeros((64, 64), np.uint8), {"tta": "no"}, "tta must be True, False or None"),
        (np.zeros((64, 64), np.uint8), {"invert": 1}, "invert must be True"),
        (np.zeros((64, 64), np.uint8), {"axes": 2}, "axes must be a string"),
        (np.zeros((64, 64), np.uint8), {"model": 3}, "model must be a model name"),
        (np.zeros((64, 64), np.uint8), {"params": "seed_thresh=0.8"}, "params must be a dict"),
        (np.zeros((64, 64), np.uint8), {"spacing": "1,1"}, "spacing must be the voxel size"),
    ],
)
def test_the_python_api_says_what_it_takes(tiny_model_dir, image, options, message):
    options = {"model": tiny_model_dir, **options}
    with pytest.raises(TypeError, match=message) as info:
        segment(image, **options)
    assert "\n" not in str(info.value)


def test_a_torch_tensor_or_a_bad_tile_or_spacing_is_named(tiny_model_dir, nuclei_sample):
    import torch

    image = nuclei_sample[0]
    with pytest.raises(TypeError, match=r"not Tensor: pass tensor.cpu\(\).numpy\(\)"):
        segment(torch.from_numpy(image), tiny_model_dir)
    for tile in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="tile must be a positive number of pixels"):
            segment(image, tiny_model_dir, tile=tile)
    with pytest.raises(ValueError, match=r"gives 1 sizes but the image has 2 spatial axes \(YX\)"):
        segment(image, tiny_model_dir, spacing=(1,))
    with pytest.raises(ValueError, match="spacing must be positive"):
        segment(image, tiny_model_dir, spacing=(1, 0))


def test_params_as_a_dict_and_keywords_the_keywords_last(tiny_model_dir, nuclei_sample):
    image = nuclei_sample[0][:128, :128]
    strict = {"seed_thresh": 0.95, "min_size": 40}
    expected = run_steps(segment_steps(image, tiny_model_dir, "YX", params=strict)).labels
    got = segment(image, tiny_model_dir, params={"seed_thresh": 0.95, "min_size": 5}, min_size=40)
    assert np.array_equal(got, expected)


def test_python_and_cli_agree_on_an_anisotropic_volume(data_dir, tmp_path):
    """tessella.segment had no way to take the voxel size: on an EM stack with 0.05 um
    slices and 0.004 um pixels it found 10 objects where the CLI, reading the file's voxel
    size, found 25."""
    import tifffile

    from tessella.cli import main
    from tessella.engine.io import read_image

    root = data_dir / "em_membranes_isbi2012" / "images"
    stack = np.stack([tifffile.imread(root / f"0{i}.tif")[:160, :160] for i in range(3)])
    tifffile.imwrite(
        tmp_path / "em.tif",
        stack,
        imagej=True,
        resolution=(250.0, 250.0),
        metadata={"axes": "ZYX", "spacing": 0.05, "unit": "um"},
    )
    volume = read_image(tmp_path / "em.tif")
    spacing = [volume.pixel_size[a] for a in "ZYX"]
    assert spacing == pytest.approx([0.05, 0.004, 0.004])
    cli_args = ["segment", str(tmp_path / "em.tif"), "-o", str(tmp_path / "l.tif"), "-q"]
    assert main([*cli_args, "--model", "em-membranes2d"]) == 0
    from_cli = tifffile.imread(tmp_path / "l.tif")
    labels = segment(volume.data, "em-membranes2d", volume.axes, spacing=spacing)
    assert np.array_equal(labels, from_cli)
    # read_image's pixel_size as it is (a dict by axis) gives the same
    by_axis = segment(volume.data, "em-membranes2d", volume.axes, spacing=volume.pixel_size)
    assert np.array_equal(by_axis, from_cli)
    plain = segment(volume.data, "em-membranes2d", volume.axes)
    assert not np.array_equal(plain, from_cli)  # the voxel size matters here


def test_bad_parameter_fails_before_the_network_runs(tiny_model_dir, nuclei_sample):
    image, _ = nuclei_sample
    steps = segment_steps(image, tiny_model_dir, "YX", params={"seed_thresh": 2})
    with pytest.raises(ValueError, match="seed_thresh"):
        next(steps)


def test_a_corrupt_chunk_of_a_lazy_movie_is_one_error_naming_the_frame(
    tmp_path, tiny_model_dir, nuclei_sample
):
    """A zarr array decodes as it is indexed: the frame's read is inside the guard."""
    import zarr

    movie = np.stack([nuclei_sample[0][:64, :64]] * 2)
    array = zarr.create_array(str(tmp_path / "m.zarr"), shape=movie.shape, dtype=movie.dtype,
                              chunks=(1, 64, 64))  # fmt: skip
    array[...] = movie
    chunk = next(p for p in (tmp_path / "m.zarr").rglob("*") if p.is_file() and "1" in p.parts)
    chunk.write_bytes(b"not a chunk")
    with pytest.raises(ValueError, match="movie: cannot read frame 1"):
        run_steps(segment_steps(array, tiny_model_dir, "TYX", name="movie"))
