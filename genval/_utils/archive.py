"""Reading genval's own ``.npz`` files (models and maps) as untrusted input.

A genval file is a zip of a few ``.npy`` members: a JSON ``config`` and some
float or integer arrays. Whoever hands genval such a file may have damaged it,
truncated it or crafted it, so :class:`NpzArchive` checks, in this order, and
before it reads any data:

1. the file's size against the memory budget (:mod:`genval._utils.budget`), and the
   zip's directory: how many members it lists and in how many bytes;
2. each member's name, compression and flags (stored or deflated only);
3. each member's ``.npy`` header, read by a linear expression (numpy's own
   parser evaluates the header as a Python literal and needs up to ~500 bytes of
   memory per header byte): its dtype, and its shape against what the caller
   expects;
4. the member's real size against the header, and the bytes to be held
   (member plus the caller's copies) against the budget.

Only then are exactly the announced bytes read. Every failure is one
:class:`~genval.errors.ModelFileError` line naming the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import re
import struct
import sys
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from genval._utils.budget import _size, chunk_rows, memory_budget
from genval._utils.values import is_int  # where latent._som and the checks of fingerprints import it from
from genval.errors import ModelFileError

__all__ = ["NpzArchive", "brief", "fingerprint", "is_fingerprint", "is_int", "open_archive", "printable"]

MAX_DIRECTORY = 64 * 1024  # bytes of zip directory; a genval file's few members need a few hundred
MAX_HEADER = 10_000  # bytes of a .npy header: numpy's own max_header_size; it writes a few hundred
# Bytes of Python objects per byte of a config's UTF-32 text, parsed and checked: measured 2.0 (distinct
# integers) to 6.7 (empty objects); deep nesting adds a fixed ~170 KB, bounded by Python's recursion limit.
CONFIG_COST = 7
# The header numpy writes (its dictionary literal, space-padded, one newline): read with this expression,
# in linear time and a few kilobytes (the possessive ++ keeps no backtracking state per dimension), instead of
# numpy's parser, which evaluates the literal as Python and needs up to ~500 bytes of memory per header byte
# (5 MB for a 10 KB header of digits). Every header genval writes is one of these.
_NPY_HEADER = re.compile(r"\{'descr': '(?P<descr>[^'\\\x00-\x1f]{1,32})', 'fortran_order': (?:False|True), "
                         r"'shape': \((?P<shape>|\d{1,30},|\d{1,30}(?:, \d{1,30})++)\),? ?\} *\n?")
_KINDS = {"f": ("float32 or float64", lambda d: d.kind == "f" and d.itemsize in (4, 8)),
          "i": ("int32 or int64", lambda d: d.kind == "i" and d.itemsize in (4, 8)),
          "U": ("text", lambda d: d.kind == "U")}


def fingerprint(X: np.ndarray, title: str = "") -> dict:
    """Sizes, title and SHA-256 of the data an estimator was fitted on, hashed chunk by chunk as float32.

    What a model (``training_data_``: the pixels) and a map (the codes) record
    and write in their files, so that one used on other data can say so.

    >>> record = fingerprint(np.zeros((3, 2)), "zeros")
    >>> record["n_items"], record["n_features"], record["title"], len(record["sha256"])
    (3, 2, 'zeros', 64)
    """
    digest = hashlib.sha256()
    rows = chunk_rows(4 * X.shape[1])  # one chunk's float32 copy
    # Values past float32's range hash as +-inf, quietly: the record tells data apart, checking it is not its job.
    with np.errstate(over="ignore"):
        for start in range(0, len(X), rows):
            digest.update(np.ascontiguousarray(X[start:start + rows], dtype="<f4"))
    return {"n_items": int(len(X)), "n_features": int(X.shape[1]), "title": printable(title),
            "sha256": digest.hexdigest()}


def is_fingerprint(value, n_features: int) -> bool:
    """Whether ``value`` (read from a file) is a :func:`fingerprint` of data with ``n_features`` columns."""
    return (isinstance(value, dict) and set(value) == {"n_items", "n_features", "title", "sha256"}
            and is_int(value["n_items"], 1, 2**63 - 1) and is_int(value["n_features"], n_features, n_features)
            and isinstance(value["title"], str) and len(value["title"]) <= 200 and value["title"].isprintable()
            and isinstance(value["sha256"], str) and re.fullmatch(r"[0-9a-f]{64}", value["sha256"]) is not None)


def printable(text: str, limit: int = 200) -> str:
    """``text`` with control characters escaped, cut to ``limit`` characters, safe to print."""
    text = text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def brief(value, limit: int = 80) -> str:
    """A short one-line rendering of a value or an exception, for messages."""
    if isinstance(value, BaseException):
        text = str(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=True)
        except (TypeError, ValueError, RecursionError):
            text = repr(value)
    text = " ".join(text.split())
    return printable(text, limit)


def npy_header(raw: bytes) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype of a .npy header as numpy writes it; ValueError, TypeError or a Warning else."""
    match = _NPY_HEADER.fullmatch(raw.decode("latin-1"))
    if match is None:
        raise ValueError(f"expected {{'descr': ..., 'fortran_order': ..., 'shape': (...), }}, got {brief(raw)}")
    shape = tuple(int(n[0]) for n in re.finditer(r"\d+", match["shape"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's deprecated aliases ('a') as errors too
        return shape, np.dtype(match["descr"])


@contextlib.contextmanager
def open_archive(path, members: tuple[str, ...], what: str):
    """An :class:`NpzArchive` of ``path``; a read error anywhere inside the block becomes a ModelFileError."""
    path = Path(path)
    try:
        with NpzArchive(path, members, what) as archive:
            yield archive
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        kind = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__
        raise ModelFileError(f"{path}: not a readable genval {what} ({kind}: {brief(exc)})") from None


class NpzArchive:
    """The members of a genval ``.npz`` file, each read only after its header was checked.

    Parameters
    ----------
    path : Path
    members : tuple of str
        The members the file may hold (without ``.npy``); ``config`` first.
    what : str
        "model" or "map": how messages name the file.
    """

    def __init__(self, path: Path, members: tuple[str, ...], what: str):
        self.path, self.names, self.what = path, members, what
        self._fh = self._zip = None

    def __enter__(self) -> "NpzArchive":
        path = self.path
        if not path.exists():
            raise ModelFileError(f"{path}: no such {self.what} file")
        if not path.is_file():
            raise ModelFileError(f"{path}: not a file; expected a genval {self.what} (.npz)")
        self._fh = open(path, "rb")
        try:
            self._check_directory()
            with self._zip_features():
                self._zip = zipfile.ZipFile(self._fh)
            self._members = self._list_members()
        except BaseException:
            self._fh.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self._zip is not None:
            self._zip.close()
        self._fh.close()

    def damaged(self, why: str) -> ModelFileError:
        """The error for a file that is a genval file but damaged: ``why`` says how."""
        return ModelFileError(f"{self.path}: damaged genval {self.what} ({why})")

    @contextlib.contextmanager
    def _zip_features(self):
        """zipfile's refusals of what it cannot read (a newer zip version, patched data, a name
        flagged UTF-8 that is not), as one ModelFileError."""
        try:
            yield
        except (NotImplementedError, UnicodeDecodeError) as exc:
            raise self.damaged(f"its zip structure is not one genval writes: {brief(exc)}") from None

    def _check_directory(self) -> None:
        """Refuse, before zipfile reads it, a file too big for the budget or a zip directory of many members."""
        path, fh = self.path, self._fh
        size = fh.seek(0, 2)
        budget = memory_budget()
        if size > budget:
            raise ModelFileError(f"{path}: {_size(size)} on disk, more than the memory budget of {_size(budget)}; "
                                 "raise GENVAL_MEMORY_BUDGET to load it")
        tail_len = min(size, 22 + 65535)
        fh.seek(size - tail_len)
        tail = fh.read(tail_len)
        fh.seek(0)
        # Where zipfile looks: the last 22 bytes, else the last signature (a comment follows it).
        at = len(tail) - 22 if tail[-22:-18] == b"PK\x05\x06" else tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < 22:
            raise ModelFileError(f"{path}: not a readable genval {self.what} (not a zip archive, or truncated)")
        entries, directory = struct.unpack_from("<HI", tail, at + 10)
        if at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":  # a zip64 record overrides both
            raise self.damaged(f"a zip64 archive; a genval {self.what} is a small zip")
        if entries > 4 * len(self.names) or directory > MAX_DIRECTORY:  # a few extra: named below
            raise self.damaged(f"its zip directory lists {entries} members in {directory} bytes; "
                               f"a {self.what} has at most {len(self.names)}")

    def _list_members(self) -> dict:
        infos = self._zip.infolist()
        if "config.npy" not in [info.filename for info in infos]:
            raise ModelFileError(f"{self.path}: not a genval {self.what} (no config inside)")
        members = {}
        for info in infos:
            name = info.filename[:-4] if info.filename.endswith(".npy") else None
            if name not in self.names:
                raise self.damaged(f"unexpected member {brief(info.filename)}; a {self.what} holds "
                                   f"{', '.join(m + '.npy' for m in self.names)}")
            if name in members:
                raise self.damaged(f"{info.filename} appears twice")
            if info.flag_bits & 0x1:
                raise self.damaged(f"{info.filename} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self.damaged(f"{info.filename} uses zip compression method {info.compress_type}; "
                                   "expected stored or deflated")
            members[name] = info
        return members

    def has(self, name: str) -> bool:
        return name in self._members

    def size(self, name: str) -> int:
        """The uncompressed bytes of member ``name`` (0 when absent), as its zip entry says."""
        return self._members[name].file_size if name in self._members else 0

    def require(self, names: tuple[str, ...]) -> None:
        """Refuse a file that lacks one of ``names``."""
        missing = [m for m in names if m not in self._members]
        if missing:
            raise self.damaged(f"missing {', '.join(missing)}")

    def reserve(self, extra: int, what: str, members: tuple[str, ...] | None = None) -> None:
        """Refuse a load whose members (uncompressed) plus ``extra`` bytes exceed the budget."""
        names = self.names if members is None else members
        need = sum(self._members[m].file_size for m in names if m in self._members) + extra
        budget = memory_budget()
        if need > budget:
            raise ModelFileError(f"{self.path}: {what} would need about {_size(need)}, more than the memory "
                                 f"budget of {_size(budget)}; raise GENVAL_MEMORY_BUDGET to load it")

    def _read(self, name: str, kind: str, shape: tuple, mismatch: str, extra: int = 0,
              members: tuple[str, ...] | None = None) -> tuple[bytes, np.dtype, tuple]:
        """A member's data bytes, read only after its header promised ``kind`` and ``shape`` (None: any length)
        and the budget holds ``members`` plus ``extra`` bytes."""
        info = self._members[name]
        with self._zip_features():
            fp = self._zip.open(info)
        with fp:
            try:
                # Magic, version and the header's length first: numpy would read a header of any announced
                # length (4 GB in version 2.0) before refusing it.
                head = fp.read(12)
                version = np.lib.format.read_magic(io.BytesIO(head))
                if version not in ((1, 0), (2, 0)):
                    raise ValueError(f".npy format version {version}, expected 1.0 or 2.0")
                width = 2 if version == (1, 0) else 4
                length = int.from_bytes(head[8:8 + width], "little")
                if length > MAX_HEADER:
                    raise ValueError(f"its header announces {length} bytes, more than {MAX_HEADER}")
                header_end = 8 + width + length
                found, dtype = npy_header((head + fp.read(header_end - len(head)))[8 + width:])
            except (ValueError, TypeError, Warning) as exc:
                raise self.damaged(f"{name}.npy has no valid array header: {brief(exc)}") from None
            expected, ok = _KINDS[kind]
            if not ok(dtype) or dtype.fields is not None:
                raise self.damaged(f"{name}.npy holds {printable(str(dtype), 40)}, expected {expected}")
            if len(found) != len(shape) or any(n < 0 or (want is not None and n != want)
                                               for n, want in zip(found, shape)):
                want = str(tuple("n" if w is None else w for w in shape)).replace("'", "")
                raise self.damaged(f"{mismatch}: {name}.npy has shape {printable(str(found), 60)}, expected {want}")
            nbytes = math.prod(found) * dtype.itemsize
            held = info.file_size - header_end
            if held != nbytes:
                raise self.damaged(f"{name}.npy holds {held} bytes of data, its header announces {nbytes}")
            self.reserve(extra, "its config" if name == "config" else "its arrays", members)
            data = fp.read(nbytes)
            if len(data) != nbytes or fp.read(1):
                raise self.damaged(f"{name}.npy is shorter or longer than its zip entry says")
        return data, dtype, found

    def array(self, name: str, shape: tuple, mismatch: str, extra: int = 0, kind: str = "f") -> np.ndarray:
        """A float (``kind`` "f") or integer ("i") array member of ``shape`` (None entries: any length);
        ``extra``: bytes for its copies."""
        data, dtype, found = self._read(name, kind, tuple(shape), mismatch, extra)
        return np.frombuffer(data, dtype=dtype).reshape(found)

    def config(self, fmt: str, version: int) -> dict:
        """The JSON config, checked for being a genval file of format ``fmt`` and ``version``."""
        if "config" not in self._members:
            raise ModelFileError(f"{self.path}: not a genval {self.what} (no config inside)")
        size = self._members["config"].file_size
        data, dtype, _ = self._read("config", "U", (), "the config is not one text", (CONFIG_COST - 1) * size,
                                    members=("config",))
        big = dtype.byteorder == ">" or (dtype.byteorder == "=" and sys.byteorder == "big")
        try:
            # Python's UTF-32 codec refuses surrogates and code points past U+10FFFF (numpy would crash on them).
            text = data.decode("utf-32-be" if big else "utf-32-le").rstrip("\x00")
            config = json.loads(text)
            # JSON escapes can still spell a lone surrogate, which no terminal or file could print.
            json.dumps(config, ensure_ascii=False).encode("utf-8")
        except UnicodeError:
            raise self.damaged("its config is not valid Unicode text") from None
        except (ValueError, RecursionError) as exc:
            raise self.damaged(f"its config is not valid JSON: {brief(exc)}") from None
        path = self.path
        if not isinstance(config, dict) or config.get("format") != fmt:
            raise ModelFileError(f"{path}: not a genval {self.what} file")
        if config.get("version") != version:
            raise ModelFileError(f"{path}: genval {self.what} version {brief(config.get('version'), 40)}, "
                                 f"this genval reads {version}")
        return config
