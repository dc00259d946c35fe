"""Rule files: structural checks written as TOML.

A rule file names regions of the grid and what must hold in each, plus which
generic checks apply (see :mod:`genval.checks._validity`)::

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

    [classifier]                   # labelled sets only: see genval.checks._classifier
    threshold = 0.5                # optional: most of the forest's trees name one class

Read with the standard library's ``tomllib``. Any mistake (bad TOML, an
unknown key, a region outside the grid, a wrong type) is a
:class:`RuleFileError` naming the file, the rule and what was expected.
"""

from __future__ import annotations

import os
import unicodedata
from importlib import resources
from pathlib import Path

from genval._utils.files import parse_toml, read_small_text
from genval.data._bitmap_set import BitmapSet
from genval.errors import GenvalError
from genval.checks._rule_regions import MAX_REACH, Rule
from genval.checks._validity import GENERIC_CHECKS, CheckSet

__all__ = ["MAX_RULES", "MAX_RULE_FILE_BYTES", "RuleFileError", "bundled_rules", "default_checks", "load_rules",
           "parse_rules"]

RULE_KEYS = ("name", "rows", "cols", "components", "connectivity", "reach", "min_span", "ink")
TOP_KEYS = ("title", "shape", "rule", "generic", "classifier")
CLASSIFIER_KEYS = ("threshold",)
GENERIC_KEYS = ("checks", "max_hamming")
# Refused above these: a rule file is a few dozen lines, and each rule costs a labelling of every audited batch.
MAX_RULE_FILE_BYTES = 1 << 20
MAX_RULES = 1000


class RuleFileError(GenvalError, ValueError):
    """A rule file that cannot be used; the message names the file and the rule."""


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value, what: str) -> str:
    """A non-empty string without control characters (it is printed in reports and messages)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValueError(f"{what} must be printable text, got {value!r} (control characters)")
    return value


def _pair(value, what: str) -> tuple[int, int]:
    if isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value):
        return value[0], value[1]
    raise ValueError(f"{what} must be [first, last] (two integers), got {value!r}")


def _count(value, what: str) -> tuple[int, int | None]:
    if _is_int(value):
        bounds = (value, value)
    elif isinstance(value, list):
        bounds = _pair(value, what)
    elif isinstance(value, dict) and set(value) <= {"min", "max"} and "min" in value:
        bounds = (value["min"], value.get("max"))
        if not all(_is_int(v) for v in bounds if v is not None):
            raise ValueError(f"{what} bounds must be integers, got {value!r}")
    else:
        raise ValueError(f"{what} must be an integer, [min, max] or {{min = N}}, got {value!r}")
    lo, hi = bounds
    if lo < 0 or (hi is not None and hi < lo):
        raise ValueError(f"{what} must satisfy 0 <= min <= max, got {value!r}")
    return bounds


def _rule(table: dict, index: int) -> Rule:
    name = _text(table.get("name", f"rule {index + 1}"), "name")
    unknown = sorted(set(table) - set(RULE_KEYS))
    if unknown:
        raise ValueError(f"unknown key {', '.join(map(repr, unknown))}; expected {', '.join(RULE_KEYS)}")
    if "rows" not in table:
        raise ValueError("missing key 'rows' (the region's rows, [first, last], 1-based)")
    connectivity = table.get("connectivity", 8)
    if not _is_int(connectivity) or connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    reach = table.get("reach", [])
    if not isinstance(reach, list):
        raise ValueError(f"reach must be a list of [first, last] column ranges, got {reach!r}")
    if len(reach) > MAX_REACH:
        raise ValueError(f"reach has {len(reach)} column ranges, more than the limit of {MAX_REACH}")
    min_span = table.get("min_span")
    if min_span is not None and (not _is_int(min_span) or min_span < 1):
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


def _shape(value) -> tuple[int, int]:
    if isinstance(value, list) and len(value) == 2 and all(_is_int(v) and v >= 1 for v in value):
        return value[0], value[1]
    raise ValueError(f"shape must be [rows, columns] (two integers >= 1), e.g. [7, 5], got {value!r}")


def _label(table, index: int) -> str:
    """A rule's name for messages, whatever its table holds."""
    name = table.get("name") if isinstance(table, dict) else None
    try:
        return _text(name, "name")
    except ValueError:
        return f"rule {index + 1}"


def parse_rules(text: str, training: BitmapSet, source: str = "<string>") -> CheckSet:
    """Build the checks a rule file describes for the items of ``training``.

    Every key's type is checked before it is used; at most
    :data:`MAX_RULES` rules, and :data:`~genval.checks.MAX_REACH` reach
    ranges per rule.

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
        Naming ``source``, the rule (or the top-level key) and what was
        expected; nothing else, whatever ``text`` holds.

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
    genval.checks._rules.RuleFileError: top.toml: rule 'top': rows 1-9 outside the 7x5 grid (expected 1 <= first <= last <= 7)
    >>> parse_rules("shape = 5\\n", load_dataset("emojis"), "r.toml")
    Traceback (most recent call last):
      ...
    genval.checks._rules.RuleFileError: r.toml: shape must be [rows, columns] (two integers >= 1), e.g. [7, 5], got 5
    """
    doc = parse_toml(text, source, MAX_RULE_FILE_BYTES, RuleFileError, "a rule file")
    unknown = sorted(set(doc) - set(TOP_KEYS))
    if unknown:
        raise RuleFileError(f"{source}: unknown key {', '.join(map(repr, unknown))}; expected {', '.join(TOP_KEYS)}")
    shape = tuple(training.shape)
    try:
        title = _text(doc["title"], "title") if "title" in doc else Path(source).name
        wanted = _shape(doc["shape"]) if "shape" in doc else shape
    except ValueError as exc:
        raise RuleFileError(f"{source}: {exc}") from None
    if wanted != shape:
        raise RuleFileError(f"{source}: the rules are for {wanted[0]}x{wanted[1]} bitmaps, "
                            f"but {training.title or 'the set'} is {shape[0]}x{shape[1]}")
    rules = _rule_sections(doc.get("rule", []), source)
    checks, max_hamming = _generic_section(doc.get("generic", {}), source)
    classifier = _classifier(doc.get("classifier"), training, source)
    if not rules and not checks and max_hamming is None and classifier is None:
        raise RuleFileError(f"{source}: no checks; expected [[rule]] sections, [generic] checks or [classifier]")
    try:
        found = CheckSet.from_rules(rules, shape, training, tuple(checks), max_hamming, title=title)
        return found if classifier is None else found.with_classifier(classifier)
    except ValueError as exc:
        raise RuleFileError(f"{source}: {exc}") from None


def _rule_sections(tables, source: str) -> list[Rule]:
    """The ``[[rule]]`` sections as rules, in order."""
    if not isinstance(tables, list):
        raise RuleFileError(f"{source}: 'rule' must be an array of tables ([[rule]] sections)")
    if len(tables) > MAX_RULES:
        raise RuleFileError(f"{source}: {len(tables):,} rules, more than the limit of {MAX_RULES:,}")
    rules = []
    for i, table in enumerate(tables):
        label = _label(table, i)
        if not isinstance(table, dict):
            raise RuleFileError(f"{source}: rule {label!r}: must be a table ([[rule]] section), got {table!r}")
        try:
            rules.append(_rule(table, i))
        except ValueError as exc:
            raise RuleFileError(f"{source}: rule {label!r}: {exc}") from None
    return rules


def _generic_section(generic, source: str) -> tuple[list[str], int | None]:
    """The ``[generic]`` table: the generic checks' names and ``max_hamming`` (None when absent)."""
    if not isinstance(generic, dict):
        raise RuleFileError(f"{source}: [generic] must be a table")
    _known_keys(generic, GENERIC_KEYS, f"{source}: [generic]")
    checks = generic.get("checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise RuleFileError(f"{source}: [generic]: checks must be a list of names from {', '.join(GENERIC_CHECKS)}")
    max_hamming = generic.get("max_hamming")
    if max_hamming is not None and (not _is_int(max_hamming) or max_hamming < 0):
        raise RuleFileError(f"{source}: [generic]: max_hamming must be an integer >= 0, got {max_hamming!r}")
    return checks, max_hamming


def _known_keys(table: dict, known: tuple[str, ...], where: str) -> None:
    bad = sorted(set(table) - set(known))
    if bad:
        raise RuleFileError(f"{where}: unknown key {', '.join(map(repr, bad))}; expected {', '.join(known)}")


def _classifier(table, training: BitmapSet, source: str):
    """The ``[classifier]`` table: a classifier fitted on the labelled training items, or None."""
    if table is None:
        return None
    from genval.checks._classifier import DEFAULT_THRESHOLD, ClassifierCheck

    if not isinstance(table, dict):
        raise RuleFileError(f"{source}: [classifier] must be a table")
    _known_keys(table, CLASSIFIER_KEYS, f"{source}: [classifier]")
    threshold = table.get("threshold", DEFAULT_THRESHOLD)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise RuleFileError(f"{source}: [classifier]: threshold must be a probability in (0, 1], got {threshold!r}")
    try:
        return ClassifierCheck.fit(training, threshold)
    except ValueError as exc:
        raise RuleFileError(f"{source}: [classifier]: {exc}") from None


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
    text = read_small_text(path, MAX_RULE_FILE_BYTES, RuleFileError, "a rule file")
    return parse_rules(text, training, source=str(path))


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
