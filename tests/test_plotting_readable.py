"""Pictures stay readable at 5x7, 20x20 and 28x28 tiles and for 5,000 items: drawn with the Agg renderer,
no two texts overlap, titles lie inside their figures, the items' dots leave the decoded mosaic showing, label
colours sit on a grey U-matrix, a strip of examples fills its figure, and the plain scatter of codes has a
point per item and a colour per label.

Each test writes its picture with ``save_figure`` (run with ``--basetemp DIR`` to look at them).
"""

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from genval import Autoencoder, BitmapSet, build_space, load_dataset
from genval.audit._judging import judge
from genval.plotting import (
    plot_bitmaps,
    plot_denoising_curve,
    plot_latent,
    plot_latent_grid,
    plot_reconstructions,
    plot_som,
    plot_walk,
)

import _plotting_fixtures
from _plotting_fixtures import legend_texts, saved, scatter_sizes

_close_figures = _plotting_fixtures._close_figures  # the shared autouse fixture: closes every figure left open

# 5x7 emojis as drawn, and upscaled nearest-neighbour: 21x15 (about 20x20) and 28x20 (28 rows, as MNIST)
SCALES = {"5x7": 1, "20x20": 3, "28x28": 4}


def upscaled(bitmaps, factor: int) -> BitmapSet:
    h, w = bitmaps.shape
    X = bitmaps.X.reshape(-1, h, w).repeat(factor, axis=1).repeat(factor, axis=2)
    return BitmapSet(bitmaps.names, X.reshape(len(X), -1), (h * factor, w * factor), title="upscaled emojis")


def drawn_extents(fig, texts):
    """The window extents of ``texts`` once the figure is drawn with the Agg renderer."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in texts if not hasattr(t, "get_text") or t.get_text()]


def overlapping(boxes):
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


def inside_figure(fig, box) -> bool:
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.width + 0.5 and box.y1 <= fig.bbox.height + 0.5


class Located(SimpleNamespace):
    """The samples of a walk, as plot_walk reads them."""

    def __len__(self):
        return len(self.pixels)


def samples_of(bitmaps):
    """Six samples: three items and three noisy bitmaps that fail checks (long verdicts), judged."""
    rng = np.random.default_rng(0)
    X = np.vstack([bitmaps.X[:3], rng.random((3, bitmaps.n_features))])
    return X, judge(X, bitmaps)


@pytest.mark.parametrize("size", list(SCALES))
def test_sample_labels_and_verdicts_never_overlap(space, tmp_path, size):
    bitmaps = upscaled(space.bitmaps, SCALES[size])
    X, verdicts = samples_of(bitmaps)
    assert not verdicts.valid[3:].any()  # the noisy ones carry their failed checks under them
    labels = [f"{i}: {bitmaps.names[i]} (123)" for i in range(1, 7)]
    ax = plot_bitmaps(X, bitmaps.shape, labels, verdicts=verdicts, columns=3,
                      title="6 samples (box); label: nearest item (Hamming distance), verdict")
    fig = ax.figure
    boxes = drawn_extents(fig, ax.texts)
    assert len(boxes) == 12 and overlapping(boxes) == []
    assert all(inside_figure(fig, box) for box in boxes + drawn_extents(fig, [ax.title, ax.get_legend()]))
    saved(ax, tmp_path / f"samples_{size}.png")


@pytest.mark.parametrize("size", list(SCALES))
def test_one_decoded_tile_keeps_its_texts_and_legend_inside_the_figure(space, tmp_path, size):
    bitmaps = upscaled(space.bitmaps, SCALES[size])
    X, _ = samples_of(bitmaps)
    verdicts = judge(X[-1:], bitmaps)
    ax = plot_bitmaps(X[-1:], bitmaps.shape, ["(0, 0.5): :) (283)"], verdicts=verdicts,
                      title="decoded at (0, 0.5); label: nearest item (Hamming distance), verdict")
    fig = ax.figure
    boxes = drawn_extents(fig, ax.texts)
    assert len(boxes) == 2 and overlapping(boxes) == []
    assert all(inside_figure(fig, box) for box in boxes + drawn_extents(fig, [ax.title, ax.get_legend()]))
    saved(ax, tmp_path / f"decoded_{size}.png")


@pytest.mark.parametrize("size", list(SCALES))
def test_walk_labels_and_verdicts_never_overlap(space, tmp_path, size):
    bitmaps = upscaled(space.bitmaps, SCALES[size])
    X, verdicts = samples_of(bitmaps)
    n = len(X)
    walk = SimpleNamespace(t=np.linspace(0, 1, n), start=":)", stop=":(", kind="line", same_neuron=False,
                           located=Located(pixels=X, nearest=np.arange(n), hamming=np.full(n, 123)))
    ax = plot_walk(walk, bitmaps.shape, bitmaps.names, verdicts=verdicts)
    fig = ax.figure
    boxes = drawn_extents(fig, ax.texts)
    assert len(boxes) == 2 * n and overlapping(boxes) == []
    assert all(inside_figure(fig, box) for box in boxes + drawn_extents(fig, [ax.title]))
    saved(ax, tmp_path / f"walk_{size}.png")


def test_a_long_reconstruction_title_is_wrapped_inside_its_figure(space, tmp_path):
    bitmaps = upscaled(space.bitmaps, 3)
    title = "/work/scratch/some-long-folder-name/another-one/emojis20.npy"
    ax = plot_reconstructions(bitmaps.X, bitmaps.X * 0.9, bitmaps.shape, bitmaps.names, title=title)
    (box,) = drawn_extents(ax.figure, [ax.title])
    assert inside_figure(ax.figure, box)
    assert " ".join(ax.get_title().replace("/\n", "/").split()).startswith(f"{title}: all 17 items")
    saved(ax, tmp_path / "recon_20x20.png")


def test_many_codes_leave_the_decoded_mosaic_showing(tmp_path):
    size, shape = 4, (3, 3)
    xs, ys = np.linspace(-1, 1, size), np.linspace(1, -1, size)
    pixels = np.random.default_rng(0).random((size, size, 9))
    many = np.random.default_rng(1).normal(scale=0.5, size=(5000, 2))
    ax = plot_latent_grid(xs, ys, pixels, shape, codes=many)
    (dots,) = [c for c in ax.collections if len(c.get_offsets()) == 5000]
    # 2-point dots at opacity 0.3 at most: the tiles under 5,000 of them still show
    assert (dots.get_alpha() or 1.0) <= 0.3 and max(dots.get_sizes()) <= 4
    assert "5,000 items' codes" in ax.get_title()
    saved(ax, tmp_path / "grid_5000.png")
    few = plot_latent_grid(xs, ys, pixels, shape, codes=many[:17], names=[str(k) for k in range(17)])
    (dots,) = [c for c in few.collections if len(c.get_offsets()) == 17]
    assert dots.get_alpha() is None and dots.get_sizes()[0] == 30  # few items: big dots, named


@pytest.fixture(scope="module")
def digits_space():
    digits = load_dataset("digits", limit=300)
    return build_space(digits, Autoencoder(hidden=(16,), epochs=30, random_state=0).fit(digits.X), grid=(3, 3))


def test_label_colours_lie_on_a_grey_umatrix(digits_space, tmp_path):
    ax = plot_som(digits_space, resolution=40)
    cmap = ax.images[0].get_cmap()
    for value in (0.0, 0.5, 1.0):
        r, g, b, _ = cmap(value)
        assert r == g == b and r >= 0.45  # light to mid grey: no hue to hide a label's colour
    legend = legend_texts(ax)
    assert legend[0] == "neuron weights" and legend[1:] == [str(d) for d in range(10)]
    saved(ax, tmp_path / "som_digits.png")


def test_codes_scatter_has_a_point_per_item_and_a_colour_per_label(digits_space, tmp_path):
    labels = digits_space.bitmaps.labels
    ax = plot_latent(digits_space.codes, digits_space.bitmaps.names, labels=labels, title="300 digits")
    assert sum(scatter_sizes(ax)) == 300
    colours = [tuple(np.round(to_rgb(c.get_facecolor()[0]), 4)) for c in ax.collections]
    assert len(colours) == len(set(colours)) == 10
    for collection, label in zip(ax.collections, legend_texts(ax)):  # each label's points are its items
        assert len(collection.get_offsets()) == sum(str(v) == label for v in labels)
    assert legend_texts(ax) == [str(d) for d in range(10)]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z1", "z2") and ax.get_title() == "300 digits"
    saved(ax, tmp_path / "codes_digits.png")


def test_codes_scatter_lists_at_most_ten_labels_and_names_its_plane():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(120, 3))
    labels = [f"class {k % 12}" for k in range(120)]
    ax = plot_latent(Z, [str(k) for k in range(120)], labels=labels)
    legend = legend_texts(ax)
    assert len(legend) == 10 and legend[-1] == "other"
    assert sum(scatter_sizes(ax)) == 120
    assert ax.get_xlabel() == "principal axis 1 of the codes"


def test_the_denoising_strip_of_28x28_tiles_leaves_no_blank_band(space, tmp_path):
    from genval.experiments._denoise import denoise_report

    bitmaps = upscaled(space.bitmaps, 4)
    model = Autoencoder(hidden=(8,), epochs=2, random_state=0).fit(bitmaps.X)
    report = denoise_report(model, bitmaps, [0.1, 0.2, 0.3], trials=1)
    curve, strip = plot_denoising_curve(report, bitmaps.shape)
    fig = strip.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    used = sum(ax.get_tightbbox(renderer).height for ax in (curve, strip))
    assert used >= 0.85 * fig.bbox.height  # the two panels fill the figure's height
    saved(strip, tmp_path / "denoise_28x28.png")


def fake_audit(bitmaps, n_invalid: int = 3):
    """What plot_audit_sheet reads of an AuditReport: every item once as a valid copy, and ``n_invalid``
    noisy bitmaps, new, failing the first check."""
    rng = np.random.default_rng(0)
    n = len(bitmaps) + n_invalid
    passes = np.ones((n, 2), dtype=bool)
    passes[len(bitmaps):, 0] = False
    return SimpleNamespace(bitmaps=np.vstack([bitmaps.X, rng.random((n_invalid, bitmaps.n_features))]) > 0.5,
                           bitmap_index=np.arange(n), passes=passes, n_total=n, check_names=("ink", "parts"),
                           copy_of=np.r_[np.arange(len(bitmaps)), np.full(n_invalid, -1)])


@pytest.mark.parametrize("size", list(SCALES))
def test_contact_sheet_frames_lie_on_their_tiles_and_labels_clear_of_them(space, tmp_path, size):
    from genval.plotting import plot_audit_sheet

    bitmaps = upscaled(space.bitmaps, SCALES[size])
    valid, invalid = plot_audit_sheet(fake_audit(bitmaps), bitmaps.shape)
    fig = valid.figure
    for ax in (valid, invalid):
        canvas = np.ma.filled(ax.images[0].get_array(), np.nan)
        frames = [p for p in ax.patches if p.get_gid() in ("new", "copy")]
        for frame in frames:  # each frame's top-left pixel is a tile's, with the gap above it
            x, y = int(frame.get_x() + 0.5), int(frame.get_y() + 0.5)
            assert not np.isnan(canvas[y, x]) and np.isnan(canvas[y - 1, x])
        labels = drawn_extents(fig, ax.texts)
        boxes = labels + [frame.get_window_extent() for frame in frames]
        assert overlapping(labels) == [] and all(not label.overlaps(box) for label in labels for box in boxes
                                                 if box is not label)
    saved(valid, tmp_path / f"sheet_{size}.png")


def test_many_items_leave_the_audited_points_showing(digits_space, tmp_path):
    from genval.audit import audit
    from genval.plotting import plot_audit_plane

    report = audit(digits_space, "random", n=100, random_state=0)
    ax = plot_audit_plane(report, digits_space, resolution=40)
    items = [c for c in ax.collections if len(c.get_offsets()) == 300]
    assert items and all((c.get_alpha() or 1.0) <= 0.3 for c in items)  # 300 items: translucent dots
    saved(ax, tmp_path / "audit_plane_digits.png")
