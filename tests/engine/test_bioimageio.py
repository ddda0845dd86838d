"""bioimage.io packages: export validates with bioimageio.spec; import reproduces the model."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import ModelError, load_model


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    from tessella.engine.bioimageio import export_bioimageio

    return export_bioimageio("nuclei2d", tmp_path_factory.mktemp("bio") / "nuclei2d.zip")


def test_the_package_validates_and_holds_our_card(package):
    from bioimageio.spec import load_description

    description = load_description(package)
    assert description.validation_summary.status == "valid-format"
    assert description.name == "nuclei2d"
    assert description.weights.pytorch_state_dict.architecture.callable == "BranchedUNet"
    with zipfile.ZipFile(package) as archive:
        card = json.loads(archive.read("card.json"))
        assert {"rdf.yaml", "weights.pt", "unet.py", "test_input.npy"} <= set(archive.namelist())
    assert card["sha256"] == load_model("nuclei2d").card.sha256
    # each output channel is named, the README says what it is, the sample output holds them all
    names = [str(c) for c in description.outputs[0].axes[1].channel_names]
    assert names == ["offset_y", "offset_x", "sigma_y", "sigma_x", "seed"]
    with zipfile.ZipFile(package) as archive:
        assert "sigmoid gives the seed map" in archive.read("README.md").decode()
        with archive.open("sample_output.tif") as sample:
            assert tifffile.imread(sample).shape[0] == 5


def test_a_model_that_finds_nothing_on_the_nuclei_sample_exports_with_a_test_image(
    data_dir, tmp_path
):
    """em-mito2d's output is negative everywhere on the shipped nuclei sample, which
    bioimage.io's reproducibility check cannot accept: one line asks for a test image, and a
    crop of EM data (a ZYX stack: its middle slice) makes a package that validates."""
    from bioimageio.spec import load_description

    from tessella.engine.bioimageio import export_bioimageio

    with pytest.raises(ValueError, match=r"negative everywhere.*--test-image"):
        export_bioimageio("em-mito2d", tmp_path / "no.zip")
    assert not list(tmp_path.iterdir())  # nothing half-written
    stack = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif", key=range(3))
    tifffile.imwrite(tmp_path / "em.tif", stack, imagej=True, metadata={"axes": "ZYX"})
    package = export_bioimageio("em-mito2d", tmp_path / "m.zip", test_image=tmp_path / "em.tif")
    description = load_description(package)
    assert description.validation_summary.status == "valid-format"
    assert [str(c) for c in description.outputs[0].axes[1].channel_names] == ["foreground"]
    with zipfile.ZipFile(package) as archive:
        archive.extract("test_input.npy", tmp_path)
    crop = np.load(tmp_path / "test_input.npy")[0, 0]
    assert crop.shape == (256, 256)
    assert np.array_equal(crop, stack[1, 256:512, 384:640])  # the middle slice's centre
    with pytest.raises(ValueError, match=r"em.tif: \(3, 768, 1024\) is too small"):
        export_bioimageio("em-mito3d", tmp_path / "m3.zip", test_image=tmp_path / "em.tif")
    cli = ["export-bioimageio", "em-mito2d", str(tmp_path / "cli.zip")]
    assert main(cli) == 1 and not (tmp_path / "cli.zip").exists()
    assert main([*cli, "--test-image", str(tmp_path / "em.tif")]) == 0
    assert load_description(tmp_path / "cli.zip").validation_summary.status == "valid-format"


def test_a_loaded_package_reproduces_the_original(package, nuclei_sample, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    image = nuclei_sample[0]
    original = run_steps(segment_steps(image, "nuclei2d", "YX"))
    imported = run_steps(segment_steps(image, str(package), "YX"))
    np.testing.assert_allclose(
        imported.predictions[0].arrays["seed"], original.predictions[0].arrays["seed"], atol=1e-5
    )
    assert np.array_equal(imported.labels, original.labels)
    assert imported.model.card.raw["imported_from"]["package"] == str(package)
    # the package's own test tensors: our network reproduces the recorded output
    import torch

    from tessella.engine.normalize import percentile_normalize

    with zipfile.ZipFile(package) as archive:
        archive.extractall(tmp_path / "unpacked")
    x = np.load(tmp_path / "unpacked" / "test_input.npy")
    expected = np.load(tmp_path / "unpacked" / "test_output.npy")
    with torch.inference_mode():
        y = imported.model.network.float()(
            torch.from_numpy(percentile_normalize(x[0], 1, 99.8)[None])
        )
    np.testing.assert_allclose(y.numpy(), expected, atol=1e-4)


def test_packages_of_other_architectures_are_refused(tmp_path):
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("rdf.yaml", "type: model\n")
    with pytest.raises(ModelError, match="not a Tessella bioimage.io package"):
        load_model(foreign)


def test_cli_exports_and_segments_with_the_package(tmp_path, nuclei_sample, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "model.zip"
    assert main(["export-bioimageio", "nuclei2d", str(out)]) == 0
    assert "validated" in capsys.readouterr().out
    assert main(["export-bioimageio", "nuclei2d", str(out)]) == 1  # no overwrite unasked
    assert "exists" in capsys.readouterr().err
    tifffile.imwrite(tmp_path / "img.tif", nuclei_sample[0])
    args = ["segment", str(tmp_path / "img.tif"), "-o", str(tmp_path / "l.tif")]
    assert main([*args, "--model", str(out), "-q"]) == 0
    assert tifffile.imread(tmp_path / "l.tif").max() > 50


def _rewritten(package, tmp_path, name, content: bytes):
    """A copy of ``package`` with one file replaced (its rdf.yaml left as exported)."""
    out = tmp_path / f"changed-{name}.zip"
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, content if item.filename == name else src.read(item.filename))
    return out


def test_a_changed_or_odd_package_is_refused_in_one_line(package, tmp_path, monkeypatch):
    """A file changed after export (its sha256 no longer what rdf.yaml records) is refused,
    as are a card that is not an object and weights that are not a state dict."""
    import io

    import torch

    from tessella.engine.bioimageio import import_bioimageio

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with zipfile.ZipFile(package) as archive:
        card = json.loads(archive.read("card.json"))
    tampered = _rewritten(
        package, tmp_path, "card.json", json.dumps({**card, "method": "boundary"}).encode()
    )
    with pytest.raises(ModelError, match="card.json does not match the sha256 in its rdf.yaml"):
        import_bioimageio(tampered)
    buffer = io.BytesIO()
    torch.save({k: v * 0 for k, v in load_model("nuclei2d").network.state_dict().items()}, buffer)
    zeroed = _rewritten(package, tmp_path, "weights.pt", buffer.getvalue())
    with pytest.raises(ModelError, match="weights.pt does not match the sha256"):
        import_bioimageio(zeroed)
    assert import_bioimageio(package).is_dir()  # the package as exported still loads


def test_a_recipe_of_a_package_model_names_the_package(
    package, nuclei_sample, tmp_path, monkeypatch
):
    """Recipes made outside the CLI (napari's Segment and Export, blockwise attributes)
    recorded only the package's cache folder: once it was gone, nothing said which package."""
    import hashlib
    import shutil

    from tessella.engine.registry import recipe_model

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(package.parent)
    image = nuclei_sample[0][:128, :128]
    result = run_steps(segment_steps(image, package.name, "YX"))  # a relative path, as typed
    recipe = result.recipe()
    assert recipe["model_package"] == str(package.resolve())
    assert recipe["model_package_sha256"] == hashlib.sha256(package.read_bytes()).hexdigest()
    shutil.rmtree(recipe["model_path"])  # the cache is cleared
    assert recipe_model(recipe) == str(package.resolve())
    again = run_steps(segment_steps(image, recipe_model(recipe), "YX"))
    assert np.array_equal(again.labels, result.labels)


def test_an_export_stopped_while_saving_leaves_no_partial_package(tmp_path, monkeypatch):
    import bioimageio.spec

    from tessella.engine.bioimageio import export_bioimageio

    real_save = bioimageio.spec.save_bioimageio_package

    def save_then_stop(descr, output_path, **kwargs):  # Ctrl-C (or SIGTERM) once it is written
        real_save(descr, output_path=output_path, **kwargs)
        assert output_path.exists()
        raise KeyboardInterrupt

    monkeypatch.setattr(bioimageio.spec, "save_bioimageio_package", save_then_stop)
    (tmp_path / "nuclei2d.zip").write_bytes(b"the previous package")
    with pytest.raises(KeyboardInterrupt):
        export_bioimageio("nuclei2d", tmp_path / "nuclei2d.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nuclei2d.zip"]
    assert (tmp_path / "nuclei2d.zip").read_bytes() == b"the previous package"
