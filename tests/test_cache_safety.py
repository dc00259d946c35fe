"""Cache folders that cannot be used and entries that are not genval's: a warning, never a hang or data loss."""

import logging
import os
import re
import signal

import pytest
from click.testing import CliRunner

from genval import load_dataset
from genval.cli.main import cli
from genval.errors import GenvalError
from genval.models._cache import cached_model
from genval.models._cache_folder import entry_path
from test_cache import SMALL, one_warning, small


def _long_path(tmp_path):
    return tmp_path / "/".join(["d" * 200] * 25)  # 5,000 characters: more than PATH_MAX


def _long_component(tmp_path):
    return tmp_path / ("c" * 300)  # more than NAME_MAX


def _dangling_link(tmp_path):
    (tmp_path / "link").symlink_to(tmp_path / "gone")
    return tmp_path / "link"


def _another_users_folder(mode):
    def make(tmp_path):
        folder = tmp_path / f"theirs-{mode:o}"
        folder.mkdir(mode=mode)
        folder.chmod(mode)
        os.chown(folder, 65534, 65534)
        return folder
    return make


FOLDER_PROBLEMS = {
    "path too long": (_long_path, r"File name too long"),
    "component too long": (_long_component, r"File name too long"),
    "dangling link": (_dangling_link, r"link is a link to .*gone, which does not exist"),
    "another user's, 0700": (_another_users_folder(0o700), r"theirs-700 belongs to another user \(uid 65534\)"),
    "another user's, 1777": (_another_users_folder(0o1777), r"theirs-1777 belongs to another user \(uid 65534\)"),
}


@pytest.mark.parametrize("problem", list(FOLDER_PROBLEMS))
def test_a_cache_folder_that_cannot_be_used_warns_and_trains_without_caching(tmp_path, monkeypatch, caplog,
                                                                              problem):
    make, reason = FOLDER_PROBLEMS[problem]
    if problem.startswith("another") and os.geteuid() != 0:
        pytest.skip("giving a folder to another user needs root")
    folder = make(tmp_path)
    monkeypatch.setenv("GENVAL_CACHE", str(folder))
    told = []
    with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
        model, cached = cached_model(load_dataset("emojis"), "autoencoder", SMALL, small,
                                     on_train=lambda path, fresh: told.append(path))
    assert not cached and model.n_epochs_ == 30 and told == [None]
    assert re.fullmatch(rf"cannot use the genval cache \(.*{reason}\); training the autoencoder without caching "
                        "it", one_warning(caplog))
    assert not any(p.name.startswith("model-") for p in tmp_path.rglob("*") if len(str(p)) < 4000)


def test_no_home_folder_is_a_warning_for_models_and_one_line_for_cache_commands(as_other_user, monkeypatch):
    # uid 54321 has no entry in the user database: with HOME unset, there is no ~ at all.
    for name in ("GENVAL_CACHE", "XDG_CACHE_HOME", "HOME"):
        monkeypatch.delenv(name, raising=False)
    emojis = load_dataset("emojis")

    def train():
        with pytest.MonkeyPatch.context():
            records = []
            handler = logging.Handler()
            handler.emit = records.append
            logging.getLogger("genval.models._cache").addHandler(handler)
            model, cached = cached_model(emojis, "autoencoder", SMALL, small)
            result = CliRunner().invoke(cli, ["cache", "list"])
            return repr(([r.getMessage() for r in records], cached, result.exit_code, result.stderr.strip()))

    messages, cached, code, stderr = eval(as_other_user(train, uid=54321))  # noqa: S307 (our own repr)
    expected = ("no cache folder: HOME is not set and this user has no home directory; set GENVAL_CACHE to a "
                "folder")
    assert messages == [f"cannot use the genval cache ({expected}); training the autoencoder without caching it"]
    assert not cached and code == 1 and stderr == f"Error: {expected}"


def _planted_link(folder, path, victim):
    path.symlink_to(victim)


def _fifo(folder, path, victim):
    os.mkfifo(path)


ENTRY_PROBLEMS = {
    "link to another file": (_planted_link, r"is a symbolic link, not a model genval wrote"),
    "FIFO": (_fifo, r"is not a regular file \(a pipe, a socket or a device\)"),
}


@pytest.mark.parametrize("problem", list(ENTRY_PROBLEMS))
def test_what_stands_at_an_entry_is_never_followed_opened_or_replaced(tmp_path, monkeypatch, caplog, problem):
    plant, reason = ENTRY_PROBLEMS[problem]
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    victim = tmp_path / "thesis.txt"
    victim.write_bytes(b"25 bytes of someone's work")
    emojis = load_dataset("emojis")
    path = entry_path(emojis, "autoencoder", SMALL)
    plant(tmp_path / "cache", path, victim)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("blocked on the entry"))
    signal.alarm(60)
    try:
        with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
            model, cached = cached_model(emojis, "autoencoder", SMALL, small)
    finally:
        signal.alarm(0)
    assert not cached and model.n_epochs_ == 30
    assert re.fullmatch(rf"{re.escape(str(path))} {reason}; training the autoencoder without caching it "
                        r"\(remove it to cache the model\)", one_warning(caplog))
    assert victim.read_bytes() == b"25 bytes of someone's work"
    assert os.path.lexists(path) and not path.is_file() or path.is_symlink()


def test_a_link_planted_by_another_user_in_a_shared_folder_never_overwrites_the_victims_file(
        shared_folder, as_other_user, monkeypatch, caplog):
    shared_folder.chmod(0o1777)  # /tmp-like: everyone may add files, only their owner may remove them
    monkeypatch.setenv("GENVAL_CACHE", str(shared_folder))
    victim = shared_folder.parent / f"{shared_folder.name}-victim.txt"  # the user running genval owns it
    victim.write_bytes(b"25 bytes of someone's work")
    emojis = load_dataset("emojis")
    path = entry_path(emojis, "autoencoder", SMALL)
    assert as_other_user(lambda: path.symlink_to(victim) or "planted") == "planted"
    try:
        with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
            model, cached = cached_model(emojis, "autoencoder", SMALL, small)
        assert not cached and "is a symbolic link, not a model genval wrote" in one_warning(caplog)
        assert victim.read_bytes() == b"25 bytes of someone's work" and path.is_symlink()
        # Planted between the check and the save: the rename replaces the link, never its target.
        model.save(path, follow_links=False)
        assert victim.read_bytes() == b"25 bytes of someone's work"
    except GenvalError as exc:  # the sticky folder keeps the other user's link: fine too
        assert "Operation not permitted" in str(exc)
    finally:
        victim.unlink()


def test_an_entry_of_another_user_is_not_loaded(tmp_path, monkeypatch, caplog):
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    cached_model(emojis, "autoencoder", SMALL, small)
    path = entry_path(emojis, "autoencoder", SMALL)
    os.chown(path, 65534, 65534)
    with caplog.at_level(logging.WARNING, logger="genval.models._cache"):
        _, cached = cached_model(emojis, "autoencoder", SMALL, small)
    assert not cached and one_warning(caplog).startswith(f"{path} belongs to another user (uid 65534)")
