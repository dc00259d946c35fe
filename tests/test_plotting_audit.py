"""genval.plotting._audit draws what it says: the contact sheet, the audited points on the plane,
ROC curves and the comparison of strategies.

Each test writes its picture with ``save_figure`` (run with ``--basetemp DIR`` to look at them).
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from genval.audit._audit import audit
from genval.plotting import (
    plot_audit_plane,
    plot_audit_sheet,
    plot_comparison,
    plot_roc,
    save_figure,
)

import _plotting_fixtures
from _plotting_fixtures import (
    given_axes,
    legend_texts,
    saved,
    scatter_sizes,
    texts,
)

_close_figures = _plotting_fixtures._close_figures  # the shared autouse fixture: closes every figure left open


@pytest.fixture(scope="module")
def report(space):
    return audit(space, "random", n=600, random_state=0)


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


def test_audit_sheet_frames_new_bitmaps_apart_from_copies_with_no_gap_between_panels(space, report, tmp_path):
    axes = plot_audit_sheet(report, space.bitmaps.shape)
    counts = np.bincount(report.bitmap_index, minlength=len(report.bitmaps))
    valid = report.passes.all(axis=1)
    for ax, want in zip(axes, (True, False)):
        shown = np.flatnonzero((valid == want) & (counts > 0))
        shown = shown[np.argsort(-counts[shown], kind="stable")][:24]
        frames = [p for p in ax.patches if p.get_gid() in ("new", "copy")]
        assert [p.get_gid() for p in frames] == ["new" if report.copy_of[k] < 0 else "copy" for k in shown]
        # each frame round its tile: 12 to a row, 7x5 tiles, 1-pixel gaps, and under each row its labels' room
        rows = -(-len(shown) // 12)
        step = (ax.images[0].get_array().shape[0] - 1) // rows
        assert step >= 8 and [p.get_xy() for p in frames] == [(1 + (i % 12) * 6 - 0.5, 1 + (i // 12) * step - 0.5)
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
