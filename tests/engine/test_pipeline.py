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
    A wholly blank image is still refused."""
    image, _ = nuclei_sample
    movie = np.stack([np.zeros((256, 256), image.dtype), image[:256, :256], image[256:512, :256]])
    labels = segment(movie, "nuclei2d", "TYX", device="cpu")
    assert not labels[0].any() and labels[1].max() > 10
    np.testing.assert_array_equal(labels[2], segment(movie[2], "nuclei2d", "YX", device="cpu"))
    with pytest.raises(ValueError, match="constant"):
        segment(np.zeros_like(movie), "nuclei2d", "TYX")

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
        (np.full((64, 64), 7, np.uint8), "YX", "constant"),
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
    ],
)
def test_the_python_api_says_what_it_takes(tiny_model_dir, image, options, message):
    with pytest.raises(TypeError, match=message):
        segment(image, tiny_model_dir, **options)


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
