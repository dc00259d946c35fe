"""What genval's estimators share besides scikit-learn's base classes.

One random Generator from a ``random_state``, and the files: reading text
files, and writing atomically. Reading genval's own ``.npz`` files is
:mod:`genval._utils.archive`.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import tomllib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from genval._utils.budget import MemoryBudgetError, read_at_most
from genval.errors import GenvalError


def resolve_rng(random_state) -> np.random.Generator:
    """One Generator from an int seed, a Generator (used as is) or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be an int, a numpy Generator or None, got {type(random_state).__name__}")


TEMPORARY_PATTERN = re.compile(r"\..+\.genval-(\d+)-[^.]+\.tmp")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):  # another user's process, or not ours to judge: keep it
        return True
    return True


def remove_stale_temporaries(folder) -> list[Path]:
    """Delete the temporary files a killed genval left in ``folder``; return what was removed.

    :func:`atomic_write` names its temporary ``.NAME.genval-PID-XXXXXXXX.tmp``;
    one whose process no longer runs was left by a run killed before it could
    clean up (SIGKILL, a power cut). A PID that is alive, reused or not, keeps
    its file: only the dead are removed. A file that vanishes meanwhile (a
    concurrent run cleaning too) is not an error.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / ".runs.csv.genval-999999999-abcd1234.tmp").write_text("half")
    >>> [p.name for p in remove_stale_temporaries(folder)]
    ['.runs.csv.genval-999999999-abcd1234.tmp']
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = TEMPORARY_PATTERN.fullmatch(entry.name)
        if match and not _pid_alive(int(match.group(1))):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except FileNotFoundError:
                pass
            except OSError:  # not ours to remove (a read-only folder): leave it
                pass
    return removed


def read_only(path) -> str | None:
    """Why the existing file ``path`` must not be replaced, or None.

    A file nobody may write (mode ``0444``: what ``rm`` calls write-protected,
    and asks about even when root runs it), or one this user may not write,
    is read-only: replacing it by a rename would get around the permission
    the shell's ``>`` respects.

    >>> import tempfile
    >>> ro = Path(tempfile.mkdtemp()) / "ro.csv"
    >>> _ = ro.write_text("keep"); ro.chmod(0o444)
    >>> read_only(ro)
    'Permission denied (the file is read-only)'
    >>> ro.chmod(0o644); read_only(ro) is None
    True
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) and (not mode & 0o222 or not os.access(path, os.W_OK)):
        return "Permission denied (the file is read-only)"
    return None


@contextmanager
def atomic_write(path, mode: str = "wb", *, follow_links: bool = True):
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    An exception leaves ``path`` untouched and no temporary behind. The
    temporary is named ``.NAME.genval-PID-XXXXXXXX.tmp``, so that one left by a
    killed run (SIGKILL leaves no chance to clean up) is recognised and removed
    by the next write to the same folder (:func:`remove_stale_temporaries`).
    A new file gets the permissions any new file would (``0o666`` less the
    umask), not the owner-only ones of a temporary file; a file replaced keeps
    its own. A read-only file (no write permission, :func:`read_only`) is
    refused as a shell's ``>`` would refuse it, even for root. A symbolic link to
    a file stays a link (its target is replaced); a device, a pipe or a socket
    (``/dev/stdout``, a FIFO) is written in place, never replaced. With
    ``follow_links=False`` (a shared folder: the cache) nothing at ``path`` is
    ever opened or followed: whatever stands there is replaced by the rename.

    Raises
    ------
    GenvalError
        When the folder of ``path`` does not exist, or writing fails (a full
        disk, a read-only folder, a folder at ``path``): the message names
        ``path``, never the temporary file.
    """
    given = Path(path)
    try:
        kind = (os.stat if follow_links else os.lstat)(given).st_mode  # through links: what a write would reach
    except OSError:
        kind = None
    if follow_links and kind is not None and not stat.S_ISREG(kind) and not stat.S_ISDIR(kind):
        # A device, a pipe or a socket (/dev/stdout, a FIFO): written in place, as a shell's ">" would;
        # a rename would put a regular file where it was.
        try:
            with open(given, mode) as handle:
                yield handle
        except OSError as exc:
            if isinstance(exc, BrokenPipeError):
                raise
            raise GenvalError(f"cannot write {given}: {exc.strerror or exc}") from None
        return
    # A link to a file keeps being a link: its target is replaced.
    path = Path(os.path.realpath(given)) if follow_links and given.is_symlink() else given
    folder = path.parent
    if not folder.is_dir():
        raise GenvalError(f"cannot write {given}: the folder {folder} does not exist")
    if kind is not None and stat.S_ISREG(kind) and (reason := read_only(path)) is not None:
        raise GenvalError(f"cannot write {given}: {reason}")
    try:  # a file replaced keeps its permissions; a new one gets those any new file would
        if kind is None or not stat.S_ISREG(kind):
            raise FileNotFoundError
        permissions = stat.S_IMODE(os.stat(path).st_mode) & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        permissions = 0o666 & ~umask
    remove_stale_temporaries(folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.genval-{os.getpid()}-", suffix=".tmp")
    except OSError as exc:
        raise GenvalError(f"cannot write {given}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.chmod(tmp, permissions)
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            reason = "it is a folder" if path.is_dir() else (exc.strerror or str(exc))
            raise GenvalError(f"cannot write {given}: {reason}") from None
        raise


def read_small_text(path: Path, max_chars: int, error: type[GenvalError], what: str) -> str:
    """A UTF-8 text file (a byte-order mark skipped) of at most ``max_chars`` characters, or ``error`` naming it.

    A file larger than ``4 * max_chars`` bytes (UTF-8 takes at most 4 bytes a
    character) is refused unread, and a device or pipe after that many.
    """
    try:
        with open(path, "rb") as f:
            data = read_at_most(f, 4 * max_chars, str(path), what)
        return data.decode("utf-8-sig")
    except MemoryBudgetError as exc:
        raise error(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None


def parse_toml(text: str, source: str, max_chars: int, error: type[GenvalError], what: str) -> dict:
    """A TOML document of at most ``max_chars`` characters, or ``error`` naming ``source`` and why.

    What rule files and sweep files share: the size refused before parsing, and
    tomllib's refusals (invalid TOML, nesting deep enough to exhaust the stack)
    as one line.

    >>> parse_toml("a = 1", "f.toml", 100, GenvalError, "a test file")
    {'a': 1}
    >>> parse_toml("a = [" * 2000, "f.toml", 100, GenvalError, "a test file")
    Traceback (most recent call last):
      ...
    genval.errors.GenvalError: f.toml: 10,000 characters, more than the limit of 100 for a test file
    """
    if len(text) > max_chars:
        raise error(f"{source}: {len(text):,} characters, more than the limit of {max_chars:,} for {what}")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML ({exc})") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise error(f"{source}: not valid TOML (arrays or tables nested too deeply)") from None
