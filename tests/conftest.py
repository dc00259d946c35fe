import matplotlib
import pytest

from genval import Autoencoder, LatentSOM, LatentSpace, load_dataset

matplotlib.use("Agg")


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
