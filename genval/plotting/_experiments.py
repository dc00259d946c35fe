"""Pictures of the experiments: denoising (rows of examples, and the curve beside its bound) and sweeps.
"""

from __future__ import annotations

import numpy as np

from genval.plotting._base import INVALID_COLOUR, VALID_COLOUR, _ink_cmap
from genval.plotting._bitmaps import plot_bitmaps
from genval.plotting._sweep_pictures import wrapped_title

__all__ = ["plot_denoising", "plot_denoising_curve", "plot_sweep"]


def plot_denoising(clean, noisy, restored, shape: tuple[int, int], levels, names=None, axes=None):
    """Clean, noisy and restored rows of bitmaps for each noise level.

    Parameters
    ----------
    clean : ndarray (k, n_pixels)
    noisy, restored : sequence (one per level) of ndarray (k, n_pixels)
    levels : sequence of float
    names : sequence of str, optional
        Labels under the clean row.
    axes : sequence of ``3 * len(levels)`` Axes, optional
        Where to draw the rows; a new figure when None.

    Returns
    -------
    ndarray of Axes, three per level
    """
    import matplotlib.pyplot as plt

    k = len(clean)
    if axes is None:
        # about an inch per row: tiles wide enough for the labels under them ("10 off", "wrong")
        _, axes = plt.subplots(3 * len(levels), 1, figsize=(max(5.0, 0.8 * k + 0.6), 3.4 * len(levels) + 0.3),
                               layout="constrained")
    axes = np.atleast_1d(axes)
    truth = np.asarray(clean) > 0.5
    for j, level in enumerate(levels):
        right = ((np.asarray(restored[j]) > 0.5) == truth).all(axis=1)
        flips = ((np.asarray(noisy[j]) > 0.5) != truth).sum(axis=1)
        rows = ((clean, names, "clean"),
                (noisy[j], [f"{f} off" for f in flips], f"noisy, p = {level:g} (label: pixels off)"),
                (restored[j], ["ok" if r else "wrong" for r in right], "restored"))
        for i, (pixels, labels, label) in enumerate(rows):
            ax = axes[3 * j + i]
            plot_bitmaps(pixels, shape, labels, ax=ax, columns=k)
            ax.set_title(label, loc="left", fontsize=8)
    return axes


def _sweep_label(entry: dict, keys) -> str:
    return " ".join(entry["settings"][k] for k in keys if entry["settings"][k]) or "(default)"


_SWEEP_METRICS = {"wrong_pixels": "wrong pixels (sum over items)", "final_loss": "final loss"}


def plot_sweep(summary, title: str = "", metrics=("wrong_pixels", "final_loss"), axes=None):
    """A sweep's summary: a panel per varied setting and metric, with the spread over seeds.

    Parameters
    ----------
    summary : list of dict
        What :func:`genval.experiments.summarize` returned.
    title : str
    metrics : sequence of str
        Result columns, one row of panels each.
    axes : array of Axes, optional
        ``len(metrics)`` rows by one column per varied setting.

    Returns
    -------
    ndarray of Axes, shape (len(metrics), n_settings)

    Notes
    -----
    In the panel of a setting, the x axis holds its values; every other
    varied setting draws its own series. A dot is a seed's run, the bar the
    mean ± sample standard deviation, clipped at 0 below (every figure drawn
    is >= 0; above 0 on the loss's log scale); runs that diverged or failed are
    counted in red above their value.

    Examples
    --------
    >>> from genval.experiments import parse_sweep, run_sweep, summarize
    >>> import tempfile, os
    >>> sweep = parse_sweep('dataset = "emojis"\\n[fixed]\\nepochs = 20\\n[grid]\\nn_latent = [2, 3]\\n'
    ...                     'random_state = [0, 1]\\n')
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     rows = run_sweep(sweep, os.path.join(tmp, "runs.csv"))
    >>> plot_sweep(summarize(rows, sweep.axes)).shape
    (2, 1)
    """
    import matplotlib.pyplot as plt

    settings = list(summary[0]["axes"]) if summary and summary[0]["axes"] else [()]
    if axes is None:
        _, axes = plt.subplots(len(metrics), len(settings), figsize=(4.2 * len(settings) + 0.6, 2.8 * len(metrics)),
                               layout="constrained", squeeze=False)
    axes = np.asarray(axes).reshape(len(metrics), len(settings))
    for col, axis in enumerate(settings):
        others = [k for other in settings if other != axis for k in other]
        xs = list(dict.fromkeys(_sweep_label(e, axis) for e in summary))
        series = list(dict.fromkeys(_sweep_label(e, others) for e in summary)) if others else [""]
        for row, metric in enumerate(metrics):
            _draw_sweep_runs(axes[row, col], summary, metric, axis, others, xs, series)
            _label_sweep_panel(axes[row, col], summary, metric, axis, xs)
        if others:
            axes[0, col].legend(title=" ".join(others), fontsize=6, title_fontsize=6, framealpha=0.6)
    if title:
        wrapped_title(axes.flat[0].figure, f"{title}: mean ± spread over seeds, bars clipped at 0 (dots: runs; ✗: "
                                           "diverged or failed)")
    return axes


def _draw_sweep_runs(ax, summary, metric: str, axis, others, xs, series) -> None:
    """In one panel, per series (a value of the ``others`` settings): a dot per run at each value of ``axis``,
    the mean ± spread as a bar, and the runs that diverged or failed counted in red."""
    width = 0.6 / len(series)
    for s, name in enumerate(series):
        offset = (s - (len(series) - 1) / 2) * width
        members = [e for e in summary if not others or _sweep_label(e, others) == name]
        color = f"C{s % 10}"
        for e in members:
            x = xs.index(_sweep_label(e, axis)) + offset
            values = e["values"][metric]
            ax.plot([x] * len(values), values, "o", color=color, alpha=0.45, ms=3.5)
            if e[metric] is not None:
                mean, spread = e[metric]
                # every figure is >= 0: a bar stops at 0, and on the loss's log scale above it
                low = min(spread, 0.95 * mean) if metric == "final_loss" and mean > 0 else min(spread, max(mean, 0))
                ax.errorbar(x, mean, yerr=[[low], [spread]], fmt="_", color=color, ms=12, capsize=3,
                            label=name if e is members[0] and others else None)
            bad = e["diverged"] + e["failed"]
            if bad:
                ax.annotate(f"{bad}✗", (x, 1.0), xycoords=("data", "axes fraction"), color="tab:red",
                            ha="center", va="top", fontsize=7)


def _label_sweep_panel(ax, summary, metric: str, axis, xs) -> None:
    """The setting's values along x (tilted when long), the metric up y (on a log scale for a positive loss)."""
    tilted = sum(map(len, xs)) > 40
    ax.set_xticks(range(len(xs)), xs, rotation=25 if tilted else 0, ha="right" if tilted else "center",
                  rotation_mode="anchor", fontsize=7)
    ax.set_xlim(-0.6, len(xs) - 0.4)
    if metric == "final_loss" and all(v > 0 for e in summary for v in e["values"][metric]):
        ax.set_yscale("log")
    ax.set_ylabel(_SWEEP_METRICS.get(metric, metric.replace("_", " ")), fontsize=8)
    ax.set_xlabel(" + ".join(axis) or "", fontsize=8)
    ax.tick_params(axis="y", which="both", labelsize=7)


def plot_denoising_curve(report, shape: tuple[int, int], names=None, axes=None, items: int = 6):
    """Denoising at a glance: restored and within-one shares against the noise level beside the bound,
    over a strip of examples.

    The top panel draws the model's share of noisy copies restored exactly
    and within one wrong pixel (solid, filled marks) against the
    nearest-training-item bound's two shares (dashed, open marks), the best
    any denoiser can do on the set. The strip below shows the first
    ``items`` items once, clean, then for each level a noisy copy and its
    restoration, framed as :func:`plot_bitmaps` frames verdicts (blue and
    solid: restored exactly; vermillion and dashed: wrong pixels left).

    Parameters
    ----------
    report : DenoiseReport
        From :func:`genval.experiments.denoise_report`.
    shape : (height, width)
    names : sequence of str, optional
        Item names under the clean row; default the report's.
    axes : pair of Axes, optional
        The curve's and the strip's.
    items : int
        Most items in the strip.

    Returns
    -------
    ndarray of two Axes

    Examples
    --------
    >>> from genval import Autoencoder, BitmapSet
    >>> from genval.experiments._denoise import denoise_report
    >>> bits = BitmapSet(["a", "b"], [[1, 1, 0, 0], [1, 0, 1, 0]], (2, 2))
    >>> report = denoise_report(Autoencoder(hidden=(4,), epochs=20).fit(bits.X), bits, [0.0, 0.25], trials=4)
    >>> curve, strip = plot_denoising_curve(report, (2, 2))
    >>> [line.get_label() for line in curve.get_lines()]
    ['restored exactly', 'within one pixel', 'bound: restored exactly', 'bound: within one pixel']
    """
    import matplotlib.pyplot as plt

    levels = [r.level for r in report]
    examples = report.examples
    k = min(items, len(examples.clean))
    names = list(names if names is not None else examples.names)[:k]
    h, w = shape
    n_rows = 1 + 2 * len(levels)
    if axes is None:
        # no taller than the strip's tiles at the width left beside the row names and the legend (some 4.4
        # inches): 28x28 tiles got a strip twice their height, a blank band under the curve
        canvas_rows, canvas_cols = n_rows * (h + 1) + 1, k * (w + 1) + 1
        strip_height = max(1.6, min(0.42 * n_rows * h / 7, 4.4 * canvas_rows / canvas_cols) + 0.6)
        fig, axes = plt.subplots(2, 1, figsize=(7.2, 3.6 + strip_height), layout="constrained",
                                 gridspec_kw={"height_ratios": [3.2, strip_height]})
    curve, strip = np.asarray(axes).ravel()
    _draw_denoising_shares(curve, report, levels)
    _draw_denoising_strip(strip, examples, levels, k, names, shape)
    return np.asarray([curve, strip])


def _draw_denoising_shares(curve, report, levels) -> None:
    """The model's shares restored exactly and within one pixel (solid, filled marks) beside the bound's
    (dashed, open marks), against the noise level."""
    series = (("restored", "restored exactly", VALID_COLOUR, "-", "o"),
              ("within_one", "within one pixel", INVALID_COLOUR, "-", "s"),
              ("bound_restored", "bound: restored exactly", VALID_COLOUR, "--", "o"),
              ("bound_within_one", "bound: within one pixel", INVALID_COLOUR, "--", "s"))
    for key, label, colour, style, marker in series:
        bound = key.startswith("bound")
        # the exact shares on top, with smaller marks: where a curve equals its within-one twin both still show
        exact = "restored" in key
        curve.plot(levels, [getattr(r, key) for r in report], color=colour, linestyle=style, marker=marker,
                   mfc="white" if bound else colour, ms=4 if exact else 7, lw=1.4 if exact else 2.2, label=label,
                   zorder=3 + exact)
    curve.set_ylim(-0.03, 1.03)
    curve.set_xlabel("noise level (bit-flip probability or Gaussian standard deviation)")
    curve.set_ylabel(f"share of noisy copies ({report[0].samples:,} per level)" if len(report) else "share")
    curve.set_title("denoising: the model (solid) beside the nearest-training-item bound (dashed)", fontsize=10)
    curve.grid(True, alpha=0.3)
    curve.legend(fontsize=8, loc="lower left", framealpha=0.9)


def _draw_denoising_strip(strip, examples, levels, k: int, names, shape: tuple[int, int]) -> None:
    """The first ``k`` examples, named ``names``: a clean row, then per level a noisy row and a restored row, each
    restoration framed blue and solid when exact, vermillion and dashed when pixels are still wrong."""
    from matplotlib.patches import Patch, Rectangle

    h, w = shape
    n_rows = 1 + 2 * len(levels)
    gap = 1
    canvas = np.full((n_rows * (h + gap) + gap, k * (w + gap) + gap), np.nan)

    def put(row, col, pixels):
        top, left = gap + row * (h + gap), gap + col * (w + gap)
        canvas[top:top + h, left:left + w] = np.asarray(pixels, dtype=float).reshape(h, w)
        return left, top

    truth = np.asarray(examples.clean[:k]) > 0.5
    for c in range(k):
        put(0, c, examples.clean[c])
    for j in range(len(levels)):
        right = ((np.asarray(examples.restored[j][:k]) > 0.5) == truth).all(axis=1)
        for c in range(k):
            put(1 + 2 * j, c, examples.noisy[j][c])
            left, top = put(2 + 2 * j, c, examples.restored[j][c])
            ok = bool(right[c])
            strip.add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, lw=1.4, gid="verdict",
                                      edgecolor=VALID_COLOUR if ok else INVALID_COLOUR,
                                      linestyle="-" if ok else (0, (2, 1.2))))
    strip.imshow(canvas, cmap=_ink_cmap(), vmin=0, vmax=1, interpolation="nearest")
    centres = [gap + r * (h + gap) + (h - 1) / 2 for r in range(n_rows)]
    row_names = ["clean"] + [f"{what}, {level:g}" for level in levels for what in ("noisy", "restored")]
    strip.set_yticks(centres, row_names, fontsize=7)
    strip.set_xticks([gap + c * (w + gap) + (w - 1) / 2 for c in range(k)], names, fontsize=7)
    strip.tick_params(length=0)
    for spine in strip.spines.values():
        spine.set_visible(False)
    strip.set_title("examples: each item once, then per level a noisy copy and its restoration", fontsize=9)
    strip.legend(handles=[Patch(fill=False, edgecolor=VALID_COLOUR, label="restored exactly"),
                          Patch(fill=False, edgecolor=INVALID_COLOUR, linestyle=(0, (2, 1.2)),
                                label="pixels still wrong")],
                 loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
