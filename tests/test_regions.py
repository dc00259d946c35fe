"""The plane's regions: a census of the bitmaps a 2-D decoder draws over a box, and a sampler by region.

Two fake decoders have regions known exactly: three rectangles (whose areas are the
cell counts), and dyadic stripes of widths 1/2, 1/4, 1/8, ... that a finer grid always
finds one more of, so that only ``max_side`` stops the census.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from test_structure import imports_of

import genval
from genval.latent import _regions as regions
from genval._utils.budget import MemoryBudgetError
from genval.errors import ParameterError
from genval.plotting._base import save_figure
from genval.plotting._decoded_plane import plot_regions
from genval.latent._regions import RegionCensus, region_census, sample_regions

A, B, C = [1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 1.0]


class Rectangles:
    """Over [-1, 1]^2: A where z1 < 0; B where z1 >= 0 and z2 > 0.5; C elsewhere (areas 1/2, 1/8, 3/8)."""

    def inverse_transform(self, Z):
        Z = np.asarray(Z, dtype=float)
        return np.where(Z[:, :1] < 0, A, np.where(Z[:, 1:2] > 0.5, B, C))


class Stripes:
    """Over [0, 1]^2: stripe k is 1 - 2**-k <= z1 < 1 - 2**-(k + 1) (width 2**-(k + 1)), bitmap k in binary.

    A grid of side 2**m hits stripes 0 to m - 1 and, with its last column, stripe m + 1: m + 1 bitmaps.
    """

    def inverse_transform(self, Z):
        k = np.floor(-np.log2(1 - np.asarray(Z, dtype=float)[:, 0])).astype(int)
        return ((np.minimum(k, 63)[:, None] >> np.arange(6)) & 1).astype(float)


def recount(model, census):
    """Each cell's bitmap by decoding its centre alone, and the cells per bitmap: a plain loop."""
    side, lo, hi = census.side, census.lo, census.hi
    found, counts = [], {}
    for row in range(side):
        for col in range(side):
            z = [lo[0] + (col + 0.5) * (hi[0] - lo[0]) / side, lo[1] + (row + 0.5) * (hi[1] - lo[1]) / side]
            bitmap = tuple(bool(v > 0.5) for v in model.inverse_transform(np.array([z]))[0])
            found.append(bitmap)
            counts[bitmap] = counts.get(bitmap, 0) + 1
    return found, counts


def region_of(census, points, model):
    """The region each point decodes to (-1 for a bitmap the census does not hold)."""
    decoded = np.asarray(model.inverse_transform(points)) > 0.5
    same = (decoded[:, None, :] == census.bitmaps[None, :, :]).all(axis=2)
    return np.where(same.any(axis=1), same.argmax(axis=1), -1)


@pytest.fixture(scope="module")
def rectangles():
    return region_census(Rectangles(), [-1, -1], [1, 1], start=2)


@pytest.fixture(scope="module")
def stripes():
    return region_census(Stripes(), [0, 0], [1, 1], start=4, max_side=32)


def test_rectangles_have_their_exact_areas_and_converge_once_a_doubling_finds_nothing_new(rectangles):
    # side 2 misses B (its centre z2 = 0.5 is not above 0.5), side 4 finds it, side 8 finds nothing new
    assert rectangles.history == ((2, 2), (4, 3), (8, 3))
    assert rectangles.converged and rectangles.side == 8 and rectangles.n_regions == 3
    assert rectangles.area.tolist() == [0.5, 0.375, 0.125]
    assert rectangles.bitmaps.tolist() == [[v > 0.5 for v in bitmap] for bitmap in (A, C, B)]
    assert rectangles.cells.dtype == np.int32 and rectangles.cells.shape == (64,)
    # row-major, row 0 at lo[1]: the bottom left is A, the bottom right C, the top right B
    assert rectangles.cells[[0, 7, 63]].tolist() == [0, 1, 2]


def test_stripes_grow_with_every_doubling_until_max_side_stops_them(stripes):
    assert stripes.history == ((4, 3), (8, 4), (16, 5), (32, 6))
    assert not stripes.converged and stripes.side == 32
    # stripes 0 to 4 by width, then stripe 6 in the last column (one column, as stripe 4; found after it)
    assert stripes.area.tolist() == [0.5, 0.25, 0.125, 0.0625, 1 / 32, 1 / 32]
    assert [int(b @ (1 << np.arange(6))) for b in stripes.bitmaps] == [0, 1, 2, 3, 4, 6]
    doc = stripes.to_dict()
    assert doc["converged"] is False and "not converged" in doc["note"] and "max_side" in doc["note"]


@pytest.mark.parametrize("fixture", ["rectangles", "stripes"])
def test_cells_and_areas_match_a_brute_force_recount(fixture, request):
    census = request.getfixturevalue(fixture)
    model = Rectangles() if fixture == "rectangles" else Stripes()
    found, counts = recount(model, census)
    assert [tuple(census.bitmaps[k]) for k in census.cells] == found
    assert {tuple(b): a for b, a in zip(census.bitmaps, census.area * census.side ** 2)} == counts
    assert census.area.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(census.area) <= 0)


def test_centres_are_the_region_cells_centres(rectangles):
    # B is the top two rows of the right half: z1 in {0.125, ..., 0.875}, z2 in {0.625, 0.875}
    centres = rectangles.centres(2)
    assert centres.tolist() == [[x, y] for y in (0.625, 0.875) for x in (0.125, 0.375, 0.625, 0.875)]
    assert (region_of(rectangles, centres, Rectangles()) == 2).all()
    with pytest.raises(ParameterError, match="region must be an index from 0 to 2, got 3"):
        rectangles.centres(3)


def test_chunks_and_progress_change_nothing_but_the_reports(stripes):
    calls = []
    chunked = region_census(Stripes(), [0, 0], [1, 1], start=4, max_side=32, chunk=7,
                            progress=lambda *args: calls.append(args))
    np.testing.assert_array_equal(chunked.cells, stripes.cells)
    np.testing.assert_array_equal(chunked.bitmaps, stripes.bitmaps)
    assert chunked.history == stripes.history
    assert [c for c in calls if c[1] == c[2]] == [(s, s * s, s * s) for s, _ in stripes.history]
    assert len(calls) == sum(-(-s * s // 7) for s, _ in stripes.history)


def test_to_dict_is_json_with_the_regions_largest_first(rectangles):
    doc = json.loads(json.dumps(rectangles.to_dict()))
    assert doc["side"] == 8 and doc["cells"] == 64 and doc["n_regions"] == 3 and doc["converged"] is True
    assert doc["lo"] == [-1.0, -1.0] and doc["hi"] == [1.0, 1.0] and doc["note"] is None
    assert doc["history"] == [{"side": 2, "distinct": 2}, {"side": 4, "distinct": 3}, {"side": 8, "distinct": 3}]
    assert doc["regions"] == [{"area": 0.5, "cells": 32, "bitmap": "1000"},
                              {"area": 0.375, "cells": 24, "bitmap": "0011"},
                              {"area": 0.125, "cells": 8, "bitmap": "0100"}]
    assert "share of the cells" in doc["definition"]


def test_sample_regions_spreads_points_evenly_and_each_decodes_to_its_region(stripes):
    points = sample_regions(stripes, 100, random_state=0)
    assert points.shape == (100, 2)
    region = region_of(stripes, points, Stripes())
    assert (region >= 0).all()
    per_region = np.bincount(region, minlength=6)
    assert sorted(per_region.tolist()) == [16, 16, 17, 17, 17, 17] and per_region.sum() == 100
    # random order, not region after region
    assert (np.diff(region) != 0).sum() > 50
    # every point is a cell centre
    offsets = (points - stripes.lo) / ((stripes.hi - stripes.lo) / stripes.side) - 0.5
    np.testing.assert_allclose(offsets, np.round(offsets), atol=1e-9)


def test_sample_regions_reaches_every_region_with_as_many_points_as_regions(stripes):
    # uniform draws put half the points in stripe 0; region by region, six points are six bitmaps
    for seed in range(5):
        assert sorted(region_of(stripes, sample_regions(stripes, 6, random_state=seed), Stripes())) == list(range(6))


def test_sample_regions_draws_which_regions_get_the_extra_point(rectangles):
    extra = set()
    for seed in range(20):
        counts = np.bincount(region_of(rectangles, sample_regions(rectangles, 4, random_state=seed), Rectangles()),
                             minlength=3)
        assert sorted(counts.tolist()) == [1, 1, 2]
        extra.add(int(np.argmax(counts)))
    assert extra == {0, 1, 2}


def test_sample_regions_same_seed_same_points(stripes):
    np.testing.assert_array_equal(sample_regions(stripes, 50, random_state=3),
                                  sample_regions(stripes, 50, random_state=3))
    assert not np.array_equal(sample_regions(stripes, 50, random_state=3), sample_regions(stripes, 50, random_state=4))
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    np.testing.assert_array_equal(sample_regions(stripes, 9, rng_a), sample_regions(stripes, 9, rng_b))


def test_a_real_decoder_s_points_decode_to_their_regions(space):
    lo, hi = space.box()
    census = region_census(space.model, lo, hi, start=16, max_side=64)
    assert census.area.sum() == pytest.approx(1.0, abs=1e-12)
    points = sample_regions(census, 3 * census.n_regions, random_state=0)
    region = region_of(census, points, space.model)
    assert np.bincount(region, minlength=census.n_regions).tolist() == [3] * census.n_regions


def test_a_wider_latent_space_is_refused():
    class Wide:
        def inverse_transform(self, Z):
            return np.zeros((len(Z), 4))

    with pytest.raises(ParameterError, match="regions need a 2-D model: the box has 3 latent dimensions"):
        region_census(Wide(), [0, 0, 0], [1, 1, 1])
    Wide.n_latent = 3  # a genval autoencoder says its width: a 2-D box does not hide a 3-D model
    with pytest.raises(ParameterError, match="regions need a 2-D model: this model's latent space has 3 dimensions"):
        region_census(Wide(), [0, 0], [1, 1])


@pytest.mark.parametrize("kwargs, message", [
    (dict(lo=[0, 0], hi=[1, 1, 1]), r"lo and hi must be two corners of the same length, got shapes \(2,\) and \(3,\)"),
    (dict(lo=[0, 1], hi=[1, 1]), r"lo < hi in both coordinates, got lo \[0.0, 1.0\] and hi \[1.0, 1.0\]"),
    (dict(start=0), "start must be an integer of at least 1, got 0"),
    (dict(start=8, max_side=4), "max_side must be an integer of at least 8, got 4"),
    (dict(chunk=0), "chunk must be an integer of at least 1, got 0"),
])
def test_bad_arguments_say_what_they_got(kwargs, message):
    args = dict(lo=[-1, -1], hi=[1, 1]) | kwargs
    with pytest.raises(ParameterError, match=message):
        region_census(Rectangles(), **args)


def test_a_model_must_decode_one_row_per_point():
    class Flat:
        def inverse_transform(self, Z):
            return np.zeros(len(Z))

    with pytest.raises(ParameterError,
                       match=r"returned an array of shape \(1,\) for 1 points; expected \(1, n_pixels\)"):
        region_census(Flat(), [0, 0], [1, 1])
    with pytest.raises(TypeError, match="must have an inverse_transform"):
        region_census(object(), [0, 0], [1, 1])


def test_sample_regions_errors(rectangles):
    with pytest.raises(ParameterError, match="n must be an integer of at least 1, got 0"):
        sample_regions(rectangles, 0)
    with pytest.raises(TypeError, match="census must be a RegionCensus"):
        sample_regions({"side": 8}, 5)


def test_a_census_beyond_the_memory_budget_is_refused_before_it_decodes(monkeypatch):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "64K")
    with pytest.raises(MemoryBudgetError, match="a census of 256x256 cells of 4-pixel bitmaps would need about"):
        region_census(Rectangles(), [-1, -1], [1, 1], start=256)


def test_plot_regions_tells_copies_from_new_regions(stripes, tmp_path):
    # stripes 0 and 1 play training items: grey; the other four are new
    training = stripes.bitmaps[[1, 0]]
    ax = plot_regions(stripes, training=training, names=["one", "zero"])
    assert isinstance(ax, plt.Axes)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["copy of a training item: 2 regions, 75.0% of the box", "new: 4 regions, 25.0% of the box"]
    assert "6 distinct decoded bitmaps" in ax.get_title() and "not converged" in ax.get_title()
    save_figure(ax, tmp_path / "regions.png")
    assert (tmp_path / "regions.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_regions_with_verdicts_and_codes_draws_into_given_axes(rectangles):
    _, given = plt.subplots()
    ax = plot_regions(rectangles, ax=given, training=rectangles.bitmaps[:1], valid=np.array([True, True, False]),
                      codes=np.array([[-0.5, 0.0]]), names=["A"])
    assert ax is given
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["copy of a training item: 1 region, 50.0% of the box",
                      "new, valid: 1 region, 37.5% of the box", "new, invalid: 1 region, 12.5% of the box"]
    assert [t.get_text() for t in ax.texts] == ["A"]
    plt.close("all")


def test_neighbouring_regions_get_different_colours(stripes):
    ax = plot_regions(stripes)
    rgb = ax.get_images()[0].get_array()[0, :, :3]  # the bottom row crosses every stripe
    changes = np.flatnonzero(np.diff(stripes.cells[:stripes.side]))
    assert all(not np.allclose(rgb[i], rgb[i + 1]) for i in changes)
    plt.close("all")


def test_census_is_a_frozen_value(rectangles):
    with pytest.raises(AttributeError):
        rectangles.side = 4
    assert isinstance(rectangles, RegionCensus)


def test_regions_reads_no_further_downstream_than_the_budget():
    # any model with inverse_transform will do: no estimators, walks, audits, cache or command line
    imports = imports_of(Path(regions.__file__), "genval")
    assert {m for m in imports if m.startswith("genval")} <= {
        "genval._utils.budget", "genval._utils.budget.check_allocation", "genval._utils.budget.chunk_rows", "genval._utils.budget.dedupe_rows",
        "genval._utils.files", "genval._utils.files.resolve_rng", "genval.errors", "genval.errors.ParameterError",
        "genval.models._protocol", "genval.models._protocol.LatentModel", "genval.models._protocol.latent_width"}  # the protocol: a leaf
    assert {"RegionCensus", "region_census", "sample_regions"} <= set(genval.__all__)
    assert genval.region_census is region_census
