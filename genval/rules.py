"""Rule files: structural checks written as TOML.

A rule file names regions of the grid and what must hold in each, plus which
generic checks apply (see :mod:`genval.validity`)::

    title = "emojis: two eyes and a mouth"
    shape = [7, 5]                 # optional: the grid the rules are for

    [[rule]]
    name = "eyes"
    rows = [1, 4]                  # 1-based, inclusive
    cols = [1, 5]                  # optional, default every column
    components = 2                 # exactly 2; or [1, 3]; or {min = 1}
    connectivity = 8               # 4 or 8 (default 8)
    reach = [[1, 2], [4, 5]]       # column ranges distinct components must reach
    min_span = 3                   # every component spans at least 3 columns
    ink = [2, 10]                  # ink pixels in the region

    [generic]
    checks = ["not_empty", "ink_range", "component_range", "isolated_pixels"]
    max_hamming = 3                # optional: at most 3 pixels from a training item

Read with the standard library's ``tomllib``. Any mistake (bad TOML, an
unknown key, a region outside the grid, a wrong type) is a
:class:`RuleFileError` naming the file, the rule and what was expected.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from genval.bitmaps import BitmapSet
from genval.errors import GenvalError
from genval.validity import GENERIC_CHECKS, CheckSet, Rule

__all__ = ["RuleFileError", "bundled_rules", "default_checks", "load_rules", "parse_rules"]

RULE_KEYS = ("name", "rows", "cols", "components", "connectivity", "reach", "min_span", "ink")
TOP_KEYS = ("title", "shape", "rule", "generic")
GENERIC_KEYS = ("checks", "max_hamming")


class RuleFileError(GenvalError, ValueError):
    """A rule file that cannot be used; the message names the file and the rule."""


def _pair(value, what: str) -> tuple[int, int]:
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                             for v in value)):
        return value[0], value[1]
    raise ValueError(f"{what} must be [first, last] (two integers), got {value!r}")


def _count(value, what: str) -> tuple[int, int | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        bounds = (value, value)
    elif isinstance(value, list):
        bounds = _pair(value, what)
    elif isinstance(value, dict) and set(value) <= {"min", "max"} and "min" in value:
        bounds = (value["min"], value.get("max"))
        if not all(isinstance(v, int) for v in bounds if v is not None):
            raise ValueError(f"{what} bounds must be integers, got {value!r}")
    else:
        raise ValueError(f"{what} must be an integer, [min, max] or {{min = N}}, got {value!r}")
    lo, hi = bounds
    if lo < 0 or (hi is not None and hi < lo):
        raise ValueError(f"{what} must satisfy 0 <= min <= max, got {value!r}")
    return bounds


def _rule(table: dict, index: int) -> Rule:
    name = table.get("name", f"rule {index + 1}")
    if not isinstance(name, str) or not name:
        raise ValueError("name must be a non-empty string")
    unknown = sorted(set(table) - set(RULE_KEYS))
    if unknown:
        raise ValueError(f"unknown key {', '.join(map(repr, unknown))}; expected {', '.join(RULE_KEYS)}")
    if "rows" not in table:
        raise ValueError("missing key 'rows' (the region's rows, [first, last], 1-based)")
    connectivity = table.get("connectivity", 8)
    if connectivity not in (4, 8) or isinstance(connectivity, bool):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    reach = table.get("reach", [])
    if not isinstance(reach, list):
        raise ValueError(f"reach must be a list of [first, last] column ranges, got {reach!r}")
    min_span = table.get("min_span")
    if min_span is not None and (not isinstance(min_span, int) or isinstance(min_span, bool) or min_span < 1):
        raise ValueError(f"min_span must be a positive integer, got {min_span!r}")
    return Rule(
        name=name,
        rows=_pair(table["rows"], "rows"),
        cols=_pair(table["cols"], "cols") if "cols" in table else None,
        components=_count(table["components"], "components") if "components" in table else None,
        connectivity=connectivity,
        reach=tuple(_pair(r, "each reach range") for r in reach),
        min_span=min_span,
        ink=_count(table["ink"], "ink") if "ink" in table else None,
    )


def parse_rules(text: str, training: BitmapSet, source: str = "<string>") -> CheckSet:
    """Build the checks a rule file describes for the items of ``training``.

    Parameters
    ----------
    text : str
        TOML.
    training : BitmapSet
        Gives the grid shape and the ranges of the generic checks.
    source : str
        File name for messages.

    Raises
    ------
    RuleFileError

    Examples
    --------
    >>> from genval import load_dataset
    >>> text = 'title = "inky top"\\n[[rule]]\\nname = "top"\\nrows = [1, 2]\\nink = {min = 1}\\n'
    >>> checks = parse_rules(text, load_dataset("emojis"))
    >>> checks.title, checks.names
    ('inky top', ('top',))
    >>> parse_rules("[[rule]]\\nname = 'top'\\nrows = [1, 9]\\n", load_dataset("emojis"), "top.toml")
    Traceback (most recent call last):
      ...
    genval.rules.RuleFileError: top.toml: rule 'top': rows 1-9 outside the 7x5 grid (expected 1 <= first <= last <= 7)
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(f"{source}: not valid TOML ({exc})") from None
    unknown = sorted(set(doc) - set(TOP_KEYS))
    if unknown:
        raise RuleFileError(f"{source}: unknown key {', '.join(map(repr, unknown))}; expected {', '.join(TOP_KEYS)}")
    shape = tuple(training.shape)
    if "shape" in doc and tuple(doc["shape"]) != shape:
        raise RuleFileError(f"{source}: the rules are for {doc['shape'][0]}x{doc['shape'][1]} bitmaps, "
                            f"but {training.title or 'the set'} is {shape[0]}x{shape[1]}")
    tables = doc.get("rule", [])
    if not isinstance(tables, list):
        raise RuleFileError(f"{source}: 'rule' must be an array of tables ([[rule]] sections)")
    rules = []
    for i, table in enumerate(tables):
        label = table.get("name", f"rule {i + 1}") if isinstance(table, dict) else f"rule {i + 1}"
        try:
            rules.append(_rule(table, i))
        except ValueError as exc:
            raise RuleFileError(f"{source}: rule {label!r}: {exc}") from None
    generic = doc.get("generic", {})
    if not isinstance(generic, dict):
        raise RuleFileError(f"{source}: [generic] must be a table")
    bad = sorted(set(generic) - set(GENERIC_KEYS))
    if bad:
        raise RuleFileError(f"{source}: [generic]: unknown key {', '.join(map(repr, bad))}; "
                            f"expected {', '.join(GENERIC_KEYS)}")
    checks = generic.get("checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise RuleFileError(f"{source}: [generic]: checks must be a list of names from {', '.join(GENERIC_CHECKS)}")
    max_hamming = generic.get("max_hamming")
    if max_hamming is not None and (not isinstance(max_hamming, int) or max_hamming < 0):
        raise RuleFileError(f"{source}: [generic]: max_hamming must be an integer >= 0, got {max_hamming!r}")
    if not rules and not checks and max_hamming is None:
        raise RuleFileError(f"{source}: no checks; expected [[rule]] sections or [generic] checks")
    try:
        return CheckSet.from_rules(rules, shape, training, tuple(checks), max_hamming,
                                   title=str(doc.get("title", Path(source).name)))
    except ValueError as exc:
        raise RuleFileError(f"{source}: {exc}") from None


def load_rules(path: str | os.PathLike, training: BitmapSet) -> CheckSet:
    """Read a rule file (see :func:`parse_rules`).

    Raises
    ------
    RuleFileError
        For a missing file too.
    """
    path = Path(path)
    if not path.is_file():
        raise RuleFileError(f"{path}: no such rule file")
    return parse_rules(path.read_text(encoding="utf-8"), training, source=str(path))


def bundled_rules(name: str, training: BitmapSet) -> CheckSet:
    """A rule file shipped with genval: ``"emojis"`` (the same verdicts as :func:`check_emoji`).

    Examples
    --------
    >>> from genval import load_dataset
    >>> bundled_rules("emojis", load_dataset("emojis")).title
    'emojis: two eyes and a mouth'
    """
    text = resources.files("genval.datasets").joinpath(f"{name}.rules.toml").read_text(encoding="utf-8")
    return parse_rules(text, training, source=f"{name}.rules.toml")


def default_checks(training: BitmapSet) -> CheckSet:
    """The checks an audit uses when none are given.

    The bundled emoji set gets its rule file (two eyes, a mouth); every other
    set gets the generic checks fitted on its items.

    Examples
    --------
    >>> from genval import load_dataset
    >>> default_checks(load_dataset("emojis")).names
    ('eyes', 'mouth')
    >>> default_checks(load_dataset("font")).names
    ('not_empty', 'ink_range', 'component_range', 'isolated_pixels')
    """
    if training.title == "emojis":
        return bundled_rules("emojis", training)
    return CheckSet.generic(training)
