"""A bioimage.io package's metadata lets a user outside Tessella cite and reproduce the model
(user test s28/t4 P8): ``cite`` holds the method papers and the training data by DOI (or the
paper's page), never a search link; the description says what the model is, on which data it
was trained and how it scored; the package README lists the post-processing parameters with
this model's defaults, and those values give the instances Tessella gives."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import pytest
import tifffile

import tessella
from tessella.engine.model_info import model_info


@pytest.fixture(scope="module")
def packages(tmp_path_factory, data_dir):
    from tessella.engine.bioimageio import export_bioimageio

    out = tmp_path_factory.mktemp("bio_meta")
    isbi = data_dir / "em_membranes_isbi2012" / "images" / "16.tif"
    return {
        "em-membranes2d": export_bioimageio(
            "em-membranes2d", out / "em-membranes2d.zip", test_image=isbi
        ),
        "nuclei2d": export_bioimageio("nuclei2d", out / "nuclei2d.zip"),
    }


#: DOIs each model's package must cite: its method papers and its training data's
EXPECTED_DOIS = {
    "em-membranes2d": {
        "10.7554/eLife.57613",  # Wolny et al. 2020 (PlantSeg)
        "10.1109/ICCV.2015.204",  # Keuper et al. 2015 (lifted multicut)
        "10.1371/journal.pbio.1000502",  # Cardona et al. 2010 (ISBI 2012 data)
        "10.3389/fnana.2015.00142",  # Arganda-Carreras et al. 2015 (ISBI 2012 challenge)
    },
    "nuclei2d": {
        "10.1016/j.media.2022.102523",  # Lalit et al. 2022 (EmbedSeg)
        "10.1038/s41592-019-0612-7",  # Caicedo et al. 2019 (DSB2018)
        "10.1038/nmeth.2083",  # Ljosa et al. 2012 (BBBC)
    },
}


@pytest.mark.parametrize("name", ["em-membranes2d", "nuclei2d"])
def test_cite_has_the_method_and_data_papers_by_doi(packages, name):
    from bioimageio.spec import load_description

    description = load_description(packages[name])
    assert description.validation_summary.status == "valid-format"
    dois = {str(entry.doi) for entry in description.cite if entry.doi}
    assert EXPECTED_DOIS[name] <= dois
    for entry in description.cite:
        assert entry.doi or entry.url
        assert "scholar.google" not in str(entry.url) and "?q=" not in str(entry.url)


@pytest.mark.parametrize("name", ["em-membranes2d", "nuclei2d"])
def test_the_description_says_method_data_and_validation_score(packages, name):
    from bioimageio.spec import load_description

    description = load_description(packages[name]).description
    card = model_info(name).card.raw
    assert "trained with tessella" not in description.lower()
    assert f"'{model_info(name).method}' method" in description
    scores = card["validation"]["scores"]
    headline = scores.get("vrand", scores.get("ap50"))
    assert re.search(rf" {headline}[,. ]", description)
    data = {"em-membranes2d": "ISBI 2012", "nuclei2d": "Data Science Bowl"}[name]
    assert data in description
    assert len(description) <= 512  # bioimage.io warns above 512 characters


@pytest.mark.parametrize("name", ["em-membranes2d", "nuclei2d"])
def test_the_readme_lists_every_post_processing_default_and_the_command(packages, name):
    info = model_info(name)
    with zipfile.ZipFile(packages[name]) as archive:
        readme = archive.read("README.md").decode()
    for spec in info.params:  # this model's default of each parameter of its method
        assert re.search(rf"\| `{spec.name}` \| {re.escape(str(spec.default))} \|", readme)
    assert f"`{info.method}` post-processing" in readme
    assert f"tessella segment IMAGE.tif -o LABELS.tif --model {name}.zip" in readme
    # the training data's citation is in the README's citation section, not only in a command
    data = info.card.raw["training"]["data_citation"]
    citation = readme[readme.index("## Citation") :]
    assert f"Training data: {data}" in citation


def test_the_readme_parameters_reproduce_tessellas_instances(
    packages, data_dir, monkeypatch, tmp_path
):
    """A consumer that passes the README's table to the post-processing gets the instances
    Tessella's bundled em-membranes2d gives on a real ISBI 2012 section."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with zipfile.ZipFile(packages["em-membranes2d"]) as archive:
        readme = archive.read("README.md").decode()
    listed = dict(re.findall(r"^\| `(\w+)` \| ([^|]+?) \|", readme, flags=re.M))
    assert {"boundary_thresh", "sigma_seeds", "alpha", "min_superpixel", "beta"} <= set(listed)
    assert listed["beta"] == "0.4" and listed["boundary_thresh"] == "0.6"
    image = tifffile.imread(data_dir / "em_membranes_isbi2012" / "images" / "17.tif")
    crop = image[:256, :256]
    bundled = tessella.segment(crop, "em-membranes2d", axes="YX")
    from_package = tessella.segment(crop, str(packages["em-membranes2d"]), axes="YX", params=listed)
    assert bundled.max() > 10
    assert np.array_equal(bundled, from_package)


def test_a_user_models_own_citations_are_cited_as_written(tmp_path, monkeypatch):
    """A model of one's own (nuclei2d's weights, a card as a user's training writes it): the
    DOI and URL its data citation gives are cited as written, each with its own part of the
    text; a method citation that links nothing cites the method's paper, not a search."""
    import json
    import shutil

    from bioimageio.spec import load_description

    from tessella.engine.bioimageio import export_bioimageio
    from tessella.engine.registry import bundled_dir

    folder = tmp_path / "models" / "mynuclei"
    shutil.copytree(bundled_dir() / "nuclei2d", folder)
    card = json.loads((folder / "card.json").read_text())
    card["name"] = "mynuclei"
    card["description"] = "nuclei model trained with tessella"
    card["citation"] = "Our lab's adaptation of a spatial-embedding network (unpublished)"
    card["training"]["data_citation"] = (
        "Lab nuclei 2025, doi:10.5281/zenodo.7654321; annotations at https://example.org/nuclei"
    )
    (folder / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    description = load_description(export_bioimageio(folder, tmp_path / "mine.zip"))
    assert description.validation_summary.status == "valid-format"
    cited = [(entry.text, str(entry.doi or ""), str(entry.url or "")) for entry in description.cite]
    assert cited[0][1] == "10.1016/j.media.2022.102523"  # EmbedSeg, the method's paper
    assert ("Lab nuclei 2025, doi:10.5281/zenodo.7654321", "10.5281/zenodo.7654321", "") in cited
    assert ("annotations at https://example.org/nuclei", "", "https://example.org/nuclei") in [
        (text, doi, url.rstrip("/")) for text, doi, url in cited
    ]
    assert not any("scholar.google" in url for _, _, url in cited)
    assert "trained with tessella" not in description.description
    assert "trained on Lab nuclei 2025" in description.description
