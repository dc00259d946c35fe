import numpy as np
import pytest

from genval import load_dataset
from genval.checks._classifier import DEFAULT_THRESHOLD, ClassifierCheck
from genval.errors import ParameterError


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def check(digits):
    return ClassifierCheck.fit(digits, random_state=0)


def test_passes_is_the_top_probability_against_the_threshold(check, digits):
    p = check.probabilities(digits.X[:300])
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_array_equal(check.passes(digits.X[:300]), p.max(axis=1) >= DEFAULT_THRESHOLD)
    strict = ClassifierCheck(check.estimator, 0.999, check.classes)
    assert strict.passes(digits.X[:300]).sum() < check.passes(digits.X[:300]).sum()


def test_reasons_name_the_class(check, digits):
    p = check.probabilities(digits.X[:1])[0]
    top = int(p.argmax())
    assert check.reason(digits.X[0]) == f"classifier: looks like '{check.classes[top]}' (probability {p[top]:.2f})"
    unsure = ClassifierCheck(check.estimator, 1.0, check.classes)  # no forest is unanimous on every item
    q = check.probabilities(digits.X[:300])
    i = int(q.max(axis=1).argmin())
    best = int(q[i].argmax())
    assert unsure.reason(digits.X[i]) == (f"classifier: no class reaches 1 (best '{check.classes[best]}' at "
                                          f"{q[i, best]:.2f}), expected one class to be clear")


def test_it_tells_digits_from_noise(check, digits):
    rng = np.random.default_rng(0)
    noise = rng.random((300, 64)) > 0.7
    assert check.passes(noise).mean() < 0.02
    assert check.passes(digits.X).mean() > 0.95  # training items (seen): nearly all clear


def test_same_seed_same_forest(digits):
    a = ClassifierCheck.fit(digits, random_state=3).probabilities(digits.X[:50])
    np.testing.assert_array_equal(a, ClassifierCheck.fit(digits, random_state=3).probabilities(digits.X[:50]))


def test_bad_sets_and_thresholds(digits):
    with pytest.raises(ParameterError, match="needs a labelled set, and emojis has no labels"):
        ClassifierCheck.fit(load_dataset("emojis"))
    with pytest.raises(ParameterError, match=r"threshold must be a probability in \(0, 1\], got 1.5"):
        ClassifierCheck.fit(digits, threshold=1.5)


def test_a_rule_file_adds_the_classifier_check(digits, tmp_path):
    from genval.checks._rules import RuleFileError, parse_rules

    checks = parse_rules("[generic]\nchecks = ['not_empty']\n[classifier]\nthreshold = 0.6\n", digits, "c.toml")
    assert checks.names == ("not_empty", "classifier") and checks.classifier.threshold == 0.6
    B = digits.binary()[:200]  # checks judge bitmaps
    np.testing.assert_array_equal(checks.passes(B)[:, 1], checks.classifier.passes(B))
    verdict = checks.verdict(B[0])
    assert verdict.results[-1].name == "classifier" and "looks like '0'" in verdict.results[-1].reason
    alone = parse_rules("[classifier]\n", digits, "c.toml")
    assert alone.names == ("classifier",) and alone.classifier.threshold == DEFAULT_THRESHOLD
    with pytest.raises(RuleFileError, match=r"c.toml: \[classifier\]: the classifier check needs a labelled set"):
        parse_rules("[classifier]\n", load_dataset("emojis"), "c.toml")
    with pytest.raises(RuleFileError, match=r"threshold must be a probability in \(0, 1\], got 0"):
        parse_rules("[classifier]\nthreshold = 0\n", digits, "c.toml")
    with pytest.raises(RuleFileError, match=r"unknown key 'k'; expected threshold"):
        parse_rules("[classifier]\nk = 3\n", digits, "c.toml")


def test_an_audit_of_the_digits_with_the_classifier(digits, tmp_path):
    from genval import Autoencoder, build_space
    from genval.audit._audit import audit
    from genval.audit._judging import judge, load_checks

    rules = tmp_path / "digits.toml"
    rules.write_text("[classifier]\n")
    checks = load_checks(digits, rules)
    few = digits.subset(range(300))
    space = build_space(few, Autoencoder(epochs=200, random_state=0).fit(few.X), grid=(3, 3))
    report = audit(space, "random", n=500, checks=checks, random_state=0)
    assert report.check_names == ("classifier",)
    decoded = space.model.inverse_transform(report.Z) > 0.5
    np.testing.assert_array_equal(report.valid, checks.classifier.passes(decoded))
    verdicts = judge(decoded[:5], few, checks)
    assert all(r[0].startswith("classifier: looks like '" if v else "classifier: no class reaches 0.5 (best '")
               for v, r in zip(verdicts.valid, verdicts.reasons))
    # A valid sample's reason is the class the forest names, with its probability.
    items = judge(few.X[:20], few, checks)
    for i in np.flatnonzero(items.valid):
        assert items.reasons[i] == (checks.classifier.reason(few.binary()[i]),)
    assert items.valid.sum() >= 15 and all(items.reasons[i] for i in range(20))
