"""Protections that only a second user can test: read-only folders and files, caches another user owns.

Root writes through any permission, so these run the genval call as user ``nobody`` (uid 65534) when the
suite runs as root: in a forked child (``as_other_user`` in conftest.py; a fresh interpreter could not run,
since it may lie in a folder only root may enter). Run by an ordinary user they run as that user, whom the
modes bind already; they are skipped only where neither is possible (a root without the right to drop
its uid, which ``as_other_user`` reports as a failed child).
"""

import json
import logging
import os
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

from genval import Autoencoder, load_dataset
from genval.cli.main import cli
from genval.errors import GenvalError
from genval._utils.files import atomic_write
from genval.models._cache import cached_model
from test_cache import SMALL, small

NOBODY = 65534


@pytest.fixture
def unprivileged(request):
    """``unprivileged(task)``: ``str(task())`` run by a user whom file modes bind (nobody, when we are root)."""
    if os.geteuid() != 0:
        return lambda task: str(task())
    as_other_user = request.getfixturevalue("as_other_user")

    def run(task):
        def bounded():
            signal.alarm(60)  # a forked child that hangs (a lock held at the fork) dies, and the test fails
            return task()
        return as_other_user(bounded)

    return run


@pytest.fixture
def place(shared_folder):
    """A folder every user may enter (the shared folder, mode 0777, outside pytest's root-only tree)."""
    return shared_folder


def _read_only_folder(place: Path) -> Path:
    folder = place / "read-only"
    folder.mkdir()
    (folder / "kept.csv").write_bytes(b"kept")
    folder.chmod(0o555)  # root's, or this user's: nobody may write in it (root is not asked)
    return folder


def _as_text(task):
    """``task()``, or the one-line message of the genval error it raised."""
    try:
        return task()
    except GenvalError as exc:
        return f"GenvalError: {exc}"


def test_a_read_only_folder_is_named_with_the_target(place, unprivileged):
    folder = _read_only_folder(place)

    def write():
        with atomic_write(folder / "f.csv", "w") as fh:
            fh.write("new")
        return "written"

    assert unprivileged(lambda: _as_text(write)) == f"GenvalError: cannot write {folder / 'f.csv'}: Permission denied"
    assert sorted(p.name for p in folder.iterdir()) == ["kept.csv"]


def _cli(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    return json.dumps([result.exit_code, result.stderr.strip().splitlines()[-1:], repr(result.exception)])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """A small emoji model any user may read."""
    folder = tmp_path_factory.mktemp("model")
    path = Path(f"/tmp/genval-test-model-{os.getpid()}-{folder.name}.npz")
    emojis = load_dataset("emojis")
    Autoencoder(epochs=40, random_state=0).fit(emojis.X).save(path)
    path.chmod(0o644)
    yield path
    path.unlink()


@pytest.mark.parametrize("target", ["in a read-only folder", "another user's file in a writable folder"])
def test_the_cli_refuses_an_output_it_may_not_write_and_keeps_the_file(place, unprivileged, model_file, target):
    if target == "in a read-only folder":
        folder = _read_only_folder(place)
        out, kept = folder / "new.csv", folder / "kept.csv"
    else:
        out = kept = place / "theirs.csv"  # the folder lets anyone add and rename files; the file is not theirs
        out.write_bytes(b"kept")
        out.chmod(0o644)
    args = ["audit", "-n", "5", "--model", str(model_file), "--grid", "2x2", "-q", "--csv"]
    # Once as ourselves first: the child imports nothing new (the interpreter's folder may be closed to nobody).
    assert json.loads(_cli([*args, str(place / "warm-up.csv")]))[0] == 0
    code, last, exception = json.loads(unprivileged(lambda: _cli([*args, str(out)])))
    assert code == 2 and exception.startswith("SystemExit"), (code, last, exception)
    reason = "Permission denied " + ("(the file is read-only)" if out == kept else f"(the folder {out.parent} is read-only)")
    assert last == [f"Error: Invalid value for '--csv': cannot write {out}: {reason}"], last
    assert kept.read_bytes() == b"kept" and not out.exists() or out == kept
    assert not any(name.endswith(".tmp") for name in os.listdir(kept.parent))


def _cache_warnings(folder: Path):
    """Train the small model with ``folder`` as the cache; what was cached and the warnings, as text."""
    def task():
        messages = []
        handler = logging.Handler()
        handler.emit = lambda record: messages.append(record.getMessage())
        logger = logging.getLogger("genval.models._cache")
        logger.addHandler(handler)
        try:
            os.environ["GENVAL_CACHE"] = str(folder)
            _, cached = cached_model(load_dataset("emojis"), "autoencoder", SMALL, small)
        finally:
            logger.removeHandler(handler)
        return json.dumps([cached, messages])
    return task


@pytest.mark.parametrize("mode", [0o755, 0o700, 0o1777])
def test_a_cache_folder_of_another_user_warns_and_trains_without_caching(place, unprivileged, mode):
    if os.geteuid() != 0:
        pytest.skip("a folder of another user needs root to make")
    folder = place / f"cache-{mode:o}"
    folder.mkdir()
    folder.chmod(mode)  # root's: nobody runs genval with it as the cache
    cached, messages = json.loads(unprivileged(_cache_warnings(folder)))
    assert cached is False and messages == [f"cannot use the genval cache ({folder} belongs to another user (uid 0)); "
                                            "training the autoencoder without caching it"], messages
    assert list(folder.iterdir()) == []
