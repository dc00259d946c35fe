import os
import shutil
import tempfile

import matplotlib
import pytest

matplotlib.use("Agg")

from genval import Autoencoder, LatentSOM, LatentSpace, load_dataset  # noqa: E402  (after choosing the backend)

_SESSION_CACHE = tempfile.mkdtemp(prefix="genval-test-cache-")


def pytest_configure(config):
    # The docstring examples under genval/ run outside this folder's fixtures: they get
    # an empty cache folder of their own too, never the user's.
    os.environ["GENVAL_CACHE"] = _SESSION_CACHE


def pytest_unconfigure(config):
    shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty genval cache folder."""
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def space():
    """The emoji set, a model that reconstructs every emoji, and a 3x3 map."""
    emojis = load_dataset("emojis")
    model = Autoencoder(stop_wrong_pixels=0, random_state=0).fit(emojis.X)
    return LatentSpace.build(emojis, model, LatentSOM(grid=(3, 3), random_state=0))
