"""Sweep files that cannot run are refused, naming the key, before anything trains; any file is runnable or refused."""

import pytest
from hypothesis import given, settings, strategies as st

from genval.experiments import SETTINGS, SweepConfigError, load_sweep, parse_sweep, read_runs, run_sweep
from test_sweep import SMALL
from tomlgen import toml_value


def test_a_huge_grid_is_refused_by_counting():
    values = "[" + ", ".join(map(str, range(1, 1001))) + "]"
    text = f"[grid]\nepochs = {values}\nn_latent = {values}\nrandom_state = {values}\n"
    with pytest.raises(SweepConfigError, match=r"1,000,000,000 runs \(1,000 epochs x 1,000 n_latent x 1,000 "
                                               r"random_state\), more than max_runs = 10,000"):
        parse_sweep(text, "huge.toml")
    with pytest.raises(SweepConfigError, match=r"12 runs .* more than max_runs = 10"):
        parse_sweep("[grid]\nrandom_state = [0, 1, 2]\n[grid.net]\nhidden = [[4], [5], [6], [7]]\n", max_runs=10)


@pytest.mark.parametrize("text, message", [
    ("[grid]\nhiden = [[8]]\n", r"\[grid\] unknown key 'hiden'; expected one of hidden, n_latent"),
    ("colour = 1\n", r"unknown key 'colour'"),
    ("[grid]\nrandom_state = []\n", r"\[grid\] 'random_state' must be a non-empty list"),
    ("[grid]\nhidden = [8, 4]\n", r"'hidden' must be a list of lists"),
    ("[grid]\nnoise_levels = [0.1, 0.2]\n", r"'noise_levels' must be a list of lists, e.g. \[\[0.2\]"),
    ("[grid]\nlearning_rate = [0.01, -1]\n", r"run learning_rate=-1: learning_rate must be a positive number"),
    ("[grid]\noptimizer = ['adam', 'sgd']\n", r"run optimizer='sgd': unknown optimizer 'sgd'"),
    ("[fixed]\ntrain_size = 40\n", r"train_size must be an integer from 1 to 32"),
    ("[fixed]\nseed = 1\n[grid]\nrandom_state = [1, 2]\n", r"'random_state' is both in \[fixed\] and \[grid\]"),
    ("[fixed]\nnoise_level = 2\n", r"noise_level must be bit-flip probability in \[0, 1\]"),
    ("[grid]\nrandom_state = [0, -1]\n", r"run random_state=-1: random_state must be an integer >= 0, got -1"),
    ("[fixed]\nbeta = 2.0\n", r"beta is a setting of the VAE: add vae = true"),
    ("[fixed]\noptimizer = 'gd'\nmomentum = 0.7\n", r"momentum is a setting of optimizer 'momentum' or 'adaptive'"),
    ("[fixed]\noptimizer = 'adaptive'\noptimizer_options = {momentum = 1.5}\n", r"momentum must be in \[0, 1\)"),
    ("[fixed]\noptimizer_options = {speed = 1}\n", r"unknown option\(s\) speed for optimizer 'adam'"),
    ("[grid.net]\nhidden = [[8], [4]]\nn_latent = [2]\n",
     r"\[grid.net\] keys vary together, so their lists need one length; hidden has 2, n_latent has 1"),
    ("[grid]\nn_latent = [2]\n[grid.net]\nn_latent = [3]\n", r"key 'n_latent' varies twice"),
    ("[grid.net]\nactivation = ['elu', 'bogus']\n", r"run activation='bogus': unknown activation 'bogus'"),
    ("[fixed]\nvae = 1\n", r"vae must be true or false, got 1"),
    ("dataset = 'nope'\n", r"dataset: unknown dataset 'nope'"),
    ("[grid\n", r"not valid TOML"),
])
def test_bad_sweep_files_are_rejected_before_training(text, message):
    with pytest.raises(SweepConfigError, match=message):
        parse_sweep(text, "bad.toml")


_VALUES = st.one_of(st.integers(-3, 40), st.floats(-1, 2, allow_nan=False), st.booleans(),
                    st.sampled_from(['"tanh"', '"adam"', '"relu"', '"x"']),
                    st.lists(st.integers(-1, 9), max_size=3).map(str))


@settings(max_examples=60, deadline=None)
@given(fixed=st.dictionaries(st.sampled_from([*SETTINGS, "latent", "colour"]), _VALUES, max_size=3),
       grid=st.dictionaries(st.sampled_from([*SETTINGS, "seed"]), st.lists(_VALUES, max_size=3), max_size=2))
def test_any_sweep_file_is_either_runnable_or_refused_with_a_sweep_error(fixed, grid):
    def toml(value):
        return str(value).lower() if isinstance(value, bool) else str(value)

    text = ("[fixed]\n" + "".join(f"{k} = {toml(v)}\n" for k, v in fixed.items())
            + "[grid]\n" + "".join(f"{k} = [{', '.join(map(toml, v))}]\n" for k, v in grid.items()))
    try:
        sweep = parse_sweep(text, "any.toml")
    except SweepConfigError as exc:
        assert str(exc).startswith(("any.toml: ", "--set: "))
    else:
        assert len(sweep.runs) >= 1


@settings(max_examples=40, deadline=None)
@given(cut=st.integers(0, 10_000))
def test_a_csv_cut_anywhere_reads_as_its_complete_rows(tmp_path_factory, cut):
    folder = tmp_path_factory.getbasetemp()
    full = folder / "cut-full.csv"
    if not full.exists():
        run_sweep(parse_sweep(SMALL), full)
    text = full.read_text()
    header = len(text.splitlines()[0]) + 1
    part = folder / "cut.csv"
    part.write_text(text[:header + cut % (len(text) - header + 1)])
    rows = read_runs(part)
    assert rows == read_runs(full)[:len(rows)]


@pytest.mark.parametrize("text, message", [
    ("", r"^bad\.toml: no settings; expected a \[grid\] of values to sweep"),  # ran one default run silently
    ("# only a comment\n", r"^bad\.toml: no settings; expected a \[grid\] of values to sweep"),
    ("dataset = 5\n", r"^bad\.toml: dataset must be a non-empty string of printable text \(a bundled set or a path\), "
                      r"got 5$"),
    ("title = [1]\n", r"^bad\.toml: title must be a non-empty string of printable text, got \[1\]$"),
    ("title = \"a\\u001b[2J\"\n", r"title must be a non-empty string of printable text, got 'a\\x1b\[2J'"),
    ("[grid]\nhidden = [[1000000000]]\n", r"^bad\.toml: run hidden=\[1000000000\]: training a "
                                          r"35-1000000000-2-1000000000-35 network \(76,000,000,037 parameters\) on "
                                          r"batches of 32 would need about 3\.4 TiB, more than the memory budget"),
    ("[fixed]\nepochs = 1000000000000\n", r"run \[fixed\]: the loss curve of 1,000,000,000,000 epochs would need"),
    ("[fixed]\ntest_copies = 1000000000000\n", r"1,000,000,000,000 scored copies of 32 items would need about"),
    ("[fixed]\nlearning_rate = nan\n", r"learning_rate must be a number > 0, got nan"),
    ("[fixed]\nnoise_level = nan\n", r"noise_level must be bit-flip probability in \[0, 1\]"),
    ("[fixed]\nbeta = inf\nvae = true\n", r"beta must be the VAE's KL weight, a number >= 0 \(with vae = true\), got inf"),
    ("[grid]\nnoise_levels = [[nan]]\n", r"noise_levels must be a denoiser's training bit-flip levels"),
    ("x = " + "[" * 100_000 + "]" * 100_000 + "\n", r"^bad\.toml: not valid TOML \(arrays or tables nested too deeply\)$"),
])
def test_sweep_files_with_bad_types_or_sizes_are_refused_before_any_run(text, message):
    with pytest.raises(SweepConfigError, match=message):
        parse_sweep(text, "bad.toml")


def test_sweep_files_that_are_not_text(tmp_path):
    (tmp_path / "bin.toml").write_bytes(b"title = '\xff'\n")
    with pytest.raises(SweepConfigError, match=r"bin\.toml: not UTF-8 text \(byte 9\)"):
        load_sweep(tmp_path / "bin.toml")
    (tmp_path / "bom.toml").write_bytes("\ufeffdataset = 'emojis'\n[fixed]\nepochs = 3\n".encode())
    assert load_sweep(tmp_path / "bom.toml").dataset == "emojis"


_ANY = st.recursive(st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(), st.booleans(), st.text(max_size=5)),
                    lambda inner: st.lists(inner, max_size=3), max_leaves=6)


@settings(max_examples=100, deadline=None)  # the memory budget bounds a file, not a busy machine's clock
@given(top=st.dictionaries(st.sampled_from(["title", "dataset"]), _ANY, max_size=2),
       fixed=st.dictionaries(st.sampled_from([*SETTINGS, "latent"]), _ANY, max_size=3),
       grid=st.dictionaries(st.sampled_from([*SETTINGS]), st.lists(_ANY, min_size=1, max_size=2), max_size=2))
def test_any_typed_sweep_file_is_runnable_or_a_sweep_error_within_the_budget(top, fixed, grid):
    text = ("".join(f"{k} = {toml_value(v)}\n" for k, v in top.items())
            + "[fixed]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in fixed.items())
            + "[grid]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in grid.items()))
    try:
        sweep = parse_sweep(text, "any.toml")
    except SweepConfigError as exc:
        assert str(exc).startswith("any.toml: ") and "\n" not in str(exc)
    else:
        assert len(sweep.runs) >= 1
