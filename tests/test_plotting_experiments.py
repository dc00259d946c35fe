"""genval.plotting._experiments draws what it says: denoising rows and curves, sweeps.

Each test writes its picture with ``save_figure`` (run with ``--basetemp DIR`` to look at them).
"""

import matplotlib.pyplot as plt
import numpy as np

from genval.plotting import (
    plot_denoising,
    plot_denoising_curve,
)

import _plotting_fixtures
from _plotting_fixtures import (
    _sweep_summary,
    saved,
    texts,
    verdict_frames,
)

_close_figures = _plotting_fixtures._close_figures  # the shared autouse fixture: closes every figure left open


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
