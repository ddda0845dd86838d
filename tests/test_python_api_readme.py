"""README's "Python" section runs as written, on small crops of real data, so that the
examples cannot drift from the API (the training example is only checked to reach
``tessella.train`` and to segment with the folder it returns: no training here)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import tifffile

ROOT = Path(__file__).resolve().parents[1]


def python_section_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Python\n") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture
def readme_files(tmp_path, monkeypatch, nuclei_sample, data_dir):
    """The files README's examples read, as small crops of real images with pixel sizes."""
    image, truth = nuclei_sample
    um = {"unit": "um"}
    tifffile.imwrite(
        tmp_path / "nuclei.tif",
        image[:256, :256],
        imagej=True,
        resolution=(2.0, 2.0),
        metadata={"axes": "YX", **um},
    )
    tifffile.imwrite(tmp_path / "nuclei_truth.tif", truth[:256, :256].astype(np.uint16))
    isbi = data_dir / "em_membranes_isbi2012" / "images"
    stack = np.stack([tifffile.imread(isbi / f"0{i}.tif")[:128, :128] for i in range(3)])
    tifffile.imwrite(
        tmp_path / "em_stack.tif",
        stack,
        imagej=True,
        resolution=(250.0, 250.0),
        metadata={"axes": "ZYX", "spacing": 0.05, **um},
    )
    membranes = data_dir / "em_membranes_isbi2012" / "boundaries"  # 1 = membrane
    truth_stack = [tifffile.imread(membranes / f"0{i}.tif")[:128, :128] for i in range(3)]
    tifffile.imwrite(tmp_path / "em_truth.tif", np.stack(truth_stack), photometric="minisblack")
    sim = data_dir / "ctc_Fluo-N2DH-SIM+" / "01"
    frames = np.stack([tifffile.imread(sim / f"t00{t}.tif")[:128, :128] for t in range(3)])
    tifffile.imwrite(tmp_path / "movie.tif", frames, imagej=True, metadata={"axes": "TYX"})
    (tmp_path / "ctc" / "01").mkdir(parents=True)  # a folder of frames t038.tif ... t043.tif
    for t in range(38, 44):
        frame = tifffile.imread(sim / f"t{t:03d}.tif")[:96, :96]
        tifffile.imwrite(tmp_path / "ctc" / "01" / f"t{t:03d}.tif", frame)
    worms = data_dir / "worms_bbbc010"
    crop = (slice(130, 386), slice(220, 476))
    # BBBC010's brightfield image: in this copy the files in gfp/ (brightfield/ holds the GFP
    # channel, where worms2d finds 3 of the 11 worms)
    tifffile.imwrite(tmp_path / "well.tif", tifffile.imread(worms / "gfp" / "B15.tif")[crop])
    masks = tifffile.imread(worms / "worm_masks" / "B15.tif")[(slice(None), *crop)]
    tifffile.imwrite(tmp_path / "well_masks.tif", masks[masks.any(axis=(1, 2))])
    # "my_model": a model folder of one's own (a copy of nuclei2d under another name)
    from tessella.engine.registry import find_model

    shutil.copytree(find_model("nuclei2d"), tmp_path / "my_model")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_readme_python_examples_run(readme_files, monkeypatch, capsys):
    import tessella
    import tessella.engine.train as training

    blocks = python_section_blocks()
    assert len(blocks) >= 4 and any("tessella.train(" in block for block in blocks)
    trained = []

    def train(config):  # the fine-tune, as a copy of its base (no training here)
        from tessella.engine.registry import find_model

        trained.append(config)
        return Path(shutil.copytree(find_model(config.base), config.out))

    monkeypatch.setattr(training, "train", train)
    names: dict = {}
    for block in blocks:
        exec(compile(block, "README.md (Python)", "exec"), names)
    printed = capsys.readouterr().out
    # what the examples made is what they say
    written = tessella.read_image("nuclei_labels.tif")
    assert written.pixel_size == {"Y": 0.5, "X": 0.5} and written.data.max() > 10
    assert names["labels"].shape == (256, 256)  # the user model's, on the nuclei
    assert names["tracks"].shape == (3, 128, 128) and names["frames"].shape == (2, 128, 128)
    # a folder of frames, frames 40 and 41 of it, and their CTC files by their numbers
    assert names["sequence"].frame_numbers == list(range(38, 44))
    assert names["part"].labels.shape == (2, 96, 96) and names["part"].frame_numbers == [40, 41]
    assert sorted(p.name for p in (readme_files / "ctc" / "01_RES").iterdir()) == [
        "mask040.tif",
        "mask041.tif",
        "res_track.txt",
    ]
    masks = names["masks"]  # the worms crossing in this crop: pixels of two masks
    assert masks.ndim == 3 and (masks.sum(axis=0) > 1).any()
    # the worms found: 8 of the 11, AP(0.5) 0.73 when measured (3 and 0.0 on the GFP channel)
    assert 6 <= len(masks) <= 14, len(masks)
    worms = tessella.evaluate(names["worms"], masks, kind="overlapping")
    assert worms.scores["ap"]["0.5"] > 0.6, worms.scores["ap"]
    assert names["scored"].scores["ap"]["0.5"] > 0.5 and names["scored"].tp > 10
    # tessella.evaluate_paths on the files the examples wrote
    by_file = names["by_file"]
    assert by_file["images"][0]["name"] == "nuclei_truth.tif"
    assert by_file["ap"]["0.5"] > 0.5 and by_file["seg"] > 0.5 and by_file["n_images"] == 1
    assert names["done"].n_blocks == 4 and names["done"].n_objects > 10
    assert names["done"].resumed == 1  # the block done before the cancel (t5 finding 6)
    assert names["same"]  # tessella.replay of the recipe written (t5 finding 5)
    assert len(names["table"]["label"]) > 10 and "area_um2" in names["table"]
    assert names["blockwise_labels"].pixel_size == {"Y": 0.5, "X": 0.5}
    assert "seed_thresh 0.9 0.0 1.0" in printed and "postprocess: 1/1" in printed
    windows = re.findall(r"predict: (\d+)/(\d+)", printed)
    assert len(windows) > 2 and windows[-1][0] == windows[-1][1]
    assert (readme_files / "nuclei.recipe.json").is_file()
    (config,) = trained
    # into a folder of its own: "my_model", a model already, would be refused (review 2, F9)
    assert (config.method, config.data, config.out) == ("embedding", "my_data", "my_finetune")
    assert config.base == "nuclei2d" and config.epochs == 10
    assert config.command == (
        "tessella.train('embedding', data='my_data', out='my_finetune', base='nuclei2d', epochs=10)"
    )
    assert names["model"] == Path("my_finetune") and names["labels"].max() > 10
    # the sweep: the em result post-processed again for each beta, the last one kept
    em, tuned = names["em"], names["tuned"]
    assert tuned.recipe()["params"]["beta"] == 0.6 and tuned.predictions == em.predictions
    assert tuned.recipe()["spacing"] == em.recipe()["spacing"] == [0.05, 0.004, 0.004]
    swept = re.findall(r"^(0\.\d) (0\.\d+) SegmentResult\(model='em-membranes2d'", printed, re.M)
    assert [beta for beta, _vrand in swept] == ["0.3", "0.4", "0.5", "0.6"], printed
    assert all(0.5 < float(vrand) <= 1 for _beta, vrand in swept), swept
