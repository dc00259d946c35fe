"""Every plotting function draws into the axes it is given, makes its own when given none, and
its figure is written by ``save_figure`` in the format its file name says.

The figures of each genval.plotting module are tested in tests/test_plotting_<module>.py;
tests/_plotting_fixtures.py holds what those files share.
"""

import matplotlib.pyplot as plt
import pytest

from genval.latent._plane import latent_grid
from genval.latent._walks import walk
from genval.plotting import (
    plot_bitmaps,
    plot_latent,
    plot_latent_grid,
    plot_loss_curve,
    plot_reconstructions,
    plot_som,
    plot_walk,
)

import _plotting_fixtures
from _plotting_fixtures import (
    PNG,
    _sweep_summary,
    given_axes,
    saved,
)

_close_figures = _plotting_fixtures._close_figures  # the shared autouse fixture: closes every figure left open


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


def test_save_figure_takes_axes_arrays_or_figures(tmp_path):
    fig, axes = plt.subplots(1, 2)
    saved(fig, tmp_path / "figure.png")
    fig, axes = plt.subplots(1, 2)
    saved(axes, tmp_path / "axes.png")
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no temporary left behind


def test_save_figure_writes_the_format_of_the_suffix(tmp_path):
    from genval.errors import ParameterError
    from genval.plotting import plot_sweep, save_figure

    for suffix, magic in (("png", PNG), ("pdf", b"%PDF"), ("svg", b"<?xml")):
        save_figure(plot_sweep(_sweep_summary()), tmp_path / f"sweep.{suffix}")
        assert (tmp_path / f"sweep.{suffix}").read_bytes().startswith(magic)
    with pytest.raises(ParameterError, match=r"sweep.gif: cannot write a figure as 'gif'; name it .png, .svg, .pdf"):
        save_figure(plot_sweep(_sweep_summary()), tmp_path / "sweep.gif")
    assert not (tmp_path / "sweep.gif").exists() and not list(tmp_path.glob(".*.tmp"))
