"""What the tests/test_plotting*.py files share: closing figures, saving them as the CLI does,
reading back what a figure shows, and a small sweep summary.

A test file imports what it uses and binds the autouse fixture ``_close_figures`` to a name of its own.
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection

from genval.plotting import save_figure

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


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


def verdict_frames(ax):
    return [p for p in ax.patches if p.get_gid() == "verdict"]


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]
