"""How ``tessella segment --voxel-size`` reads a unit typed in another case (review s33/r10
#5). SI unit symbols are case-sensitive, but only some cases mean something else: ``NM``,
``UM`` (N and U are no SI prefixes) and the metre typed ``M`` (``nM``, ``µM``: no unit of
length; users type µM for µm) are read as nm and µm, while ``Mm`` and ``MM`` are megametres
(M is mega) and ``PM`` petametres: refused, naming what was read and the symbol to write.
Before, ``0.5µM`` was refused as no unit of length and ``4Mm`` silently read as 4 mm.
The engine's advice for a stack without Z spacing tells ``segment_blockwise`` callers to
give ``unit=`` too (without it the labels record the spacing in pixels). Real data: ISBI
2012 sections, em-membranes2d on the CPU."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.cli._console import CliError
from tessella.cli._segment import _parsed_voxel_size
from tessella.engine.blockwise import segment_blockwise, segment_blockwise_steps
from tessella.engine.io import read_image
from tessella.engine.pipeline import UnknownZSpacingWarning

OPTIONS = ["--model", "em-membranes2d", "--device", "cpu", "--no-tta", "-q"]


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("0.5µM,0.1µM", ([0.5, 0.1], "µm")),  # micro sign (before: refused)
        ("0.5μM,0.1μM", ([0.5, 0.1], "µm")),  # Greek mu (before: refused)
        ("0.5uM,0.1UM", ([0.5, 0.1], "µm")),
        ("50NM,4Nm,4nM", ([50.0, 4.0, 4.0], "nm")),
        ("0.05UM,4NM,4nm", ([50.0, 4.0, 4.0], "nm")),
        ("1mM,1mm", ([1.0, 1.0], "mm")),  # m is milli in either case of the metre
        ("50 Nanometres,4 NANOMETER,4 nm", ([50.0, 4.0, 4.0], "nm")),  # names: any case
        ("1 MICRONS,0.25 Micron", ([1.0, 0.25], "µm")),
        ("50nm,4nm,4nm", ([50.0, 4.0, 4.0], "nm")),
    ],
)
def test_case_insensitive_spellings_that_read_as_one_length_are_taken(given, read):
    assert _parsed_voxel_size(given) == read


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (  # before: 4 mm
            "50nm,4Mm,4nm",
            "--voxel-size: '4Mm' reads as 4 megametres (M is mega, m milli: unit symbols are "
            "case-sensitive); for millimetres write 4mm, got '50nm,4Mm,4nm'",
        ),
        ("0.5MM,1mm", "'0.5MM' reads as 0.5 megametres (M is mega, m milli"),  # before: mm
        ("4 Mm,4mm", "for millimetres write 4mm"),
        ("4PM,4pm", "'4PM' reads as 4 petametres (P is peta, p pico"),  # before: pm
        ("4km,4km", "'km' is not one of the units of length it takes; give nm, µm (um) or mm"),
        ("4µl,4µm", "'µl' is not a unit of length; give nm, µm (um) or mm"),
    ],
)
def test_a_symbol_whose_case_means_another_unit_is_refused_naming_what_to_write(given, said):
    with pytest.raises(CliError) as refused:
        _parsed_voxel_size(given)
    assert said in str(refused.value)


@pytest.fixture(scope="module")
def plain(data_dir, tmp_path_factory):
    """ISBI sections 10-11 cropped to 128², in a TIFF without a pixel size."""
    images = data_dir / "em_membranes_isbi2012" / "images"
    crop = np.stack([tifffile.imread(images / f"{i:02d}.tif")[:128, :128] for i in (10, 11)])
    path = tmp_path_factory.mktemp("spelling") / "plain.tif"
    tifffile.imwrite(path, crop, photometric="minisblack")
    return path


@pytest.fixture
def no_model(monkeypatch):
    """Loading a model fails the test: what is checked here is checked before any work."""
    import tessella.engine.registry as registry

    def refused(*_args, **_kwargs):
        raise AssertionError("a model was loaded")

    monkeypatch.setattr(registry, "load_model", refused)


def test_megametres_are_refused_in_one_line_before_any_work(plain, tmp_path, capsys, no_model):
    out = tmp_path / "labels.tif"
    args = ["segment", str(plain), "-o", str(out), *OPTIONS, "--voxel-size", "50nm,4Mm,4nm"]
    assert main(args) == 1  # (before: segmented as 4 mm)
    err = capsys.readouterr().err.strip()
    assert "'4Mm' reads as 4 megametres" in err and "write 4mm" in err
    assert len(err.splitlines()) == 1, err
    assert not out.exists()


def test_a_voxel_size_in_micromolar_spelling_segments_as_in_nm(plain, tmp_path, capsys):
    """``0.05µM,4NM,4nm`` gives the labels, pixel size, unit and recipe of ``50nm,4nm,4nm``."""
    runs = {}
    for name, given in (("nm", "50nm,4nm,4nm"), ("typed", "0.05µM,4NM,4nm")):
        out = tmp_path / f"{name}.tif"
        assert main(["segment", str(plain), "-o", str(out), *OPTIONS, "--voxel-size", given]) == 0
        assert "warning" not in capsys.readouterr().err
        runs[name] = out
    labels = tifffile.imread(runs["typed"])
    assert labels.max() > 5
    np.testing.assert_array_equal(labels, tifffile.imread(runs["nm"]))
    written = read_image(runs["typed"])
    assert written.unit == "nm"
    assert written.pixel_size == pytest.approx({"Z": 50.0, "Y": 4.0, "X": 4.0})
    recipe = json.loads((tmp_path / "typed.recipe.json").read_text())
    assert recipe["unit"] == "nm" and recipe["voxel_size"] == [50.0, 4.0, 4.0]


def test_blockwise_advice_names_the_unit_and_following_it_records_nm(plain, tmp_path):
    stack = tifffile.imread(plain)[:, :64, :64]
    model = dict(model="em-membranes2d", tta=False, device="cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = segment_blockwise_steps(stack, tmp_path / "plain.zarr", **model)
        next(steps)  # (warned before the network)
        steps.close()
    [line] = [str(w.message) for w in caught if w.category is UnknownZSpacingWarning]
    assert "spacing=(50, 4, 4)" in line and 'segment_blockwise: also unit="nm"' in line
    # without the unit the labels say pixels; with it (the advice), nm
    segment_blockwise(stack, tmp_path / "spaced.zarr", spacing=(50, 4, 4), **model)
    assert read_image(tmp_path / "spaced.zarr").unit == "pixel"
    segment_blockwise(stack, tmp_path / "nm.zarr", spacing=(50, 4, 4), unit="nm", **model)
    read = read_image(tmp_path / "nm.zarr")
    assert read.unit == "nm" and read.pixel_size == pytest.approx({"Z": 50, "Y": 4, "X": 4})
    recipe = zarr.open(str(tmp_path / "nm.zarr"), mode="r").attrs["tessella"]
    assert recipe["unit"] == "nm" and recipe["spacing"] == [50, 4, 4]
