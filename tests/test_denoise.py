import json

import numpy as np
import pytest
from click.testing import CliRunner

from genval import Autoencoder, BitmapSet, ParameterError, ShapeMismatchError, load_dataset, load_model
from genval.models._cache_folder import cache_entries, entry_path
from genval.cli.main import cli
from genval.experiments._denoise import DENOISER, cached_denoiser, denoise_report, make_denoiser
from genval.data._noise import make_noise

ITEMS = BitmapSet(["a", "b", "c"], [[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 1, 1]], (2, 2))


@pytest.fixture(scope="module")
def small_model():
    return Autoencoder(hidden=(4,), epochs=300, random_state=0).fit(ITEMS.X)


def oracle(model, bitmaps, levels, noise, trials, seed):
    """denoise_report written out sample by sample: the same noisy copies, brute-force nearest items."""
    rng = np.random.default_rng(seed)
    clean = np.tile(bitmaps.X, (trials, 1))
    truth = [i for _ in range(trials) for i in range(len(bitmaps))]
    training = bitmaps.X > 0.5
    results = []
    for level in levels:
        noisy = make_noise(noise)(clean, level, rng)
        restored = model.reconstruct(noisy) > 0.5
        exact = within = bound_exact = bound_within = 0.0
        for copy, out, item in zip(noisy > 0.5, restored, truth):
            wrong = int((out != training[item]).sum())
            exact += wrong == 0
            within += wrong <= 1
            distances = [int((copy != t).sum()) for t in training]
            tied = [j for j, d in enumerate(distances) if d == min(distances)]
            bound_exact += (item in tied) / len(tied)
            bound_within += sum(int((training[j] != training[item]).sum()) <= 1 for j in tied) / len(tied)
        n = len(truth)
        results.append((level, n, exact / n, within / n, bound_exact / n, bound_within / n))
    return results


@pytest.mark.parametrize("noise, levels", [("flip", [0.0, 0.2, 0.5]), ("gaussian", [0.1, 0.4])])
def test_report_matches_a_sample_by_sample_oracle(small_model, noise, levels):
    report = denoise_report(small_model, ITEMS, levels, noise=noise, trials=50, random_state=7)
    expected = oracle(small_model, ITEMS, levels, noise, trials=50, seed=7)
    assert [(r.level, r.samples) for r in report] == [e[:2] for e in expected]
    for result, (*_, exact, within, bound_exact, bound_within) in zip(report, expected):
        assert (result.restored, result.within_one) == (exact, within)
        assert result.bound_restored == pytest.approx(bound_exact, abs=1e-12)
        assert result.bound_within_one == pytest.approx(bound_within, abs=1e-12)


def test_the_examples_are_the_first_copies_scored(small_model):
    levels = [0.0, 0.3, 1.0]
    report = denoise_report(small_model, ITEMS, levels, trials=4, random_state=3, examples=2)
    shown = report.examples
    assert shown.names == ("a", "b")
    np.testing.assert_array_equal(shown.clean, ITEMS.X[:2])
    assert shown.noisy.shape == shown.restored.shape == (3, 2, 4)
    np.testing.assert_array_equal(shown.noisy[0], ITEMS.X[:2])  # p = 0 changes nothing
    np.testing.assert_array_equal(shown.noisy[2], 1 - ITEMS.X[:2])  # p = 1 flips every pixel
    rng = np.random.default_rng(3)  # the copies the report drew, level after level
    drawn = [make_noise("flip")(np.tile(ITEMS.X, (4, 1)), p, rng) for p in levels]
    np.testing.assert_array_equal(shown.noisy, np.array([d[:2] for d in drawn]))
    np.testing.assert_array_equal(shown.restored, np.array([small_model.reconstruct(d[:2]) for d in drawn]))
    assert len(denoise_report(small_model, ITEMS, [0.1], trials=1, examples=12).examples.names) == 3


def test_bound_on_noise_levels_with_known_outcomes():
    items = BitmapSet(["a", "b"], [[1, 1, 0, 0], [1, 0, 1, 0]], (2, 2))
    model = Autoencoder(hidden=(4,), epochs=3000, stop_wrong_pixels=0, random_state=0).fit(items.X)
    clean, flipped = denoise_report(model, items, [0.0, 1.0], trials=3)
    assert (clean.samples, clean.restored, clean.within_one, clean.bound_restored) == (6, 1.0, 1.0, 1.0)
    # Every pixel flipped: a becomes 0011, 2 pixels from b and 4 from a; b becomes 0101, nearer a;
    # and a and b are 2 pixels apart, so not even within one.
    assert (flipped.bound_restored, flipped.bound_within_one) == (0.0, 0.0)


def test_ties_are_shared_evenly():
    items = BitmapSet(["a", "b"], [[1, 0], [0, 1]], (1, 2))
    model = Autoencoder(hidden=(2,), epochs=2).fit(items.X)
    # At p = 0.5 the copy of a is 10 (right), 01 (wrong), or 00 / 11 (tied: half right),
    # each a quarter of the time: 0.25 + 0.25 * 0.5 * 2 = 0.5.
    result = denoise_report(model, items, [0.5], trials=4000, random_state=1)[0]
    assert result.bound_restored == pytest.approx(0.5, abs=0.02)
    certain = denoise_report(model, items, [1.0], trials=3)[0]  # 10 -> 01: always the other item
    assert certain.bound_restored == 0.0


def test_the_standard_denoiser_comes_within_3_points_of_the_bound_on_the_font():
    font = load_dataset("font")
    model = Autoencoder(**DENOISER, random_state=0).fit(font.X)
    low, mid = denoise_report(model, font, [0.10, 0.15], trials=200, random_state=0)
    assert low.bound_restored == pytest.approx(0.98, abs=0.01) and mid.bound_restored == pytest.approx(0.94, abs=0.01)
    assert low.restored >= low.bound_restored - 0.03
    assert mid.restored >= mid.bound_restored - 0.03
    assert low.within_one >= low.restored


def test_make_denoiser_is_the_standard_one_with_overrides():
    standard = make_denoiser().get_params()
    assert {k: standard[k] for k in DENOISER} == DENOISER
    assert (standard["noise"], standard["random_state"]) == ("flip", 0)
    changed = make_denoiser("gaussian", [0.2], 50, 3).get_params()
    assert {k: v for k, v in changed.items() if standard[k] != v} == {
        "noise": "gaussian", "noise_levels": (0.2,), "epochs": 50, "random_state": 3}


@pytest.mark.parametrize("kwargs, message", [
    ({"levels": [0.1, 1.5]}, r"^noise levels must be in \[0, 1\], got 1.5$"),
    ({"levels": [-0.1]}, r"^noise levels must be in \[0, 1\], got -0.1$"),
    ({"levels": [0.1], "trials": 0}, r"^trials must be an integer of at least 1, got 0$"),
    ({"levels": [0.1], "trials": 2.5}, r"^trials must be an integer of at least 1, got 2.5$"),
])
def test_bad_arguments(small_model, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        denoise_report(small_model, ITEMS, **kwargs)



def test_a_model_of_another_size_is_refused(small_model):
    with pytest.raises(ShapeMismatchError, match=r"^the model expects 4 pixels per item but emojis has 35 \(7x5\)$"):
        denoise_report(small_model, load_dataset("emojis"), [0.1])


# Chunks: any number of trials in bounded memory, with the result of one piece.

@pytest.mark.parametrize("noise", ["flip", "gaussian"])
def test_chunks_of_one_copy_give_the_report_of_one_piece(small_model, noise, monkeypatch):
    whole = denoise_report(small_model, ITEMS, [0.0, 0.3, 1.0], noise=noise, trials=7, random_state=5, examples=2)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "1K")  # chunk_rows: 1 noisy copy at a time
    calls = []
    chunked = denoise_report(small_model, ITEMS, [0.0, 0.3, 1.0], noise=noise, trials=7, random_state=5,
                             examples=2, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(done, 63) for done in range(1, 64)]
    for a, b in zip(whole, chunked):
        assert (a.level, a.samples, a.restored, a.within_one) == (b.level, b.samples, b.restored, b.within_one)
        assert a.bound_restored == pytest.approx(b.bound_restored, abs=1e-12)
        assert a.bound_within_one == pytest.approx(b.bound_within_one, abs=1e-12)
    np.testing.assert_array_equal(whole.examples.noisy, chunked.examples.noisy)
    # float32 products of another batch size may round the last bit differently
    np.testing.assert_allclose(whole.examples.restored, chunked.examples.restored, rtol=1e-6)


def test_chunks_match_the_oracle_on_the_font(monkeypatch):
    font = load_dataset("font")
    model = Autoencoder(hidden=(16,), epochs=50, random_state=0).fit(font.X)
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "400K")  # a few hundred copies a chunk, the last one partial
    report = denoise_report(model, font, [0.1, 0.3], trials=30, random_state=2)
    for result, (level, n, exact, within, bound_exact, bound_within) in zip(
            report, oracle(model, font, [0.1, 0.3], "flip", trials=30, seed=2)):
        assert (result.level, result.samples, result.restored, result.within_one) == (level, n, exact, within)
        assert result.bound_restored == pytest.approx(bound_exact, abs=1e-12)
        assert result.bound_within_one == pytest.approx(bound_within, abs=1e-12)


# The standard denoiser, cached.

def test_the_cached_denoiser_trains_once_per_set_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis = load_dataset("emojis")
    trained = []

    def get(**settings):
        return cached_denoiser(emojis, on_train=lambda path, model: trained.append((path, model.get_params())),
                               **{"epochs": 20, **settings})

    first, cached = get()
    assert not cached and trained == [(entry_path(emojis, "denoiser", make_denoiser(epochs=20).get_params()),
                                       make_denoiser(epochs=20).get_params())]
    again, cached = get()
    assert cached and len(trained) == 1  # no training happened
    np.testing.assert_array_equal(first.params_, again.params_)
    assert again.get_params() == make_denoiser(epochs=20).get_params()
    for other in ({"epochs": 21}, {"random_state": 1}, {"noise_levels": (0.0, 0.3)}, {"noise": "gaussian"}):
        assert not get(**other)[1], other
    assert len(trained) == 5 and len({path for path, _ in trained}) == 5
    assert [e.kind for e in cache_entries()] == ["denoiser"] * 5
    with pytest.raises(ParameterError, match="^a cached denoiser needs an integer random_state"):
        cached_denoiser(emojis, epochs=20, random_state=np.random.default_rng(0))


# genval denoise

def run(*args, **kwargs):
    return CliRunner().invoke(cli, ["denoise", *args], catch_exceptions=False, **kwargs)


def test_denoise_caches_its_denoiser_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    args = ("--epochs", "60", "--trials", "5", "--levels", "0.1,0.2", "--json")
    first = run(*args)
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert doc["model"] == {"file": "default", "kind": "denoiser", "layer_sizes": [35, 128, 64, 8, 64, 128, 35],
                            "cached": False, "noise_levels": [0.0, 0.1, 0.15, 0.2], "epochs": 60}
    assert (doc["dataset"], doc["noise"], doc["trials"], doc["seed"]) == ("font", "flip", 5, 0)
    (entry,) = cache_entries()
    assert entry.path.name.startswith("denoiser-font-")
    assert f"training the standard denoiser on font (cached as {entry.path} for the next run)" in first.stderr
    second = run(*args)
    again = json.loads(second.stdout)
    assert again["model"] == {**doc["model"], "cached": True} and again["levels"] == doc["levels"]
    assert "training" not in second.stderr
    text = run("--epochs", "60", "--trials", "5", "--levels", "0.1").stdout.splitlines()
    assert text[0] == ("font: 32 items; denoiser 35-128-64-8-64-128-35 trained on flip noise 0, 0.1, 0.15, 0.2 "
                       "for 60 epochs (cached); 5 noisy copies of every item per level")


def test_denoise_out_then_model(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "d.npz"
    trained = run("--epochs", "40", "--trials", "4", "--levels", "0.1", "--out", str(out), "--json")
    assert trained.exit_code == 0 and f"saved {out}" in trained.stderr
    saved = load_model(out)
    assert saved.noise_levels == DENOISER["noise_levels"] and saved.metadata_["dataset"] == "font"
    loaded = run("--model", str(out), "--trials", "4", "--levels", "0.1", "--json")
    doc = json.loads(loaded.stdout)
    assert doc["model"] == {"file": str(out), "kind": "denoiser", "layer_sizes": [35, 128, 64, 8, 64, 128, 35],
                            "cached": False, "noise_levels": [0.0, 0.1, 0.15, 0.2], "epochs": 40}
    assert doc["levels"] == json.loads(trained.stdout)["levels"]
    text = run("--model", str(out), "--trials", "4", "--levels", "0.1").stdout.splitlines()[0]
    assert text.startswith(f"font: 32 items; denoiser 35-128-64-8-64-128-35 loaded from {out}; ")


def test_denoise_refuses_before_training(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "cache"))
    missing = tmp_path / "nowhere" / "d.npz"
    result = run("--epochs", "40", "--out", str(missing))
    assert result.exit_code == 2
    assert f"cannot write {missing}: the folder {missing.parent} does not exist" in result.stderr
    model = tmp_path / "m.npz"
    Autoencoder(epochs=2).fit(load_dataset("font").X).save(model)
    for option, value in (("--epochs", "40"), ("--noise-levels", "0,0.1"), ("--train-noise", "0.1")):
        result = run("--model", str(model), option, value)
        assert result.exit_code == 2, option
        name = "--noise-levels" if option == "--train-noise" else option
        assert (f"Error: {name} sets how the standard denoiser trains; leave it out with --model, which loads a "
                "trained one") in result.stderr
    emojis_model = tmp_path / "e.npz"
    Autoencoder(epochs=2).fit(load_dataset("emojis").X).save(emojis_model)
    result = CliRunner().invoke(cli, ["denoise", "--model", str(emojis_model), "--dataset", "digits"])
    assert result.exit_code == 1
    assert result.stderr == "Error: the model expects 35 pixels per item but digits has 64 (8x8)\n"
    assert not (tmp_path / "cache").exists()  # nothing trained, nothing cached


def test_denoise_plot(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path / "cache"))
    plot = tmp_path / "d.png"
    result = run("--epochs", "40", "--trials", "4", "--levels", "0.1,0.3", "--plot", str(plot))
    assert result.exit_code == 0 and plot.read_bytes()[:4] == b"\x89PNG" and f"wrote {plot}" in result.stderr


def test_denoise_warns_of_a_long_run_and_streams_it(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    monkeypatch.setattr("genval.cli.denoise.LONG_RUN", 100)
    whole = run("--epochs", "20", "--trials", "5", "--levels", "0.1")
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "2M")  # chunks of 42 copies (6,120 working bytes each)
    result = run("--epochs", "20", "--trials", "5", "--levels", "0.1")
    assert result.exit_code == 0 and result.stdout.splitlines()[1:] == whole.stdout.splitlines()[1:]
    assert ("160 noisy copies to score, a chunk at a time in bounded memory: a long run (fewer --trials for a "
            "first look); Ctrl-C stops it") in result.stderr
    assert "long run" not in run("--epochs", "20", "--trials", "3", "--levels", "0.1").stderr


def test_denoise_model_of_other_bitmaps_of_the_same_size(tmp_path, monkeypatch):
    monkeypatch.setenv("GENVAL_CACHE", str(tmp_path))
    emojis_model = tmp_path / "e.npz"
    Autoencoder(epochs=2).fit(load_dataset("emojis")).save(emojis_model)  # 35 pixels, as the font's
    refused = CliRunner().invoke(cli, ["denoise", "--model", str(emojis_model), "--trials", "2"])
    assert refused.exit_code == 1 and refused.stderr.startswith("Error: this model was trained on emojis (17 items")
    assert "pass --any-data" in refused.stderr and refused.stdout == ""
    anyway = run("--model", str(emojis_model), "--trials", "2", "--levels", "0.1", "--any-data")
    assert anyway.exit_code == 0 and anyway.stdout.startswith("font: 32 items; autoencoder 35-25-15-2-15-25-35 loaded")
    alone = run("--any-data", "--epochs", "20")
    assert alone.exit_code == 2 and "Error: --any-data goes with --model" in alone.stderr
