"""Rule files: every key's type checked with the file and the rule named; reach as a bipartite matching."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from genval import load_dataset
from genval.checks._rules import MAX_RULES, RuleFileError, load_rules, parse_rules
from genval.checks._rule_regions import MAX_REACH, Rule
from genval.checks._validity import CheckSet
from tomlgen import toml_value


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.mark.parametrize("text, message", [
    ("rule = [1]\n", r"^r\.toml: rule 'rule 1': must be a table \(\[\[rule\]\] section\), got 1$"),
    ("rule = 5\n", r"^r\.toml: 'rule' must be an array of tables"),
    ("shape = [7]\n", r"^r\.toml: shape must be \[rows, columns\] \(two integers >= 1\), e\.g\. \[7, 5\], got \[7\]$"),
    ("shape = []\n", r"shape must be \[rows, columns\] .* got \[\]$"),
    ("shape = 5\n", r"shape must be \[rows, columns\] .* got 5$"),
    ("shape = \"75\"\n", r"shape must be \[rows, columns\] .* got '75'$"),
    ("shape = [7, true]\n", r"shape must be \[rows, columns\] .* got \[7, True\]$"),
    ("title = 5\n", r"^r\.toml: title must be a non-empty string, got 5$"),
    ("title = \"red\\u001b[31m\"\n[[rule]]\nrows = [1, 2]\n", r"title must be printable text, got 'red\\x1b\[31m'"),
    ("[[rule]]\nname = \"a\\u0007\"\nrows = [1, 2]\n", r"rule 'rule 1': name must be printable text"),
    ("[[rule]]\nname = 3\nrows = [1, 2]\n", r"rule 'rule 1': name must be a non-empty string, got 3"),
    ("[[rule]]\nname = 'm'\nrows = [1, 2]\nconnectivity = true\n", r"rule 'm': connectivity must be 4 or 8, got True"),
    ("[[rule]]\nname = 'm'\nrows = [1, true]\n", r"rule 'm': rows must be \[first, last\] \(two integers\)"),
    ("[[rule]]\nname = 'm'\nrows = [1, 2]\nink = {min = true}\n", r"rule 'm': ink bounds must be integers"),
    ("[[rule]]\nname = 'm'\nrows = [1, 2]\nreach = 3\n", r"rule 'm': reach must be a list of \[first, last\]"),
    ("[[rule]]\nname = 'm'\nrows = [1, 2]\nreach = [3]\n", r"rule 'm': each reach range must be \[first, last\]"),
    ("[[rule]]\nname = 'm'\nrows = [1, 2]\nmin_span = 1.5\n", r"rule 'm': min_span must be a positive integer"),
    ("[generic]\nmax_hamming = true\n", r"\[generic\]: max_hamming must be an integer >= 0, got True"),
    ("[generic]\nchecks = 'not_empty'\n", r"\[generic\]: checks must be a list of names"),
    ("generic = 1\n", r"\[generic\] must be a table"),
    ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", r"^r\.toml: not valid TOML \(arrays or tables nested too deeply\)$"),
])
def test_every_key_is_type_checked_with_file_and_rule_named(emojis, text, message):
    with pytest.raises(RuleFileError, match=message):
        parse_rules(text, emojis, "r.toml")


def test_files_that_are_not_text_or_not_there(emojis, tmp_path):
    (tmp_path / "bin.toml").write_bytes(b"title = '\xff'\n")
    with pytest.raises(RuleFileError, match=r"bin\.toml: not UTF-8 text \(byte 9\)"):
        load_rules(tmp_path / "bin.toml", emojis)
    (tmp_path / "bom.toml").write_bytes("\ufeff[[rule]]\nname = 'top'\nrows = [1, 2]\n".encode())
    assert load_rules(tmp_path / "bom.toml", emojis).names == ("top",)
    with pytest.raises(RuleFileError, match="no such rule file"):
        load_rules(tmp_path, emojis)


def test_too_many_rules_or_ranges_are_refused_with_the_limit(emojis):
    rules = "".join(f"[[rule]]\nname = 'r{i}'\nrows = [1, 1]\n" for i in range(MAX_RULES + 1))
    with pytest.raises(RuleFileError, match=rf"{MAX_RULES + 1:,} rules, more than the limit of {MAX_RULES:,}"):
        parse_rules(rules, emojis, "many.toml")
    ranges = ", ".join(["[1, 5]"] * (MAX_REACH + 1))
    with pytest.raises(RuleFileError, match=rf"rule 'r': reach has {MAX_REACH + 1} column ranges, more than the "
                                            rf"limit of {MAX_REACH}"):
        parse_rules(f"[[rule]]\nname = 'r'\nrows = [1, 7]\nreach = [{ranges}]\n", emojis, "reach.toml")
    with pytest.raises(ValueError, match="more than the limit of 64"):
        CheckSet.from_rules([Rule("r", rows=(1, 7), reach=((1, 5),) * 65)], (7, 5))


def components_by_flood_fill(img, connectivity):
    """Column spans (first, last) of each ink component, by a plain flood fill."""
    h, w = img.shape
    seen = np.zeros_like(img, dtype=bool)
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)] + ([(-1, -1), (-1, 1), (1, -1), (1, 1)] if connectivity == 8 else [])
    spans = []
    for r, c in zip(*np.nonzero(img)):
        if seen[r, c]:
            continue
        stack, cols = [(r, c)], []
        seen[r, c] = True
        while stack:
            y, x = stack.pop()
            cols.append(x)
            for dy, dx in steps:
                v, u = y + dy, x + dx
                if 0 <= v < h and 0 <= u < w and img[v, u] and not seen[v, u]:
                    seen[v, u] = True
                    stack.append((v, u))
        spans.append((min(cols) + 1, max(cols) + 1))
    return spans


def served_by_brute_force(spans, reach):
    """Is there an assignment of distinct components to the ranges? Every injective choice, tried."""
    for chosen in itertools.permutations(range(len(spans)), len(reach)):
        if all(spans[c][0] <= b and spans[c][1] >= a for c, (a, b) in zip(chosen, reach)):
            return True
    return not reach


def test_reach_agrees_with_trying_every_assignment():
    rng = np.random.default_rng(5)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(2, 7, size=2))
        reach = []
        for _ in range(int(rng.integers(1, 5))):
            a = int(rng.integers(1, w + 1))
            reach.append((a, int(rng.integers(a, w + 1))))
        connectivity = int(rng.choice([4, 8]))
        checks = CheckSet.from_rules([Rule("r", rows=(1, h), reach=tuple(reach), connectivity=connectivity)], (h, w))
        B = rng.random((60, h, w)) < rng.uniform(0.15, 0.6)
        expected = [served_by_brute_force(components_by_flood_fill(img, connectivity), reach) for img in B]
        assert checks.passes(B)[:, 0].tolist() == expected


def test_reach_with_the_most_ranges_is_one_matching_and_exact(monkeypatch):
    # Trying every subset of 64 ranges never finished; a matching is polynomial. A clock would make this
    # test fail on a busy machine, so it counts the work instead: every (bitmap, range) slot enters a
    # bipartite matching exactly once, in a handful of matchings for the whole batch, and each edge is a
    # (component, range) overlap, so the work grows with components x ranges, not with subsets of ranges.
    import genval.checks._rule_regions as rule_regions

    matched = []
    matching = rule_regions.maximum_bipartite_matching

    def counting(graph, perm_type):
        matched.append((graph.shape[0], graph.shape[1], graph.nnz))
        return matching(graph, perm_type=perm_type)

    monkeypatch.setattr(rule_regions, "maximum_bipartite_matching", counting)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")  # the groups matched at once follow the budget
    reach = tuple((1 + k % 28, 1 + k % 28) for k in range(MAX_REACH))  # columns 1-8 three times, the rest twice
    checks = CheckSet.from_rules([Rule("r", rows=(1, 28), reach=reach, connectivity=4)], (28, 28))
    rows, cols = np.indices((28, 28))
    board = (rows + cols) % 2 == 0  # 4-isolated pixels: 14 one-column components in every column
    starved = board.copy()
    starved[np.flatnonzero(board[:, 0])[2:], 0] = False  # column 1 keeps 2 components, and needs 3
    enough = board.copy()
    enough[np.flatnonzero(board[:, 9])[2:], 9] = False  # column 10 keeps 2, and needs 2
    rng = np.random.default_rng(0)
    B = np.concatenate([np.stack([board, starved, enough]), rng.random((500, 28, 28)) < 0.3])
    passed = checks.passes(B)[:, 0]
    assert passed[:3].tolist() == [True, False, True]
    assert sum(slots for slots, _, _ in matched) == len(B) * MAX_REACH and len(matched) <= 10
    # The graphs' other side is the components, one node each: at most 392 a bitmap (a checkerboard's).
    assert sum(components for _, components, _ in matched) <= len(B) * 28 * 28 // 2


# ---------------------------------------------------------------- any file: a check set or a RuleFileError

_SCALARS = st.one_of(st.integers(-3, 12), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                     st.text(max_size=4), st.just(2**63 - 1))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.sampled_from(["min", "max", "x"]),
                                                                         inner, max_size=2)), max_leaves=8)
_RULE_KEYS = st.sampled_from(["name", "rows", "cols", "components", "connectivity", "reach", "min_span", "ink",
                              "colour"])


@settings(max_examples=150, deadline=2000)
@given(top=st.dictionaries(st.sampled_from(["title", "shape", "colour"]), _VALUES, max_size=2),
       rules=st.lists(st.dictionaries(_RULE_KEYS, _VALUES, max_size=5), max_size=3),
       generic=st.dictionaries(st.sampled_from(["checks", "max_hamming"]), _VALUES, max_size=2))
def test_any_rule_file_gives_checks_or_a_rule_file_error(emojis, top, rules, generic):
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in top.items())
    for table in rules:
        text += "[[rule]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())
    if generic:
        text += "[generic]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in generic.items())
    try:
        checks = parse_rules(text, emojis, "any.toml")
    except RuleFileError as exc:
        assert str(exc).startswith("any.toml: ") and "\n" not in str(exc)
    else:
        assert checks.passes(emojis.binary()).shape == (len(emojis), len(checks.names))


@settings(max_examples=150, deadline=2000)
@given(text=st.lists(st.sampled_from(list("[]{}=\"'.,# \n-_01579aeknrsuvwxyz") + ["rows", "rule", "reach", "name",
                                                                                 "[[rule]]\n", "\u0000", "\ufeff"]),
                     max_size=40).map("".join))
def test_any_text_gives_checks_or_a_rule_file_error(emojis, text):
    try:
        parse_rules(text, emojis, "any.toml")
    except RuleFileError as exc:
        assert str(exc).startswith("any.toml: ")
