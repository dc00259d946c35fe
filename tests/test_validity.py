import numpy as np
import pytest
from scipy import ndimage

from genval import BitmapSet, load_dataset
from genval.checks._rules import RuleFileError, bundled_rules, default_checks, load_rules, parse_rules
from genval.checks._rule_regions import Rule
from genval.checks._validity import CheckSet, check_emoji


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
     "eyes: found 1 component in rows 1-4, expected 2"),
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
    (["#####"] * 7, ("eyes",), "eyes: found 1 component in rows 1-4, expected 2"),
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


NEIGHBOURS = {4: ((-1, 0), (1, 0), (0, -1), (0, 1)),
              8: tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if dr or dc)}


def flood_fill(img, connectivity):
    """Ink components of a small boolean image, each a set of (row, col): the oracle."""
    h, w = img.shape
    seen = np.zeros_like(img, dtype=bool)
    components = []
    for r0, c0 in zip(*np.nonzero(img)):
        if seen[r0, c0]:
            continue
        seen[r0, c0] = True
        stack, component = [(r0, c0)], set()
        while stack:
            r, c = stack.pop()
            component.add((int(r), int(c)))
            for dr, dc in NEIGHBOURS[connectivity]:
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and img[rr, cc] and not seen[rr, cc]:
                    seen[rr, cc] = True
                    stack.append((rr, cc))
        components.append(component)
    return components


@pytest.mark.parametrize("connectivity", [4, 8])
def test_scipy_labelling_agrees_with_a_flood_fill(connectivity):
    structure = {4: [[0, 1, 0], [1, 1, 1], [0, 1, 0]], 8: np.ones((3, 3))}[connectivity]
    rng = np.random.default_rng(connectivity)
    for _ in range(500):
        img = rng.random(tuple(rng.integers(1, 9, size=2))) < rng.uniform(0.1, 0.8)
        labels, count = ndimage.label(img, structure)
        found = {frozenset(map(tuple, np.argwhere(labels == k).tolist())) for k in range(1, count + 1)}
        assert found == {frozenset(c) for c in flood_fill(img, connectivity)}


@pytest.mark.parametrize("connectivity", [4, 8])
@pytest.mark.parametrize("rows, cols", [((1, 7), (1, 5)), ((2, 5), (2, 4)), ((7, 7), (1, 5))])
def test_rule_component_counts_agree_with_a_flood_fill(connectivity, rows, cols):
    """A rule counts components on a whole batch at once; each bitmap's count is the oracle's."""
    batch = random_bitmaps(2000, connectivity + rows[0])
    region = batch[:, rows[0] - 1:rows[1], cols[0] - 1:cols[1]]
    expected = np.array([len(flood_fill(img, connectivity)) for img in region])
    counts = range(expected.max() + 2)
    checks = CheckSet.from_rules([Rule(f"n{k}", rows, cols, components=(k, k), connectivity=connectivity)
                                  for k in counts], (7, 5))
    np.testing.assert_array_equal(checks.passes(batch), expected[:, None] == np.array(counts)[None, :])


def test_check_emoji_components_agree_with_a_flood_fill():
    for img in random_bitmaps(1000, 7):
        eyes, mouth = flood_fill(img[0:4], 8), flood_fill(img[4:7], 8)
        eyes_ok = len(eyes) == 2 and any({c for _, c in eyes[i]} & {0, 1} and {c for _, c in eyes[1 - i]} & {3, 4}
                                         for i in (0, 1))
        mouth_ok = len(mouth) == 1 and len({c for _, c in mouth[0]}) >= 3
        verdict = check_emoji(img)
        assert verdict.failed == tuple(name for name, ok in (("eyes", eyes_ok), ("mouth", mouth_ok)) if not ok)


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
    assert CheckSet.generic(solid).verdict(dotted).reasons == (
        "ink_range: 8 ink pixels, expected 20 to 21 (the training range)",
        "component_range: 4 components, expected 1 (the training range)",
        "isolated_pixels: 3 isolated ink pixels, and no training item has any")
    checks = CheckSet.generic(emojis)
    assert checks.names == ("not_empty", "ink_range", "component_range", "isolated_pixels")
    assert checks.passes(emojis.binary()).all()
    empty = np.zeros((7, 5), dtype=bool)
    assert checks.verdict(empty).reasons == (
        "not_empty: no ink, expected at least 1 pixel",
        "ink_range: 0 ink pixels, expected 6 to 14 (the training range)",
        "component_range: 0 components, expected 3 (the training range)")
    assert checks.verdict(dotted).failed == ("component_range",)
    full = np.ones((7, 5), dtype=bool)
    assert checks.verdict(full).failed == ("ink_range", "component_range")
    assert checks.verdict(full).reasons[0] == "ink_range: 35 ink pixels, expected 6 to 14 (the training range)"
    near = CheckSet.generic(emojis, checks=(), max_hamming=1)
    assert near.passes(emojis.binary()).all()
    # every emoji lies inside the full grid: the nearest is the inkiest, 35 - 14 pixels away
    assert near.verdict(full).reasons == ("max_hamming: 21 pixels from the nearest training item, expected at most 1",)


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


# ---------------------------------------------------------------- chunked by the memory budget

def brute_generic_ranges(T, connectivity=8):
    ink = [int(img.sum()) for img in T]
    comps = [len(flood_fill(img, connectivity)) for img in T]
    return (min(ink), max(ink)), (min(comps), max(comps))


# A 7x5 bitmap costs 16 bytes a pixel while measured, CHUNK_SHARE 8: 4480 bytes hold one bitmap.
@pytest.mark.parametrize("budget", ["1", "4479", "4480", "4481", "8960", "13500", "1G"])
def test_checks_in_chunks_give_the_brute_force_answers(monkeypatch, emojis, rules, budget):
    batch = random_bitmaps(300, 11)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1G")
    training = BitmapSet([str(i) for i in range(40)], batch[:40].reshape(40, -1), (7, 5))
    whole = CheckSet.generic(training, max_hamming=3)
    expected_rules = rules.passes(batch)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", budget)
    checks = CheckSet.generic(training, max_hamming=3)
    assert (checks.generic_checks.ink, checks.generic_checks.components) == brute_generic_ranges(batch[:40])
    g, w = checks.generic_checks, whole.generic_checks
    assert (g.ink, g.components, g.isolated_allowed) == (w.ink, w.components, w.isolated_allowed)
    passes = checks.passes(batch)
    np.testing.assert_array_equal(passes, whole.passes(batch))
    np.testing.assert_array_equal(rules.passes(batch), expected_rules)
    comps = np.array([len(flood_fill(img, 8)) for img in batch])
    lo, hi = checks.generic_checks.components
    np.testing.assert_array_equal(passes[:, 2], (comps >= lo) & (comps <= hi))
    hamming = (batch.reshape(300, 1, -1) != batch[:40].reshape(1, 40, -1)).sum(axis=2).min(axis=1)
    np.testing.assert_array_equal(passes[:, 4], hamming <= 3)
    for k in (0, 150, 299):
        assert tuple(checks.verdict(batch[k]).results[i].passed for i in range(5)) == tuple(passes[k])
