"""Paths and names on stdout and stderr: what the file system hands over as bytes that are not UTF-8, escaped.

Python holds each such byte of a file name as a lone surrogate, which no JSON document and no strict UTF-8
stream can hold; genval writes it as ``\\xNN``, like ``ls -b``, everywhere: in JSON through
:func:`unicode_document`, in every other line through the error handler :func:`escape_names_on_output`
installs on the streams. Both escape with :func:`genval.data._formats.unicode_name`, which names the
sets' items.
"""

from __future__ import annotations

import codecs
import sys

import click

from genval.data._formats import unicode_name


def unicode_document(document):
    """``document`` with every string (keys too) as :func:`~genval.data._formats.unicode_name`: a path or name
    whose bytes are not UTF-8 (Python holds them as lone surrogates) shows each such byte as ``\\xNN``.

    >>> unicode_document({"file": b"/tmp/x\\xfe.npz".decode("utf-8", "surrogateescape"), "n": [1, "ok"]})
    {'file': '/tmp/x\\\\xfe.npz', 'n': [1, 'ok']}
    """
    if isinstance(document, str):
        return unicode_name(document)
    if isinstance(document, dict):
        return {unicode_document(key): unicode_document(value) for key, value in document.items()}
    if isinstance(document, (list, tuple)):
        return [unicode_document(value) for value in document]
    return document


def _escape_names(error: UnicodeError):
    """A codec error handler: what a stream cannot encode (a file name's bytes that are not UTF-8) written as
    :func:`~genval.data._formats.unicode_name` writes it in JSON, ``\\xNN`` like ``ls -b``."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start:error.end]
    escaped = unicode_name(bad)
    if escaped == bad:  # valid Unicode the stream's own encoding (ASCII, Latin-1) lacks
        escaped = bad.encode("ascii", "backslashreplace").decode("ascii")
    return escaped, error.end


codecs.register_error("genval.names", _escape_names)


def escape_names_on_output() -> None:
    """Make stdout and stderr write paths and names they cannot encode escaped (:func:`_escape_names`), never
    raise: every message, table and note of a command that names a file whose bytes are not UTF-8 is then
    valid text, even under ``PYTHONIOENCODING=utf-8:strict``."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="genval.names")
        except (AttributeError, ValueError, OSError):  # not a text file of io's (a test's capture): left as it is
            pass


def one_line(message: str) -> str:
    """``message`` as one printable line: control characters (a newline, an escape sequence that would drive the
    terminal, a right-to-left override) escaped as Python writes them, a file name's bytes that are not UTF-8
    as :func:`unicode_name` writes them. For every error genval prints.

    >>> one_line("set.npz:a\\x1b]0;t\\x07\\nx: no such file")
    'set.npz:a\\\\x1b]0;t\\\\x07\\\\nx: no such file'
    """
    text = unicode_name(message)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def warn(message: str) -> None:
    """One of genval's own warnings (a stalled training): stderr, printed even with ``--quiet``, as its help says."""
    click.echo(f"warning: {message}", err=True)
