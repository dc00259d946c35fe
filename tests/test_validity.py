import numpy as np
import pytest

from genval import BitmapSet, load_dataset
from genval.rules import RuleFileError, bundled_rules, default_checks, load_rules, parse_rules
from genval.validity import CheckSet, Rule, check_emoji


def bitmap(*rows):
    return np.array([[c == "#" for c in row] for row in rows])


SMILE = [".....", ".#.#.", ".#.#.", ".....", "#...#", ".###.", "....."]


@pytest.fixture(scope="module")
def emojis():
    return load_dataset("emojis")


@pytest.fixture(scope="module")
def rules(emojis):
    return bundled_rules("emojis", emojis)


def test_every_bundled_emoji_passes(emojis, rules):
    for name in emojis.names:
        assert check_emoji(emojis.image(name) > 0.5).valid, name
    assert rules.passes(emojis.binary()).all()


@pytest.mark.parametrize("rows, failed, reason", [
    (SMILE, (), None),
    ([".....", "#.#.#", "#.#.#", ".....", "#...#", ".###.", "....."], ("eyes",),
     "eyes: found 3 components in rows 1-4, expected 2"),
    ([".....", ".#...", ".#...", ".....", "#...#", ".###.", "....."], ("eyes",),
     "eyes: found 1 components in rows 1-4, expected 2"),
    # two components, but both on the left: nothing reaches columns 4-5
    (["#....", "#....", "..#..", ".....", "#...#", ".###.", "....."], ("eyes",),
     "eyes: expected one component reaching columns 1-2 and another reaching columns 4-5"),
    # one bar reaches both halves; the other blob sits in the middle
    (["#####", ".....", "..#..", ".....", "#...#", ".###.", "....."], ("eyes",),
     "eyes: expected one component reaching columns 1-2 and another reaching columns 4-5"),
    ([".....", ".#.#.", ".#.#.", ".....", "#...#", ".....", "....."], ("mouth",),
     "mouth: found 2 components in rows 5-7, expected 1"),
    ([".....", ".#.#.", ".#.#.", ".....", ".....", ".....", "....."], ("mouth",),
     "mouth: found 0 components in rows 5-7, expected 1"),
    ([".....", ".#.#.", ".#.#.", ".....", ".##..", ".....", "....."], ("mouth",),
     "mouth: spans 2 columns, expected at least 3"),
    (["#####"] * 7, ("eyes",), "eyes: found 1 components in rows 1-4, expected 2"),
])
def test_hand_made_bitmaps_fail_for_the_right_reason(rules, rows, failed, reason):
    img = bitmap(*rows)
    for verdict in (check_emoji(img), rules.verdict(img)):
        assert verdict.failed == failed
        if reason:
            assert verdict.reasons[0] == reason
            assert str(verdict).startswith("invalid: ")
        else:
            assert verdict.valid and str(verdict) == "valid"


def test_ink_outside_a_region_does_not_count_for_it(rules):
    # A pixel in row 4 joins the left eye and touches the mouth diagonally: on the whole
    # grid eye and mouth would be one component, but each region sees only its own rows.
    img = bitmap(".....", ".#.#.", ".#.#.", "#....", "#...#", ".###.", ".....")
    for verdict in (check_emoji(img), rules.verdict(img)):
        assert verdict.valid


def random_bitmaps(n, seed):
    rng = np.random.default_rng(seed)
    density = rng.uniform(0.05, 0.7, size=(n, 1, 1))
    return rng.random((n, 7, 5)) < density


def test_rule_file_and_built_in_agree_on_items_flips_and_random_bitmaps(emojis, rules):
    items = emojis.binary().reshape(-1, 7, 5)
    flips = np.array([np.logical_xor(item, np.eye(35, dtype=bool)[k].reshape(7, 5))
                      for item in items for k in range(35)])
    batch = np.concatenate([items, flips, random_bitmaps(3000, 0)])
    batch_passes = rules.passes(batch)
    for img, row in zip(batch, batch_passes):
        built_in = check_emoji(img)
        from_file = rules.verdict(img)
        assert built_in == from_file
        assert tuple(row) == tuple(r.passed for r in built_in.results)
    assert 0.01 < batch_passes.all(axis=1).mean() < 0.9  # the sample really mixes valid and invalid


def test_generic_checks_take_ranges_from_training(emojis):
    assert CheckSet.generic(emojis).generic_checks.isolated_allowed  # the eye of :B is a lone pixel
    solid = BitmapSet(["bar", "box"], [bitmap(*[".###."] * 7).ravel(), bitmap(*["#####"] * 4, *["....."] * 3).ravel()],
                      (7, 5))
    assert not CheckSet.generic(solid).generic_checks.isolated_allowed
    dotted = bitmap("#...#", ".....", "..#..", ".....", "#...#", ".###.", ".....")
    v = CheckSet.generic(solid).verdict(dotted)
    assert "isolated_pixels" in v.failed
    assert any(r.startswith("isolated_pixels: 3 isolated ink pixels") for r in v.reasons)
    checks = CheckSet.generic(emojis)
    assert checks.names == ("not_empty", "ink_range", "component_range", "isolated_pixels")
    assert checks.passes(emojis.binary()).all()
    empty = np.zeros((7, 5), dtype=bool)
    v = checks.verdict(empty)
    assert "not_empty" in v.failed and "not_empty: no ink, expected at least 1 pixel" in v.reasons
    assert checks.verdict(dotted).failed == ("component_range",)
    full = np.ones((7, 5), dtype=bool)
    assert any(r.startswith("ink_range: 35 ink pixels, expected 6 to 14") for r in checks.verdict(full).reasons)
    near = CheckSet.generic(emojis, checks=(), max_hamming=1)
    assert near.passes(emojis.binary()).all()
    assert near.verdict(full).reasons[0].startswith("max_hamming: ")


def test_four_connectivity_and_ranges(emojis):
    rule = Rule("diag", rows=(1, 2), cols=(1, 2), components=(1, 1), connectivity=4)
    checks = CheckSet.from_rules([rule], (7, 5))
    diagonal = np.zeros((7, 5), dtype=bool)
    diagonal[0, 0] = diagonal[1, 1] = True
    assert checks.verdict(diagonal).reasons == ("diag: found 2 components in rows 1-2, columns 1-2, expected 1",)
    eight = CheckSet.from_rules([Rule("diag", rows=(1, 2), cols=(1, 2), components=(1, 1))], (7, 5))
    assert eight.verdict(diagonal).valid
    inky = CheckSet.from_rules([Rule("ink", rows=(1, 7), ink=(1, None))], (7, 5))
    assert inky.verdict(np.zeros((7, 5))).reasons == ("ink: 0 ink pixels in rows 1-7, expected at least 1",)


RULES = """
title = "test"
[[rule]]
name = "top"
rows = [1, 2]
ink = {min = 1}
[generic]
checks = ["not_empty"]
"""


def test_rule_file_parsing(emojis, tmp_path):
    checks = parse_rules(RULES, emojis)
    assert checks.names == ("top", "not_empty") and checks.title == "test"
    path = tmp_path / "r.toml"
    path.write_text(RULES)
    assert load_rules(path, emojis).names == ("top", "not_empty")
    assert default_checks(emojis).names == ("eyes", "mouth")
    assert default_checks(load_dataset("font")).names == ("not_empty", "ink_range", "component_range",
                                                         "isolated_pixels")


@pytest.mark.parametrize("text, message", [
    ("[[rule]\nname='x'", r"r\.toml: not valid TOML"),
    ("[[rule]]\nname = 'eyes'\nrows = [1, 9]\n", r"r\.toml: rule 'eyes': rows 1-9 outside the 7x5 grid"),
    ("[[rule]]\nname = 'eyes'\nrows = [1, 4]\nrwos = 1\n",
     r"r\.toml: rule 'eyes': unknown key 'rwos'; expected name, rows, cols"),
    ("[[rule]]\nname = 'eyes'\n", r"rule 'eyes': missing key 'rows'"),
    ("[[rule]]\nname = 'm'\nrows = [5, 7]\nconnectivity = 6\n", r"rule 'm': connectivity must be 4 or 8"),
    ("[[rule]]\nname = 'm'\nrows = [5, 7]\ncomponents = 'one'\n", r"rule 'm': components must be an integer"),
    ("[[rule]]\nname = 'm'\nrows = [5, 7]\nreach = [[1, 9]]\n", r"rule 'm': reach columns 1-9 outside 1-5"),
    ("[generic]\nchecks = ['shiny']\n", r"unknown generic check\(s\) shiny"),
    ("[generic]\nchekcs = []\n", r"\[generic\]: unknown key 'chekcs'"),
    ("colour = 'red'\n", r"unknown key 'colour'"),
    ("shape = [8, 8]\n[[rule]]\nrows = [1, 2]\n", r"rules are for 8x8 bitmaps, but emojis is 7x5"),
    ("title = 'nothing'\n", r"no checks"),
])
def test_rule_file_errors_name_file_rule_and_expectation(emojis, tmp_path, text, message):
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=message):
        load_rules(path, emojis)
