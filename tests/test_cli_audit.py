"""`genval audit`: reproducible JSON, text and CSV outputs, comparisons, refusals."""

import json

import test_cli
from test_cli import last_line, run

runner = test_cli.runner  # the fixture


# --- audit ----------------------------------------------------------------------------------------

def test_audit_json_is_reproducible_byte_for_byte(runner):
    args = ["audit", "--strategy", "random", "--n", "3000", "--random-state", "0", "--grid", "3x3", "--json"]
    first = run(runner, *args)
    assert first.exit_code == 0, first.output
    assert run(runner, *args).stdout == first.stdout
    doc = json.loads(first.stdout)
    assert doc["n"] == 3000 and doc["seed"] == 0 and doc["all"]["counts"]["total"] == 3000
    assert set(doc) == {"strategy", "dataset", "checks", "grid", "seed", "n", "copies", "yield", "new", "all",
                        "scores", "membership", "crispness", "model", "novelty", "hull", "controls", "null_model",
                        "map", "bootstrap"}
    assert doc["map"] == {"file": None, "grid": doc["grid"], "seed": 0}
    assert doc["model"] == {"file": "default", "kind": "autoencoder", "layer_sizes": [35, 25, 15, 2, 15, 25, 35]}
    new = doc["new"]
    assert new["counts"]["total"] == 3000 - doc["copies"]["rate"]["numerator"]
    validity = new["ratios"]["validity"]
    assert validity["value"] == validity["numerator"] / validity["denominator"]
    assert doc["yield"]["value"] == new["counts"]["novel_unique_valid"]
    assert doc["checks"]["names"] == ["eyes", "mouth"]
    assert doc["membership"]["k"] == 5 and doc["membership"]["n_real"] == 17
    assert set(doc["scores"]) == {"samples", "som_distance", "occupied", "hit_count", "nearest_code",
                                  "gmm_log_density", "realism", "hull_depth", "box_centre", "umatrix", "relative_qe",
                                  "decoder_confidence", "stability"}
    assert run(runner, *args[:-4], "--seed", "1", "--grid", "3x3", "--json").stdout != first.stdout


def test_audit_text_outputs_and_min_validity(runner, tmp_path):
    paths = {k: tmp_path / f"a.{k}" for k in ("csv", "sheet.png", "plot.png", "roc.png")}
    result = run(runner, "audit", "-n", "800", "--grid", "3x3", "--csv", str(paths["csv"]),
                 "--sheet", str(paths["sheet.png"]), "--plot", str(paths["plot.png"]), "--roc", str(paths["roc.png"]),
                 "--min-validity", "0.01")
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    assert out[0] == "audit 'random' of emojis: 800 samples, checks: emojis: two eyes and a mouth, map 3x3, seed 0"
    assert any(line.startswith("rule-free membership, k = 5, N = 17 training items, M = 800 samples")
               for line in out)
    assert len(paths["csv"].read_text().splitlines()) == 801
    assert f"wrote {paths['csv']} (800 rows)" in result.stderr
    for key in ("sheet.png", "plot.png", "roc.png"):
        assert paths[key].read_bytes()[:4] == b"\x89PNG"
    doc = json.loads(run(runner, "audit", "--n", "800", "--grid", "3x3", "--json").stdout)
    # Every figure beside its numerator and denominator, for new samples and for all of them.
    rate = doc["copies"]["rate"]
    assert out[1].startswith(f"copies: {rate['numerator']} of 800 samples equal a training item: copy rate "
                             f"{rate['value']:.3f} (")

    def fraction(ratio):
        return f"{ratio['value']:.3f} = {ratio['numerator']} / {ratio['denominator']}"

    for name in ("validity", "uniqueness", "novelty"):
        (line,) = [line for line in out if line.startswith(f"  {name} ")]
        assert line.split()[1:11] == [*fraction(doc["new"]["ratios"][name]).split(),
                                     *fraction(doc["all"]["ratios"][name]).split()]
    for name in ("precision", "recall"):
        (line,) = [line for line in out if line.startswith(f"  {name} ")]
        assert line.split()[1:11] == [*fraction(doc["new"]["som_agreement"][name]).split(),
                                     *fraction(doc["all"]["som_agreement"][name]).split()]
    tables = [doc[part]["som_agreement"]["table"] for part in ("new", "all")]
    for where in ("occupied", "empty"):
        (line,) = [line for line in out if line.startswith(f"  {where} neuron ")]
        assert line.split()[2:] == [str(t[f"{where}_{v}"]) for t in tables for v in ("valid", "invalid")]
    # Beside each figure, its interval over resamples of the samples, with the number of resamples.
    head = out.index("intervals over samples: 95% percentile bootstrap, 1000 resamples of the 800 samples (k-NN "
                     "precision: of the 800 scored); --json for every figure:")
    boot = doc["bootstrap"]["figures"]
    lo, hi = boot["copy_rate"]["interval"]
    assert out[head + 1].startswith(f"  copy rate       {rate['value']:.3f} [{lo:.3f},{hi:.3f}]")
    assert f"yield           {doc['yield']['value']} [" in out[head + 2]
    validity = doc["new"]["ratios"]["validity"]["value"]
    below = run(runner, "audit", "--n", "800", "--grid", "3x3", "--min-validity", "0.999")
    assert below.exit_code == 3
    assert last_line(below) == f"new-sample validity {validity:.3f} is below --min-validity 0.999"
    copies = run(runner, "audit", "--strategy", "copycat", "-n", "50", "--grid", "3x3", "--min-validity", "0.5")
    assert copies.exit_code == 3 and "validity   n/a" not in copies.stdout
    assert last_line(copies) == ("no new samples (all 50 are copies of training items), so no new-sample validity "
                                 "reaches --min-validity 0.5")


def test_audit_compare_table(runner, tmp_path):
    chart = tmp_path / "strategies.png"
    result = run(runner, "audit", "--compare", "--n", "1000", "--grid", "3x3", "--plot", str(chart))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "emojis, checks: emojis: two eyes and a mouth, map 3x3, seed 0, n 1000"
    assert lines[1].startswith("  null model: the checks pass coin flips ") and lines[2].startswith("  warning: ")
    lines = lines[2:]
    assert lines[1].split()[:4] == ["model", "strategy", "copy", "rate"]
    strategies = ("random", "prior", "gmm", "neuron", "lines", "som-path", "grid", "regions", "copycat")
    assert [line.split()[:2] for line in lines[2:11]] == [["autoencoder", s] for s in strategies]
    assert lines[10].split()[2:5] == ["1.000", "n/a", "0"]  # copycat: every sample a copy, nothing new
    assert lines[-2:] == ["skipped (nothing to sample there):",
                          "  autoencoder vae-prior: the 'vae-prior' strategy samples a variational autoencoder's "
                          "prior, and this model (autoencoder) has no sample_prior (train one with genval train --vae)"]
    assert chart.read_bytes()[:4] == b"\x89PNG"
    doc = json.loads(run(runner, "audit", "--compare", "--n", "500", "--grid", "8x8", "--json").stdout)
    assert [d["strategy"] for d in doc["rows"]] == ["random", "prior", "gmm", "neuron", "grid", "regions", "copycat"]
    assert [(d["label"], d["strategy"]) for d in doc["skipped"]] == [
        ("autoencoder", s) for s in ("lines", "som-path", "vae-prior")]
    assert [d["reason"] for d in doc["skipped"][:2]] == [
        f"no two items share a neuron on the 8x8 map, so '{s}' has nothing to walk; use a smaller map (--grid)"
        for s in ("lines", "som-path")]
    assert doc["seed"] == 0 and doc["dataset"] == "emojis" and doc["seeds"] == [0]


def test_audit_compare_repeats_give_intervals(runner):
    result = run(runner, "audit", "--compare", "--repeats", "3", "--n", "400", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["seeds"] == [0, 1, 2] and len(doc["runs"]) == 3 * len(doc["rows"])
    figure = doc["rows"][0]["figures"]["new_validity"]
    assert len(figure["per_seed"]) == 3 and figure["interval"][0] <= figure["value"] <= figure["interval"][1]
    text = run(runner, "audit", "--strategy", "random", "--repeats", "2", "--n", "400", "--grid", "3x3").stdout
    assert text.splitlines()[0].endswith("seeds 0-1 varying the map and the sample (mean ±95% interval half-width "
                                         "over the independent runs), n 400")
    # Beside the intervals over seeds, those over the samples of the first seed's audit, with their resamples.
    lines = text.splitlines()
    at = lines.index("the same figures over samples: the seed-0 audit of each row with its 95% percentile bootstrap "
                     "interval")
    assert lines[at + 1].startswith("(1000 resamples of its samples;")
    first = json.loads(run(runner, "audit", "--strategy", "random", "--repeats", "2", "--n", "400", "--grid", "3x3",
                           "--json").stdout)["runs"][0]["bootstrap"]["figures"]["copy_rate"]
    assert lines[at + 3].split()[:4] == ["autoencoder", "random", f"{first['value']:.3f}",
                                         "[{:.3f},{:.3f}]".format(*first["interval"])]


def test_audit_compare_with_a_vae(runner):
    result = run(runner, "audit", "--compare", "--vae", "--n", "500", "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    rows = [(d["label"], d["strategy"]) for d in doc["rows"]]
    assert rows == [("autoencoder", s) for s in ("random", "prior", "gmm", "neuron", "lines", "som-path", "grid",
                                                 "regions", "copycat")] + [
        ("vae", s) for s in ("random", "prior", "gmm", "neuron", "lines", "som-path", "grid", "regions", "vae-prior",
                             "copycat")]
    assert [(d["label"], d["strategy"]) for d in doc["skipped"]] == [("autoencoder", "vae-prior")]
    assert doc["skipped"][0]["reason"].startswith("the 'vae-prior' strategy samples a variational autoencoder's")
    assert doc["models"]["vae"]["kind"] == "vae"
    notes = [line for line in result.stderr.splitlines() if line.startswith("first use")]
    assert [line.split(" (cached")[0] for line in notes] == [
        "first use of emojis: training its default Autoencoder",
        "first use of emojis: training its default VariationalAutoencoder"]


def test_audit_bad_input_is_one_line_and_writes_nothing(runner, tmp_path):
    rules = tmp_path / "bad.toml"
    rules.write_text("[[rule]]\nname = 'eyes'\nrows = [1, 9]\n")
    result = run(runner, "audit", "--rules", str(rules), "--n", "10")
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {rules}: rule 'eyes': rows 1-9 outside the 7x5 grid "
                             "(expected 1 <= first <= last <= 7)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]
    result = run(runner, "audit", "--strategy", "lines", "--grid", "8x8", "--n", "10")
    assert result.exit_code == 1
    assert last_line(result) == ("Error: no two items share a neuron on the 8x8 map, so 'lines' has nothing to walk; "
                                 "use a smaller map (--grid)")


def test_audit_with_a_rule_file(runner, tmp_path):
    rules = tmp_path / "ink.toml"
    rules.write_text('title = "some ink"\n[generic]\nchecks = ["not_empty", "ink_range"]\n')
    doc = json.loads(run(runner, "audit", "--rules", str(rules), "--n", "300", "--json").stdout)
    assert doc["checks"] == {"title": "some ink", "names": ["not_empty", "ink_range"]}

def test_audit_repeats_can_vary_the_model(runner, tmp_path):
    result = run(runner, "audit", "--strategy", "random", "--repeats", "2", "--vary", "model", "-n", "300",
                 "--grid", "3x3", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["vary"] == ["model"] and doc["seeds"] == [0, 1]
    first, second = doc["runs"]
    assert first["seed"] == second["seed"] == 0  # the samples are drawn from seed 0 each time...
    assert first["copies"] != second["copies"] or first["yield"] != second["yield"]  # ...by two models
    assert doc["rows"][0]["independent_runs"] == {"samples": 2, "maps": 2}
    for args, message in ((["--vary", "model", "--model", str(tmp_path / "m.npz")], "leave out --model"),
                          (["--vary", "model"], "needs --repeats 2 or more")):
        bad = run(runner, "audit", "-n", "10", *args)
        assert bad.exit_code == 2 and message in bad.stderr
def test_audit_compare_under_a_small_memory_budget_is_one_error_not_an_empty_table(runner, monkeypatch):
    # Was: an empty table, then TypeError: 'int' object is not iterable; every strategy silently "impossible".
    run(runner, "som", "--grid", "3x3", "-q")  # the default model trains within the default budget
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "2M")
    for args in (["--compare"], ["--compare", "--json"], ["--strategy", "random", "--repeats", "2"]):
        result = run(runner, "audit", *args, "-n", "100000", "--grid", "3x3", "-q")
        assert result.exit_code == 1, args
        assert result.stdout == ""
        assert result.stderr == ("Error: an audit of 100,000 points of 35 pixels would need about 13.3 MiB, more "
                                 "than the memory budget of 2.0 MiB; ask for fewer or raise GENVAL_MEMORY_BUDGET\n")


def test_one_strategy_that_cannot_run_over_repeats_says_why(runner):
    result = run(runner, "audit", "--strategy", "lines", "--repeats", "2", "-n", "200", "--grid", "8x8", "-q")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == ("Error: no two items share a neuron on the 8x8 map, so 'lines' has nothing to walk; "
                             "use a smaller map (--grid)\n")


def test_the_grid_strategy_runs_on_the_principal_plane_of_wide_codes(runner, tmp_path):
    model = tmp_path / "wide.npz"
    assert run(runner, "train", "--dataset", "font", "--n-latent", "4", "--epochs", "100", "--out", str(model),
               "-q").exit_code == 0
    one = run(runner, "audit", "--strategy", "grid", "-n", "100", "--dataset", "font", "--model", str(model),
              "--grid", "3x3", "--json", "-q")
    assert one.exit_code == 0, one.output  # was: Error: Z has 2 features, but Autoencoder is expecting 4
    assert json.loads(one.stdout)["n"] == 100
    doc = json.loads(run(runner, "audit", "--compare", "-n", "100", "--dataset", "font", "--model", str(model),
                         "--grid", "3x3", "--json", "-q").stdout)
    assert "grid" in [row["strategy"] for row in doc["rows"]]
    assert [(d["strategy"]) for d in doc["skipped"]] == ["regions", "vae-prior"]  # regions: 2-D planes only
    assert doc["skipped"][0]["reason"] == ("the 'regions' strategy cuts a 2-D latent plane into regions; this "
                                           "model's codes have 4 dimensions")


def test_audit_help_shows_percent_signs_once(runner):
    text = run(runner, "audit", "--help").stdout
    assert "95% interval" in " ".join(text.split()) and "%%" not in text


def test_compare_with_a_strategy_is_a_usage_error(runner):
    result = run(runner, "audit", "--compare", "--strategy", "gmm", "-n", "10")
    assert result.exit_code == 2 and "--compare runs every strategy; leave out --strategy" in result.stderr
