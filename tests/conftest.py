import os
import shutil
import tempfile
from pathlib import Path

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


@pytest.fixture
def as_other_user():
    """``as_other_user(task)``: what ``task()`` returns (a string) when another user (uid 65534) runs it.

    A forked child of root drops to that uid: forked, not started anew, since the interpreter may lie in
    a folder only root can enter. Skips where this process cannot change its user.
    """
    if os.geteuid() != 0:
        pytest.skip("simulating another user needs root")
    return _run_as


def _run_as(task, uid: int = 65534) -> str:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        status = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            os.write(write_end, str(task()).encode())
            status = 0
        except BaseException as exc:  # reported to the parent, which fails the test
            os.write(write_end, f"child failed: {exc!r}".encode())
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        out = f.read().decode()
    os.waitpid(pid, 0)
    return out


@pytest.fixture
def shared_folder():
    """A world-writable folder outside the pytest tree (which other users cannot enter)."""
    folder = Path(tempfile.mkdtemp(prefix="genval-shared-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)
