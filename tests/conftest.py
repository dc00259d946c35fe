import matplotlib
import pytest

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own empty genval cache folder."""
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path_factory.mktemp("cache")))
