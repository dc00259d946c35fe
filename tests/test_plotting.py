"""Every plotting function draws into the axes it is given, makes its own when given none,
and draws what it says: one tile, label, point or line per item.

Each test writes its picture with ``save_figure`` (run with ``--basetemp DIR`` to look at them).
"""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PathCollection

from genval.audit._audit import audit
from genval.errors import ParameterError
from genval.plotting import (
    plot_audit_plane,
    plot_audit_sheet,
    plot_bitmaps,
    plot_comparison,
    plot_denoising,
    plot_denoising_curve,
    plot_latent,
    plot_latent_grid,
    plot_loss_curve,
    plot_reconstructions,
    plot_roc,
    plot_som,
    plot_som_grid,
    plot_walk,
    save_figure,
    tile_classes,
    verdict_text,
)
from genval.latent import latent_grid, walk

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def report(space):
    return audit(space, "random", n=600, random_state=0)


def saved(ax_or_fig, path):
    """Write the figure as the CLI does; check it is a PNG and that the figure was closed."""
    fig = getattr(np.ravel(ax_or_fig)[0], "figure", ax_or_fig)
    save_figure(ax_or_fig, path)
    assert path.read_bytes()[:8] == PNG
    assert not plt.fignum_exists(fig.number)


def given_axes():
    return plt.subplots()[1]


def texts(ax):
    return [t.get_text() for t in ax.texts]


def scatter_sizes(ax):
    return [len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)]


@pytest.mark.parametrize("draw", [
    lambda space, ax: plot_latent(space.codes, space.bitmaps.names, ax=ax),
    lambda space, ax: plot_bitmaps(space.bitmaps.X, space.bitmaps.shape, ax=ax),
    lambda space, ax: plot_som(space, ax=ax, resolution=40),
    lambda space, ax: plot_walk(walk(space, ":)", ":("), space.bitmaps.shape, space.bitmaps.names, ax=ax),
    lambda space, ax: plot_latent_grid(*latent_grid(space, size=4), space.bitmaps.shape, ax=ax),
    lambda space, ax: plot_loss_curve(space.model, ax=ax),
    lambda space, ax: plot_reconstructions(space.bitmaps.X, space.model.reconstruct(space.bitmaps.X),
                                           space.bitmaps.shape, ax=ax),
], ids=["latent", "bitmaps", "som", "walk", "latent_grid", "loss_curve", "reconstructions"])
def test_draws_into_the_given_axes_or_a_new_figure(space, draw):
    ax = given_axes()
    assert draw(space, ax) is ax
    before = plt.get_fignums()
    made = draw(space, None)
    assert made is not ax and made.figure.number not in before


def test_loss_curve(space, tmp_path):
    ax = plot_loss_curve(space.model)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), space.model.loss_curve_)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, len(space.model.loss_curve_) + 1))
    assert ax.get_yscale() == "log"
    assert ax.get_title() == f"training loss, {space.model.n_epochs_} epochs"
    saved(ax, tmp_path / "loss_curve.png")


def test_latent_labels_every_item(space, tmp_path):
    ax = plot_latent(space.codes, space.bitmaps.names)
    assert scatter_sizes(ax) == [17]
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), space.codes)
    assert texts(ax) == list(space.bitmaps.names)
    saved(ax, tmp_path / "latent.png")


def test_bitmaps_tile_every_item_with_its_label(space, tmp_path):
    emojis = space.bitmaps
    ax = plot_bitmaps(emojis.X, emojis.shape, emojis.names, columns=6, title="the emojis")
    (image,) = ax.images
    canvas = image.get_array()
    assert canvas.shape == (3 * 8 + 1, 6 * 6 + 1)  # 3 rows of 6 tiles, 7x5 each, 1-pixel gaps
    for k in range(len(emojis)):
        r, c = divmod(k, 6)
        np.testing.assert_array_equal(canvas[1 + 8 * r:8 + 8 * r, 1 + 6 * c:6 + 6 * c], emojis.image(k))
    assert np.ma.getmaskarray(canvas)[17:24, 31:36].all()  # the 18th tile is empty (masked NaN)
    assert texts(ax) == list(emojis.names)
    assert ax.get_title() == "the emojis"
    saved(ax, tmp_path / "bitmaps.png")


@pytest.mark.parametrize("background", ["umatrix", "cells"])
def test_som_draws_neurons_edges_items_and_cells(space, tmp_path, background):
    ax = plot_som(space, background=background, resolution=60)
    (image,) = ax.images
    assert image.get_array().shape == (60, 60)
    assert sorted(scatter_sizes(ax)) == [9, 17]  # neuron weights, items
    (edges,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(edges.get_segments()) == 12  # the 3x3 grid's edges
    assert texts(ax) == [str(k) for k in range(1, 10)] + list(space.bitmaps.names)
    assert len(ax.figure.axes) == (2 if background == "umatrix" else 1)  # the U-matrix colour bar
    assert ax.get_title().startswith("3x3 rectangular map over 17 emojis codes")
    saved(ax, tmp_path / f"som_{background}.png")
    with pytest.raises(ValueError, match="unknown background 'plain'; choose umatrix or cells"):
        plot_som(space, background="plain")


def test_walk_labels_every_step(space, tmp_path):
    w = walk(space, ":)", ":(", steps=7)
    ax = plot_walk(w, space.bitmaps.shape, space.bitmaps.names)
    labels = texts(ax)
    assert len(labels) == 7 and labels[0] == "t=0.00\n:) (0)" and labels[-1].startswith("t=1.00\n")
    assert ax.images[0].get_array().shape == (1 * 8 + 1, 7 * 6 + 1)
    assert ax.get_title() == (":) to :( along the straight line (different neurons)\n"
                              "under each: t, nearest item (Hamming distance)")
    saved(ax, tmp_path / "walk.png")


def test_latent_grid_tiles_every_point_and_names_the_items(space, tmp_path):
    xs, ys, pixels = latent_grid(space, size=6)
    ax = plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, space.codes, space.bitmaps.names)
    canvas = ax.images[0].get_array()
    assert canvas.shape == (6 * 8 + 1, 6 * 6 + 1)
    np.testing.assert_allclose(canvas[1:8, 1:6], pixels[0, 0].reshape(7, 5))  # the top-left point
    np.testing.assert_allclose(canvas[-8:-1, -6:-1], pixels[-1, -1].reshape(7, 5))
    assert np.ma.getmaskarray(canvas)[0].all() and np.ma.getmaskarray(canvas)[:, 6].all()  # gaps
    assert scatter_sizes(ax) == [17] and texts(ax) == list(space.bitmaps.names)
    saved(ax, tmp_path / "latent_grid.png")


def test_audit_sheet_shows_valid_and_invalid_panels(space, report, tmp_path):
    axes = plot_audit_sheet(report, space.bitmaps.shape, per_panel=12)
    assert axes.shape == (2,)
    counts = report.counts()
    valid, invalid = axes
    assert valid.get_title().startswith(f"valid: {counts['valid']} of 600 samples")
    assert invalid.get_title().startswith(f"invalid: {600 - counts['valid']} of 600 samples")
    for ax in axes:
        labels = texts(ax)
        assert 0 < len(labels) <= 12
        assert sum(int(label.split()[0][1:]) for label in labels) <= 600
    assert all(len(label.split()) == 2 for label in texts(invalid))  # samples and the failed check
    given = plt.subplots(2, 1)[1]
    assert list(plot_audit_sheet(report, space.bitmaps.shape, axes=given)) == list(given)
    saved(axes, tmp_path / "audit_sheet.png")


def test_audit_plane_plots_every_sampled_point(space, report, tmp_path):
    ax = plot_audit_plane(report, space, max_points=300, resolution=40)
    copies, new_valid, new_invalid, neurons, items = scatter_sizes(ax)
    assert copies + new_valid + new_invalid == 300  # every second point of 600
    assert copies == int((~report.novel[::2]).sum())
    assert new_valid == int((report.valid & report.novel)[::2].sum())
    assert (neurons, items) == (9, 17)
    assert texts(ax) == list(space.bitmaps.names)
    ax2 = given_axes()
    assert plot_audit_plane(report, space, ax=ax2, resolution=20) is ax2
    saved(ax, tmp_path / "audit_plane.png")


def test_denoising_rows_per_level(space, tmp_path):
    rng = np.random.default_rng(0)
    clean = space.bitmaps.X[:6]
    levels = [0.05, 0.2]
    noisy = [np.where(rng.random(clean.shape) < p, 1 - clean, clean) for p in levels]
    restored = [space.model.reconstruct(x) for x in noisy]
    axes = plot_denoising(clean, noisy, restored, space.bitmaps.shape, levels, names=space.bitmaps.names[:6])
    assert axes.shape == (6,)
    assert [ax.get_title(loc="left") for ax in axes] == [
        "clean", "noisy, p = 0.05 (label: pixels off)", "restored",
        "clean", "noisy, p = 0.2 (label: pixels off)", "restored"]
    assert texts(axes[0]) == list(space.bitmaps.names[:6])
    flips = (noisy[1] != clean).sum(axis=1)
    assert texts(axes[4]) == [f"{f} off" for f in flips]
    right = ((restored[1] > 0.5) == (clean > 0.5)).all(axis=1)
    assert texts(axes[5]) == ["ok" if r else "wrong" for r in right]
    given = plt.subplots(6, 1)[1]
    assert list(plot_denoising(clean, noisy, restored, space.bitmaps.shape, levels, axes=given)) == list(given)
    saved(axes, tmp_path / "denoising.png")


def test_save_figure_takes_axes_arrays_or_figures(tmp_path):
    fig, axes = plt.subplots(1, 2)
    saved(fig, tmp_path / "figure.png")
    fig, axes = plt.subplots(1, 2)
    saved(axes, tmp_path / "axes.png")
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temporary left behind


def _sweep_summary():
    """A summary like genval.experiments.summarize's: two settings (one a pair of keys), two seeds, one bad run."""
    axes = (("hidden", "n_latent"), ("learning_rate",))
    summary = []
    for hidden, n_latent in (("8", "2"), ("6-4", "3")):
        for rate in ("0.01", "0.1"):
            wrong, loss = [3.0, 5.0], [0.2, 0.4]
            bad = rate == "0.1" and hidden == "8"
            summary.append({"settings": {"hidden": hidden, "n_latent": n_latent, "learning_rate": rate},
                            "axes": axes, "runs": 2, "ok": 1 if bad else 2, "diverged": int(bad), "failed": 0,
                            "values": {"wrong_pixels": wrong[:1] if bad else wrong,
                                       "final_loss": loss[:1] if bad else loss},
                            "wrong_pixels": (3.0, 0.0) if bad else (4.0, 1.4), "final_loss": (0.2, 0.0) if bad
                            else (0.3, 0.14)})
    return summary


def test_plot_sweep_draws_a_panel_per_setting_and_metric(tmp_path):
    from genval.plotting import plot_sweep

    axes = plot_sweep(_sweep_summary(), "tiny")
    assert axes.shape == (2, 2)
    assert [ax.get_xlabel() for ax in axes[0]] == ["hidden + n_latent", "learning_rate"]
    assert [t.get_text() for t in axes[0, 0].get_xticklabels()] == ["8 2", "6-4 3"]
    assert [t.get_text() for t in axes[0, 1].get_xticklabels()] == ["0.01", "0.1"]
    assert axes[1, 0].get_yscale() == "log" and axes[0, 0].get_ylabel().startswith("wrong pixels")
    # a series per value of the other setting, its legend titled by it; the bad run counted in red
    assert [t.get_text() for t in axes[0, 0].get_legend().get_texts()] == ["0.01", "0.1"]
    assert [t.get_text() for t in axes[0, 0].texts] == ["1✗"]
    dots = [line for line in axes[0, 1].lines if line.get_marker() == "o"]
    assert sorted(y for line in dots for y in line.get_ydata()) == [3.0, 3.0, 3.0, 3.0, 5.0, 5.0, 5.0]  # a dot a run
    given = plt.subplots(1, 2, squeeze=False)[1]
    assert (plot_sweep(_sweep_summary(), metrics=("wrong_pixels",), axes=given) == given).all()
    saved(axes, tmp_path / "sweep.png")


def test_save_figure_writes_the_format_of_the_suffix(tmp_path):
    from genval.errors import ParameterError
    from genval.plotting import plot_sweep, save_figure

    for suffix, magic in (("png", PNG), ("pdf", b"%PDF"), ("svg", b"<?xml")):
        save_figure(plot_sweep(_sweep_summary()), tmp_path / f"sweep.{suffix}")
        assert (tmp_path / f"sweep.{suffix}").read_bytes().startswith(magic)
    with pytest.raises(ParameterError, match=r"sweep.gif: cannot write a figure as 'gif'; name it .png, .svg, .pdf"):
        save_figure(plot_sweep(_sweep_summary()), tmp_path / "sweep.gif")
    assert not (tmp_path / "sweep.gif").exists() and not list(tmp_path.glob(".*.tmp"))


def test_loss_curve_with_a_held_out_set(tmp_path):
    from genval import Autoencoder, load_dataset

    model = Autoencoder(epochs=40, validation_fraction=0.25).fit(load_dataset("font").X)
    ax = plot_loss_curve(model)
    training, held_out = ax.get_lines()
    np.testing.assert_array_equal(held_out.get_ydata(), model.validation_loss_curve_)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation (held out)"]
    assert ax.get_title() == "training and validation loss, 40 epochs"
    saved(ax, tmp_path / "loss_validation.png")


def test_many_labelled_items_are_coloured_by_label_and_not_named(tmp_path):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(120, 2))
    labels = [str(k % 3) for k in range(120)]
    ax = plot_latent(Z, [f"item {k}" for k in range(120)], labels=labels)
    assert texts(ax) == [] and scatter_sizes(ax) == [40, 40, 40]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0", "1", "2"]
    np.testing.assert_array_equal(ax.collections[1].get_offsets(), Z[1::3])
    saved(ax, tmp_path / "labelled.png")


def test_codes_wider_than_two_are_drawn_on_their_principal_plane(tmp_path):
    from genval import Autoencoder, LatentSOM, LatentSpace, load_dataset
    from genval.latent import plane

    rng = np.random.default_rng(1)
    Z = rng.normal(size=(30, 4)) * [3.0, 1.0, 0.1, 0.1]
    origin, axes = plane(Z)
    np.testing.assert_allclose(axes @ axes.T, np.eye(2), atol=1e-12)
    ax = plot_latent(Z, [str(k) for k in range(30)])
    P = ax.collections[0].get_offsets()
    np.testing.assert_allclose(P, (Z - Z.mean(axis=0)) @ axes.T)
    assert np.var(P[:, 0]) > np.var(P[:, 1]) > 0.5  # the two widest directions
    assert ax.get_xlabel() == "principal axis 1 of the codes"
    emojis = load_dataset("emojis")
    space = LatentSpace.build(emojis, Autoencoder(n_latent=3, epochs=500).fit(emojis.X), LatentSOM(grid=(2, 2)))
    ax = plot_som(space, resolution=30)
    assert "3-D codes' principal plane" in ax.get_title() and len(texts(ax)) == 4 + 17
    saved(ax, tmp_path / "som_3d.png")


# --- verdicts on the pictures, and the figures of the audit, the map and denoising ---------------

def verdict_frames(ax):
    return [p for p in ax.patches if p.get_gid() == "verdict"]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_walk_marks_every_sample_with_its_verdict(space, tmp_path):
    from matplotlib.colors import to_hex

    from genval.audit._judging import judge

    w = walk(space, ":)", ":(", steps=7)
    verdicts = judge(w.located.pixels, space.bitmaps)
    ax = plot_walk(w, space.bitmaps.shape, space.bitmaps.names, verdicts=verdicts)
    frames = verdict_frames(ax)
    assert len(frames) == 7
    assert [to_hex(f.get_edgecolor()) for f in frames] == [
        "#0072b2" if ok else "#d55e00" for ok in verdicts.valid]
    marks = texts(ax)[7:]
    assert marks[0] == "✓ = :)" and marks[-1] == "✓ = :("  # the ends are the items themselves
    assert marks == [verdict_text(verdicts, i) for i in range(7)]
    n_valid = int(verdicts.valid.sum())
    assert legend_texts(ax) == [f"✓ valid: {n_valid} of 7 ({int((verdicts.valid & verdicts.novel).sum())} new)",
                                f"✗ invalid: {7 - n_valid} (failed checks named)"]
    assert ax.get_title().endswith("nearest item (Hamming distance), verdict")
    saved(ax, tmp_path / "walk_verdicts.png")


def test_verdict_text_says_valid_or_the_failed_checks_and_new_or_which_copy(space):
    from genval.audit._judging import judge

    blank = np.zeros((1, 35))
    verdicts = judge(np.vstack([space.bitmaps.X[[2]], blank]), space.bitmaps)
    assert [verdict_text(verdicts, i) for i in range(2)] == ["✓ = :(", "✗ eyes+mouth, new"]
    assert tile_classes(verdicts).tolist() == ["copy", "invalid"]


def test_sample_tiles_carry_a_frame_and_a_verdict_each(space, tmp_path):
    from genval.audit._judging import judge

    rng = np.random.default_rng(0)
    X = np.vstack([space.bitmaps.X[:3], rng.random((3, 35))])
    verdicts = judge(X, space.bitmaps)
    ax = plot_bitmaps(X, space.bitmaps.shape, [f"s{i}" for i in range(6)], columns=3, verdicts=verdicts)
    assert len(verdict_frames(ax)) == 6
    assert texts(ax) == [f"s{i}" for i in range(6)] + [verdict_text(verdicts, i) for i in range(6)]
    canvas = ax.images[0].get_array()
    row_step = canvas.shape[0] // 2
    np.testing.assert_array_equal(canvas[1 + row_step:8 + row_step, 1:6], X[3].reshape(7, 5))  # second row
    with pytest.raises(ValueError, match="got 6 verdicts for 2 bitmaps"):
        plot_bitmaps(X[:2], space.bitmaps.shape, verdicts=verdicts)
    saved(ax, tmp_path / "sample_verdicts.png")


def test_latent_grid_tints_each_tile_by_its_verdict(space, tmp_path):
    from matplotlib.colors import to_rgb

    from genval.audit._judging import judge
    from genval.plotting._decoded_plane import TILE_TINTS

    xs, ys, pixels = latent_grid(space, size=6)
    verdicts = judge(pixels.reshape(36, -1), space.bitmaps)
    classes = tile_classes(verdicts)
    assert set(classes) >= {"copy", "invalid"}  # the default box holds both on the emojis
    ax = plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, space.codes, space.bitmaps.names, verdicts=verdicts)
    rgb = ax.images[0].get_array()
    assert rgb.shape == (6 * 8 + 1, 6 * 6 + 1, 3)
    for k in range(36):
        r, c = divmod(k, 6)
        tile = rgb[1 + 8 * r:8 + 8 * r, 1 + 6 * c:6 + 6 * c]
        ink = pixels[r, c].reshape(7, 5)[..., None]
        np.testing.assert_allclose(tile, np.array(to_rgb(TILE_TINTS[classes[k]])) * (1 - ink), atol=1e-12)
    counts = {kind: int((classes == kind).sum()) for kind in TILE_TINTS}
    assert legend_texts(ax) == [f"new and valid: {counts['new valid']}",
                                f"valid copy of a training item: {counts['copy']}",
                                f"invalid (fails a check): {counts['invalid']}"]
    assert ax.get_legend().get_title().get_text() == "36 tiles"
    saved(ax, tmp_path / "latent_grid_verdicts.png")


def roc_curves():
    return {"map distance": {"fpr": np.array([0, 0.2, 1.0]), "tpr": np.array([0, 0.7, 1.0]), "auroc": 0.75,
                             "n_valid": 312, "n_invalid": 1204},
            "occupied": {"fpr": np.array([0, 0.5, 1.0]), "tpr": np.array([0, 0.6, 1.0]), "auroc": 0.55,
                         "n_valid": 312, "n_invalid": 1204},
            "realism": {"fpr": np.array([]), "tpr": np.array([]), "auroc": None, "n_valid": 0, "n_invalid": 9}}


def test_roc_draws_a_line_per_score_and_the_chance_diagonal(tmp_path):
    ax = plot_roc(roc_curves(), title="ROC on new samples")
    lines = ax.get_lines()
    assert len(lines) == 4  # two curves, the empty entry of the score without an AUROC, chance
    np.testing.assert_array_equal(lines[0].get_xdata(), [0, 0.2, 1.0])
    np.testing.assert_array_equal(lines[1].get_ydata(), [0, 0.6, 1.0])
    assert len(lines[2].get_xdata()) == 0
    np.testing.assert_array_equal(lines[3].get_xdata(), [0, 1])
    assert lines[0].get_linestyle() != lines[1].get_linestyle() and lines[0].get_color() != lines[1].get_color()
    assert legend_texts(ax) == ["map distance: AUROC 0.750 (312 valid / 1,204 invalid)",
                                "occupied: AUROC 0.550 (312 valid / 1,204 invalid)",
                                "realism: AUROC n/a (0 valid / 9 invalid)", "chance"]
    assert ax.get_title() == "ROC on new samples" and ax.get_xlabel().startswith("false positive rate")
    given = given_axes()
    assert plot_roc(roc_curves(), ax=given) is given
    saved(ax, tmp_path / "roc.png")
    save_figure(plot_roc(roc_curves()), tmp_path / "roc.svg")
    assert (tmp_path / "roc.svg").read_text().lstrip().startswith("<?xml")


def comparison_rows():
    m = lambda value, interval=None: {"value": value, "interval": interval}  # noqa: E731
    return [{"label": "random", "copy_rate": m(0.7, [0.65, 0.74]), "new_validity": m(0.18, [0.1, 0.3]),
             "yield": m(40, [31, 52])},
            {"label": "prior", "copy_rate": m(0.5), "new_validity": m(0.31), "yield": m(61)},
            {"label": "copycat", "copy_rate": m(1.0), "new_validity": m(None), "yield": m(0)}]


def test_comparison_has_three_panels_with_bars_intervals_and_n_a(tmp_path):
    from matplotlib.patches import Rectangle

    axes = plot_comparison(comparison_rows(), title="emojis")
    assert axes.shape == (3,)
    assert [ax.get_title() for ax in axes] == ["copy rate", "new-sample validity", "yield"]
    bars = [[p for p in ax.patches if isinstance(p, Rectangle)] for ax in axes]
    assert [len(b) for b in bars] == [3, 2, 3]  # no bar where the value is None
    assert [b.get_width() for b in bars[0]] == [0.7, 0.5, 1.0]
    assert [b.get_width() for b in bars[2]] == [40, 61, 0]
    assert [t.get_text() for t in axes[1].texts] == ["0.18", "0.31", "n/a"]
    assert [t.get_text() for t in axes[2].texts] == ["40", "61", "0"]
    assert [len(ax.containers) for ax in axes] == [4, 3, 4]  # the bars, and an error bar for the intervals
    assert [t.get_text() for t in axes[0].get_yticklabels()] == ["random", "prior", "copycat"]
    assert axes[0].yaxis_inverted()  # the first strategy on top
    assert axes[0].figure.get_suptitle() == "emojis (bars: means; error bars: 95% intervals)"
    saved(axes, tmp_path / "comparison.png")
    rows = comparison_rows()
    for row in rows:
        for key in ("copy_rate", "new_validity", "yield"):
            row[key]["interval"] = None
    rows[1]["new_validity"]["interval"] = [0.1, 1.4]  # a t interval over two seeds may pass 1
    axes = plot_comparison(rows, title="no repeats but one")
    assert axes[1].get_xlim()[1] > 1.4 and axes[0].get_xlim()[1] == pytest.approx(1.18)
    assert [t.get_position()[0] for t in axes[1].texts][1] > 1.4  # the value is written past the interval
    rows[1]["new_validity"]["interval"] = None
    assert plot_comparison(rows, title="single runs")[0].figure.get_suptitle() == "single runs"


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_som_grid_draws_each_neuron_with_its_number_hits_and_items(space, topology, tmp_path):
    import matplotlib
    from matplotlib.colors import to_rgba

    from genval import LatentSOM, LatentSpace

    spaced = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(3, 4), topology=topology, random_state=0))
    som = spaced.som
    ax = plot_som_grid(spaced)
    assert len(ax.patches) == 12
    viridis = matplotlib.colormaps["viridis"]
    for patch, u in zip(ax.patches, som.umatrix().ravel()):
        assert patch.get_facecolor() == pytest.approx(to_rgba(viridis(u)))
    lines = [t.get_text().split("\n") for t in ax.texts]
    assert [line[0] for line in lines] == [str(k) for k in range(1, 13)]  # numbered from 1, row-major
    hits = np.bincount(som.winners(spaced.codes), minlength=12)
    assert [line[1] for line in lines] == [f"hits {h}" for h in hits]
    table = som.neuron_table(spaced.codes, spaced.bitmaps.names)
    assert [line[2] if len(line) > 2 else "" for line in lines] == [" ".join(n.items) for n in table]
    centres = np.array([t.get_position() for t in ax.texts])
    distance = np.linalg.norm(centres[:, None] - centres[None], axis=-1)
    drawn = [np.flatnonzero(np.isclose(row, 1.0)).tolist() for row in distance]
    # the picture's neighbours are the map's: the four edge neighbours, or six on a hexagonal grid
    assert drawn == [sorted(n) for n in som.neighbours()]
    assert len(ax.figure.axes) == 2  # the colour bar
    assert ax.get_title().startswith(f"3x4 {topology} map of 17 emojis codes: U-matrix")
    saved(ax, tmp_path / f"som_grid_{topology}.png")


def test_som_grid_summarises_crowded_and_labelled_neurons(space):
    from genval import BitmapSet, LatentSOM, LatentSpace

    one = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(1, 1), random_state=0))
    assert plot_som_grid(one).texts[0].get_text() == "1\nhits 17\n17 items"
    labelled = BitmapSet(space.bitmaps.names, space.bitmaps.X, space.bitmaps.shape,
                         labels=["happy" if k < 10 else "sad" for k in range(17)])
    ax = plot_som_grid(LatentSpace.build(labelled, space.model, LatentSOM(grid=(1, 1), random_state=0)))
    assert ax.texts[0].get_text() == "1\nhits 17\nhappy×10 sad×7"


def test_denoising_curve_draws_the_model_beside_the_bound_over_one_strip(space, tmp_path):
    from matplotlib.colors import to_hex

    from genval.experiments._denoise import denoise_report

    levels = [0.0, 0.1, 0.3]
    report = denoise_report(space.model, space.bitmaps, levels, trials=5, random_state=0, examples=4)
    curve, strip = plot_denoising_curve(report, space.bitmaps.shape)
    lines = curve.get_lines()
    assert [line.get_label() for line in lines] == ["restored exactly", "within one pixel", "bound: restored exactly",
                                                    "bound: within one pixel"]
    for line, key in zip(lines, ("restored", "within_one", "bound_restored", "bound_within_one")):
        np.testing.assert_array_equal(line.get_xdata(), levels)
        np.testing.assert_array_equal(line.get_ydata(), [getattr(r, key) for r in report])
    assert lines[0].get_linestyle() == "-" and lines[2].get_linestyle() == "--"
    canvas = strip.images[0].get_array()
    assert canvas.shape == ((1 + 2 * 3) * 8 + 1, 4 * 6 + 1)  # one clean row, then noisy and restored per level
    np.testing.assert_array_equal(canvas[1:8, 1:6], space.bitmaps.image(0))
    np.testing.assert_array_equal(canvas[9:16, 7:12], report.examples.noisy[0][1].reshape(7, 5))
    assert [t.get_text() for t in strip.get_yticklabels()] == [
        "clean", "noisy, 0", "restored, 0", "noisy, 0.1", "restored, 0.1", "noisy, 0.3", "restored, 0.3"]
    assert [t.get_text() for t in strip.get_xticklabels()] == list(space.bitmaps.names[:4])
    frames = verdict_frames(strip)
    assert len(frames) == 3 * 4
    truth = space.bitmaps.binary()[:4]
    right = [((report.examples.restored[j] > 0.5) == truth).all(axis=1) for j in range(3)]
    assert [to_hex(f.get_edgecolor()) for f in frames] == [
        "#0072b2" if ok else "#d55e00" for j in range(3) for ok in right[j]]
    given = plt.subplots(2, 1)[1]
    assert list(plot_denoising_curve(report, space.bitmaps.shape, axes=given)) == list(given)
    saved(np.array([curve, strip]), tmp_path / "denoising_curve.png")


# Three 2x3 items and outputs whose wrong pixels are known: item 0 gains ink at pixel 1 and loses it at
# pixel 4, item 1 is right (0.49 and 0.51 on the right sides of 0.5), item 2 loses pixel 5.
SMALL_X = np.array([[1, 0, 1, 0, 1, 0], [0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]], dtype=float)
SMALL_OUT = np.array([[0.9, 0.8, 0.7, 0.1, 0.2, 0.0], [0.49, 0.1, 0.0, 0.51, 0.9, 1.0],
                      [0.6, 0.9, 0.9, 0.8, 0.7, 0.3]])
SMALL_WRONG = {(0, 0, 1), (0, 1, 1), (2, 1, 2)}  # (item, row, column)


def frame_pixels(ax):
    """The (column, row) canvas pixel inside each wrong-pixel frame."""
    (frames,) = [c for c in ax.collections if c.get_gid() == "wrong"]
    corners = [path.vertices.min(axis=0) for path in frames.get_paths()]
    for path in frames.get_paths():  # a 1x1 square round a pixel centre
        np.testing.assert_allclose(np.ptp(path.vertices, axis=0), [1, 1])
    return sorted((int(x + 0.5), int(y + 0.5)) for x, y in corners)


def test_reconstructions_frame_exactly_the_wrong_pixels(tmp_path):
    h, w = 2, 3
    ax = plot_reconstructions(SMALL_X, SMALL_OUT, (h, w), columns=2, title="tiny")
    assert ax.get_title() == ("tiny: all 3 items, each original over its reconstruction (output > 0.5 is ink)\n"
                              "3 wrong pixels, framed in vermillion")
    # without names no room under a pair: pair k's item at row 1 + (k // 2) * (2h + 2), its output h + 1 below
    expected = sorted((1 + (k % 2) * (w + 1) + j, 1 + (k // 2) * (2 * h + 2) + h + 1 + i) for k, i, j in SMALL_WRONG)
    assert frame_pixels(ax) == expected
    canvas = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert canvas.shape == (2 * (2 * h + 2) + 1, 2 * (w + 1) + 1)
    for k in range(3):  # the item as it is, over its output thresholded at 0.5
        left, top = 1 + (k % 2) * (w + 1), 1 + (k // 2) * (2 * h + 2)
        np.testing.assert_array_equal(canvas[top:top + h, left:left + w], SMALL_X[k].reshape(h, w))
        np.testing.assert_array_equal(canvas[top + h + 1:top + 2 * h + 1, left:left + w],
                                      (SMALL_OUT[k] > 0.5).reshape(h, w))
        assert np.isnan(canvas[top + h, left:left + w]).all()  # the gap between them
    # each frame holds a pixel whose output falls on the other side of 0.5 from the item above it
    for x, y in frame_pixels(ax):
        assert (canvas[y, x] > 0.5) != (canvas[y - h - 1, x] > 0.5)
    assert texts(ax) == []
    saved(ax, tmp_path / "reconstructions.png")


def test_reconstructions_of_a_large_set_show_its_first_items_and_count_all(tmp_path):
    rng = np.random.default_rng(0)
    X = (rng.random((60, 12)) < 0.5).astype(np.float32)
    outputs = np.where(rng.random((60, 12)) < 0.1, 1 - X, X).astype(np.float32)  # about one pixel in ten wrong
    names = [f"n{k}" for k in range(60)]
    ax = plot_reconstructions(X, outputs, (3, 4), names=names, max_items=7)
    wrong = (outputs > 0.5) != (X > 0.5)
    assert 0 < wrong[:7].sum() < wrong.sum()
    assert ax.get_title() == ("the first 7 of 60 items, each original over its reconstruction (output > 0.5 is ink)\n"
                              f"{wrong[:7].sum()} wrong pixels in these 7 ({wrong.sum()} in all 60 items), "
                              "framed in vermillion")
    assert texts(ax) == names[:7]
    assert len(frame_pixels(ax)) == wrong[:7].sum()
    # 7 pairs: 14 tiles, each a block whose top-left pixel has a gap above it and to its left
    canvas = np.ma.filled(ax.images[0].get_array(), np.nan)
    ink = ~np.isnan(canvas)
    corners = ink[1:, 1:] & ~ink[:-1, 1:] & ~ink[1:, :-1]
    assert corners.sum() == 14
    assert [t.get_text() for t in ax.get_yticklabels()] == ["item", "output"]
    saved(ax, tmp_path / "reconstructions-large.png")


def test_reconstructions_of_a_fitted_model(space, tmp_path):
    emojis = space.bitmaps  # the fixture's model reconstructs every emoji
    ax = plot_reconstructions(emojis.X, space.model.reconstruct(emojis.X), emojis.shape, emojis.names,
                              title=emojis.title)
    assert ax.get_title().endswith("all 17 items, each original over its reconstruction (output > 0.5 is ink)\n"
                                   "0 wrong pixels, framed in vermillion")
    assert frame_pixels(ax) == [] and texts(ax) == list(emojis.names)
    saved(ax, tmp_path / "reconstructions-emojis.png")


@pytest.mark.parametrize("args, message", [
    ((SMALL_X, SMALL_OUT[:2], (2, 3)), "the reconstructions have shape (2, 6), the items (3, 6)"),
    ((SMALL_X, SMALL_OUT, (2, 2)), "the items have 6 pixels, but shape 2x2 takes 4"),
    ((SMALL_X[:0], SMALL_OUT[:0], (2, 3)), "no items to draw"),
])
def test_reconstructions_refuse_mismatched_input(args, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        plot_reconstructions(*args)
    with pytest.raises(ParameterError, match="got 2 names for 3 items"):
        plot_reconstructions(SMALL_X, SMALL_OUT, (2, 3), names=["a", "b"])
    with pytest.raises(ParameterError, match="max_items must be at least 1, got 0"):
        plot_reconstructions(SMALL_X, SMALL_OUT, (2, 3), max_items=0)


def test_audit_sheet_frames_new_bitmaps_apart_from_copies_with_no_gap_between_panels(space, report, tmp_path):
    axes = plot_audit_sheet(report, space.bitmaps.shape)
    counts = np.bincount(report.bitmap_index, minlength=len(report.bitmaps))
    valid = report.passes.all(axis=1)
    for ax, want in zip(axes, (True, False)):
        shown = np.flatnonzero((valid == want) & (counts > 0))
        shown = shown[np.argsort(-counts[shown], kind="stable")][:24]
        frames = [p for p in ax.patches if p.get_gid() in ("new", "copy")]
        assert [p.get_gid() for p in frames] == ["new" if report.copy_of[k] < 0 else "copy" for k in shown]
        # each frame round its tile: 12 to a row, 7x5 tiles, 1-pixel gaps
        assert [p.get_xy() for p in frames] == [(1 + (i % 12) * 6 - 0.5, 1 + (i // 12) * 8 - 0.5)
                                               for i in range(len(shown))]
        distinct = (valid == want) & (counts > 0)
        assert f"{int(distinct.sum())} distinct, {int((distinct & (report.copy_of < 0)).sum())} new" in ax.get_title()
    legend = axes[0].figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["new: no training item is identical",
                                                         "copy of a training item"]
    fig = axes[0].figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    # the panels follow each other: under a quarter inch from the valid panel's labels to the invalid one's title
    assert (axes[0].get_tightbbox(renderer).y0 - axes[1].get_tightbbox(renderer).y1) / fig.dpi < 0.25
    saved(axes, tmp_path / "audit_sheet_marked.png")


def test_latent_grid_frames_each_tile_in_its_verdict_colour(space, tmp_path):
    from matplotlib.colors import to_rgba

    from genval.audit._judging import judge
    from genval.plotting._base import INVALID_COLOUR, VALID_COLOUR

    xs, ys, pixels = latent_grid(space, size=6)
    verdicts = judge(pixels.reshape(36, -1), space.bitmaps)
    classes = tile_classes(verdicts)
    ax = plot_latent_grid(xs, ys, pixels, space.bitmaps.shape, verdicts=verdicts)
    (frames,) = [c for c in ax.collections if c.get_gid() == "verdict"]
    colour = {"copy": "white", "new valid": VALID_COLOUR, "invalid": INVALID_COLOUR}
    np.testing.assert_allclose(frames.get_edgecolors(), [to_rgba(colour[kind]) for kind in classes])
    # tile k (row-major from the top left) spans canvas pixels 1 + 6c .. 5 + 6c across and 1 + 8r .. 7 + 8r down;
    # the image maps the 37 x 49 canvas pixels onto its extent, row 0 at the top
    x0, x1, y0, y1 = ax.images[0].get_extent()
    px, py = (x1 - x0) / 37, (y1 - y0) / 49
    for k, path in enumerate(frames.get_paths()):
        r, c = divmod(k, 6)
        (left, bottom), (right, top) = path.vertices.min(axis=0), path.vertices.max(axis=0)
        np.testing.assert_allclose([left, right], [x0 + (1 + 6 * c) * px, x0 + (6 + 6 * c) * px])
        np.testing.assert_allclose([bottom, top], [y1 - (8 + 8 * r) * py, y1 - (1 + 8 * r) * py])
    saved(ax, tmp_path / "latent_grid_frames.png")


@pytest.mark.parametrize("grid", [(1, 2), (2, 2), (12, 12)])
def test_som_grid_fits_each_neurons_labels_inside_its_cell(space, grid):
    from genval import BitmapSet, LatentSOM, LatentSpace

    # every item its own long label: no cell holds all of its labels on one line
    labels = [f"class{k:02d}" for k in range(17)]
    labelled = BitmapSet(space.bitmaps.names, space.bitmaps.X, space.bitmaps.shape, labels=labels)
    mapped = LatentSpace.build(labelled, space.model, LatentSOM(grid=grid, random_state=0))
    ax = plot_som_grid(mapped)
    winners = mapped.som.winners(mapped.codes)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    cell = abs(ax.transData.transform((1, 0))[0] - ax.transData.transform((0, 0))[0])  # one cell, in pixels
    for k, text in enumerate(ax.texts):
        assert text.get_window_extent(renderer).width <= cell, text.get_text()
        lines = text.get_text().split("\n")
        members = sorted(labels[i] for i in np.flatnonzero(winners == k))
        if not members:
            assert len(lines) == 2
            continue
        words = lines[2].split(" ")
        if words[-1] == "more":  # the first labels, then how many more
            shown = words[:-2]
            assert int(words[-2][1:]) == len(members) - len(shown)
        elif words[-1] == "…":
            shown = words[:-1]
        else:
            shown = words
        assert shown == [f"{label}×1" for label in members[:len(shown)]] and shown


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_som_grid_figure_is_mostly_map(space, topology):
    from genval import LatentSOM, LatentSpace

    mapped = LatentSpace.build(space.bitmaps, space.model,
                               LatentSOM(grid=(10, 10), topology=topology, iterations=200, random_state=0))
    ax = plot_som_grid(mapped)
    ax.figure.canvas.draw()
    box = ax.get_position(original=False)  # the cells' box once drawn, in figure fractions
    # the rest is the title, the axis labels and the colour bar (a 14 x 12 inch figure left 38% blank round hexagons)
    assert box.width * box.height >= 0.7


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_a_big_map_is_drawn_with_a_bounded_number_of_artists(space, topology):
    # An artist per edge, per neuron number or per cell made a 316x316 map take minutes to draw.
    from genval.plotting._maps import MAX_NUMBERED
    from genval.latent._som import LatentSOM
    from genval.latent._space import LatentSpace

    big = LatentSpace.build(space.bitmaps, space.model, LatentSOM(grid=(25, 30), topology=topology, iterations=2,
                                                                   random_state=0))
    assert big.som.n_neurons > MAX_NUMBERED
    ax = plot_som(big, resolution=30)
    assert len(ax.lines) == 0 and len(ax.texts) <= len(big.bitmaps) + 1 and len(ax.collections) <= 4
    assert "numbered up to 400 only" in ax.get_title()
    grid = plot_som_grid(big)
    assert len(grid.texts) == 0 and len(grid.patches) == 0 and len(grid.collections) == 1
