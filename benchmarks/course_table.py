"""Run every experiment of the course documents from the CLI and print one Markdown table.

Issue 20's reach: "Every experiment of the five course documents run from the CLI with the
seed's settings, a table in the closing note: experiment, command, genval's figure beside the
seed's, time." The course documents are not in this repository; what is known of them is what
issues 2, 5, 10 and 20 quote. Each row below names the issue that quotes the seed's figure, or
says "not quoted".

Every command is the installed console script (`genval` beside this Python), run in a work
folder with a fresh GENVAL_CACHE (so first-use training is timed too) and, where the command
has it, `--json`; the figure is read from that JSON. MNIST and Fashion-MNIST are not
downloadable here: their rows run on a stand-in built in the work folder (scikit-learn's 8x8
digits upscaled to 28x28 with pixel jitter, labels kept, --standin-items of them) and say
"stand-in"; they never give an MNIST figure. The 20x20 emojis are the 17 bundled 5x7 emojis
resampled to 20x20 (nearest neighbour), also a stand-in.

Each row records the wall seconds of its commands and the 1-minute load average when it began
(a busy machine slows every row). A command that exits non-zero, times out (--timeout), prints
no JSON or reports a run as "stalled" is a finding: its row says so (**STALLED**, or the command
and its last line of output). A row whose CLI option does not exist yet says so and runs nothing.
The footer lists the rows to run again once other work on the shipped sweeps lands.

Run by hand (not part of the tests; about 30 minutes on a busy 2-core machine):

    python benchmarks/course_table.py [--work DIR] [--only 1,4,...] [--jobs 2] [--out table.md]
    python benchmarks/course_table.py --render DIR/results.json [MORE/results.json]   # no run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

# ---------------------------------------------------------------------------------------------
# Stand-in data sets


def build_digits28(path: Path, n: int, seed: int = 0) -> None:
    """sklearn's digits upscaled to 28x28 (bilinear), repeated with jitter to n items, labelled."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    digits = load_digits()
    big = np.clip(zoom(digits.images / 16.0, (1, 3.5, 3.5), order=1), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    index = np.concatenate([np.arange(len(big)), rng.integers(0, len(big), max(0, n - len(big)))])[:n]
    repeat = np.arange(len(index)) >= len(big)          # the originals once, then jittered repeats
    images = np.clip(big[index] + rng.normal(0.0, 0.05, (len(index), 28, 28)) * repeat[:, None, None], 0, 1)
    order = rng.permutation(len(index))                  # mixed, so --limit N is not one class
    x = np.round(images[order] * 255).astype(np.uint8)
    index = index[order]
    np.savez(path, x_train=x, y_train=digits.target[index].astype(np.uint8))


def build_emojis20(path: Path) -> None:
    """The 17 bundled 5x7 emojis resampled to 20x20 (nearest neighbour), as a genval text file."""
    from genval import load_dataset

    emojis = load_dataset("emojis")
    h, w = emojis.shape
    rows = (np.arange(20) * h) // 20
    cols = (np.arange(20) * w) // 20
    blocks = []
    for name, x in zip(emojis.names, emojis.X):
        image = x.reshape(h, w)[np.ix_(rows, cols)] > 0.5
        blocks.append(name + "\n" + "\n".join("".join("#" if p else "." for p in r) for r in image))
    path.write_text("\n\n".join(blocks) + "\n")


# ---------------------------------------------------------------------------------------------
# Figures read from each command's JSON


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _num(x, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def train_fig(docs: list[dict], labels: list[str] | None = None) -> str:
    """Perfect / within one of N items, final loss, per command (one per seed or variant)."""
    parts = []
    for i, d in enumerate(docs):
        n = len(d["items"]) if len(d["items"]) <= 50 else None
        label = labels[i] if labels else f"seed {d['seed']}"
        of = f"/{n}" if n else ""
        text = (f"{label}: within one {d['within_one']}{of}, perfect {d['perfect']}{of}, "
                f"loss {_num(d['final_loss'])}")
        if d.get("stalled"):
            text += " **STALLED**"
        parts.append(text)
    return "; ".join(parts)


def grey_train_fig(docs: list[dict], labels: list[str]) -> str:
    """Held-out (or training) loss and MSE per command, for the 28x28 stand-in rows."""
    parts = []
    for label, d in zip(labels, docs):
        val = d.get("final_validation_loss")
        text = f"{label}: loss {_num(d['final_loss'])}"
        if val is not None:
            text += f", held-out loss {_num(val)}"
        text += f", MSE {_num(d['mse'])}, {d['epochs_run']} epochs"
        if d.get("stalled"):
            text += " **STALLED**"
        parts.append(text)
    return "; ".join(parts)


def _value(value) -> str:
    if isinstance(value, list):
        return "-".join(_value(v) for v in value) if value else "[]"
    if isinstance(value, dict):
        return ",".join(f"{k} {v}" for k, v in value.items())
    return f"{value:g}" if isinstance(value, float) else str(value)


def _setting_label(settings: dict) -> str:
    """The values of one summary row's settings, seeds left out, e.g. "momentum momentum 0.7 / 5"."""
    return " / ".join(v for k, v in ((k, _value(v)) for k, v in settings.items()) if k != "random_state" and v)


def sweep_fig(docs: list[dict], key: str = "wrong_pixels") -> str:
    """Per setting: the mean (± spread) of `key` over seeds, and any run not "ok"."""
    d = docs[-1]
    parts = []
    for row in d["summary"]:
        fig = row.get(key)
        value = "n/a" if fig is None else (f"{fig['mean']:.3g}" + (f"±{fig['spread']:.2g}" if fig["spread"] else ""))
        bad = [f"{row[s]} {s}" for s in ("stalled", "diverged", "failed") if row.get(s)]
        scored = row.get("scored")
        parts.append(f"{_setting_label(row['settings'])}: {value}" + (f" ({', '.join(bad)})" if bad else "")
                     + (f" [of {scored}]" if scored and key in ("within_one", "perfect") else ""))
    runs = sum(r["runs"] for r in d["summary"])
    stalled = sum(r.get("stalled", 0) for r in d["summary"])
    keys = " / ".join(k for k in d["summary"][0]["settings"] if k != "random_state")
    scored = {r.get("scored") for r in d["summary"]}
    over = f", over {scored.pop()} scored items" if len(scored) == 1 and key == "wrong_pixels" else ""
    head = (f"{key.replace('_', ' ')} per {keys}{over} ({runs} runs"
            f"{', ' + str(stalled) + ' STALLED' if stalled else ''}): ")
    return head + "; ".join(parts)


def denoise_fig(docs: list[dict]) -> str:
    parts = []
    for lv in docs[-1]["levels"]:
        parts.append(f"p={lv['level']:g}: {_pct(lv['restored'])} restored (bound {_pct(lv['bound_restored'])})")
    return "; ".join(parts)


def grey_denoise_fig(docs: list[dict], labels: list[str]) -> str:
    parts = []
    for label, d in zip(labels, docs):
        for lv in d["levels"]:
            parts.append(f"{label} at {lv['level']:g}: MSE {_num(lv['mse'])} (noisy {_num(lv['noisy_mse'])}), "
                         f"PSNR {_num(lv['psnr'])} dB, within tol {_pct(lv['within_tolerance'])}, "
                         f"restored {_pct(lv['restored'])}")
    return "; ".join(parts)


def compare_fig(docs: list[dict]) -> str:
    wanted = {("autoencoder", "som-path"), ("autoencoder", "prior"), ("autoencoder", "random"),
              ("vae", "vae-prior"), ("vae", "som-path"), ("vae", "random")}
    parts = []
    for row in docs[-1]["rows"]:
        label = str(row["label"]).lower()
        kind = "vae" if "vae" in label or "variational" in label else "autoencoder"
        if (kind, row["strategy"]) not in wanted:
            continue
        f = row["figures"]

        def val(name):
            return f.get(name, {}).get("value") if isinstance(f.get(name), dict) else None
        parts.append(f"{'VAE' if kind == 'vae' else 'AE'} {row['strategy']}: copy rate {_num(val('copy_rate'))}, "
                     f"new validity {_num(val('new_validity'))}, yield {_num(val('yield'))}")
    return "; ".join(parts)


def som_fig(docs: list[dict]) -> str:
    som, walk = docs[0], docs[1]
    valid = sum(1 for s in walk["samples"] if s["valid"])
    new = sum(1 for s in walk["samples"] if s["novel"])
    grid = walk.get("grid") or walk.get("map", {}).get("grid")
    return (f"som: QE {_num(som['quantization_error'], 4)}, TE {_num(som['topographic_error'], 3)}; "
            f"walk on grid {grid}: {valid}/{len(walk['samples'])} valid, {new} new, "
            f"same neuron {walk['same_neuron']}")


def vae_som_fig(docs: list[dict]) -> str:
    d, som = docs[0], docs[1]
    return (f"VAE loss {_num(d['final_loss'])}, MSE {_num(d['mse'])}, {d['epochs_run']} epochs; "
            f"10x10 map QE {_num(som['quantization_error'], 4)}, TE {_num(som['topographic_error'], 3)}")


# ---------------------------------------------------------------------------------------------
# The experiments


@dataclass
class Row:
    name: str
    commands: list[list[str]]          # argv without the leading "genval"
    figure: Callable[[list[dict]], str]
    seed: str
    note: str = ""
    rerun: str = ""                    # why it must be re-run after other branches merge
    shown: str = ""                    # the command as printed when it differs from commands[0]
    needs: str = ""                    # a train --help option the row needs; absent -> cannot run
    json: list[bool] = field(default_factory=list)


NQ = "not quoted"


def rows(jobs: int, epochs28: int) -> list[Row]:
    seeds = [0, 1, 2]
    fashion = ["--hidden", "", "--code-activation", "relu", "--activation", "relu",
               "--dropout", "0.1", "--batch-size", "1000", "--epochs", str(epochs28),
               "--validation-fraction", "0.1", "--dataset", "digits28.npz"]
    sgd = ["--optimizer", "gd", "--learning-rate", "0.1"]
    adam = ["--optimizer", "adam", "--learning-rate", "0.001"]
    sweep = ["--jobs", str(jobs), "--json", "-q"]
    short28 = ("" if epochs28 >= 100 else f"shortened to {epochs28} epochs (seed: 100). ")
    out = [
        Row("Font autoencoder {25,15}, 2-D latent, 10,000 epochs (issue 2's command)",
            [["train", "--dataset", "font", "--hidden", "25,15", "--latent", "2", "--epochs", "10000",
              "--optimizer", "adam", "--lr", "1e-3", "--seed", str(s), "--json", "-q"] for s in seeds],
            train_fig, "28 to 30 of 32 glyphs within one pixel after 10,000 epochs (issue 2)"),
        Row("Emoji autoencoder, genval's defaults (the SOM project's set)",
            [["train", "--dataset", "emojis", "--seed", str(s), "--json", "-q"] for s in seeds],
            train_fig, NQ),
        Row("Kohonen map of the emoji codes, then a walk :] → ;D on the same map",
            [["som", "--grid", "3x3", "--out", "map.npz", "--json", "-q"],
             ["interpolate", ":]", ";D", "--map", "map.npz", "--json", "-q"]],
            som_fig, NQ),
        Row("Architecture table (8 networks), 3 seeds, 10,000 epochs",
            [["sweep", "architectures", "--out", "architectures.csv", *sweep]],
            sweep_fig, NQ),
        Row("Momentum 0.7 on/off, adaptive rate (lr 1 and 5), 3 seeds, 10,000 epochs",
            [["sweep", "optimizers", "--out", "optimizers.csv", *sweep]],
            sweep_fig, NQ),
        Row("Mini-batches 5 and 10 (and full), 3 seeds, shipped 3,000 epochs",
            [["sweep", "minibatch", "--out", "minibatch.csv", *sweep]],
            sweep_fig, NQ, note="the adaptive rate at 1.0 (the seed's rate is not quoted). "),
        Row("tanh β=2 / ELU α=0.1 / leaky ReLU 0.01, shipped `seed000-activations` sweep, 3 seeds",
            [["sweep", "seed000-activations", "--out", "activations.csv", *sweep]],
            sweep_fig, "β values quoted, no figure: tanh β=2, ELU 0.1, leaky ReLU 0.01 (issue 20)"),
        Row("tanh β=2 / ELU α=0.1 / leaky ReLU 0.01 (seed 000's values) via `train`, seed 0",
            [["train", "--dataset", "font", "--activation", act, "--activation-param", p,
              "--epochs", "10000", "--json", "-q"]
             for act, p in (("tanh", "2"), ("elu", "0.1"), ("leaky_relu", "0.01"))],
            lambda d: train_fig(d, ["tanh 2", "ELU 0.1", "leaky 0.01"]),
            "β values quoted, no figure: tanh β=2, ELU 0.1, leaky ReLU 0.01 (issue 20)"),
        Row("tanh(βx) for β 0.5, 1, 2 (`tanh-beta`), 3 seeds",
            [["sweep", "tanh-beta", "--out", "tanh-beta.csv", *sweep]], sweep_fig, NQ),
        Row("Generalisation: train on 4, 8, 16, 32 glyphs, score the rest, 3 seeds",
            [["sweep", "generalisation", "--out", "generalisation.csv", *sweep]],
            lambda d: sweep_fig(d, "within_one"), NQ),
        Row("Depths at η 0.0005 (`slow-rate`), 3 seeds, 10,000 epochs",
            [["sweep", "slow-rate", "--out", "slow-rate.csv", *sweep]], sweep_fig, NQ),
        Row("Denoising, bit flips 10/15/20/30%, trained on 0,10,15,20% together, 200 trials",
            [["denoise", "--dataset", "font", "--levels", "0.1,0.15,0.2,0.3", "--trials", "200",
              "--json", "-q"]],
            denoise_fig, "92% at p=0.10 and 81% at p=0.15 (a public course solution; bound about 98% "
            "and 94%) (issue 5)"),
        Row("Denoiser architectures × training noise 10/15/20% (`noise`), 3 seeds",
            [["sweep", "noise", "--out", "noise.csv", *sweep]],
            sweep_fig, NQ, note="genval's own architectures: seed 000's are not quoted. "),
        Row("Training-noise sets [20], [10,15,20], [0,10,15,20] × test 0–20% (`noise-sets`), 3 seeds",
            [["sweep", "noise-sets", "--out", "noise-sets.csv", *sweep]],
            sweep_fig, NQ),
        Row("Denoiser learning rate × noise (`denoiser-rate`), 3 seeds",
            [["sweep", "denoiser-rate", "--out", "denoiser-rate.csv", *sweep]],
            sweep_fig, NQ),
        Row("Denoiser with the seed's optimizer: 32,16 / 8-D, adaptive lr 0.001, momentum 0.7, "
            "3,000 epochs, noise 10% (issue 20's silent failure)",
            [["train", "--dataset", "font", "--hidden", "32,16", "--n-latent", "8", "--optimizer",
              "adaptive", "--lr", "0.001", "--momentum", "0.7", "--epochs", "3000",
              "--noise-levels", "0.1", "--json", "-q"]],
            train_fig, NQ + " (issue 20 measured genval at loss 0.704, 0/32, no warning)"),
        Row("VAE on the emojis beside the plain autoencoder (`audit --compare --vae`)",
            [["audit", "--compare", "--vae", "--grid", "3x3", "--json", "-q"]],
            compare_fig, NQ),
        Row("Sparse (L1 on the code, 0.001) and contractive (0.01) autoencoders on the font",
            [["train", "--dataset", "font", "--activity-l1", "0.001", "--json", "-q"],
             ["train", "--dataset", "font", "--contractive", "0.01", "--json", "-q"]],
            lambda d: train_fig(d, ["L1 0.001", "contractive 0.01"]),
            NQ + " (penalties from the lecture, issue 5)"),
        Row("KL sparsity (target ρ 0.05, weight β 0, 0.1, 1) from the lecture, sigmoid code of 8, 3,000 epochs",
            [["train", "--dataset", "font", "--hidden", "30,20", "--n-latent", "8", "--code-activation", "sigmoid",
              "--sparsity-target", "0.05", "--sparsity-weight", b, "--epochs", "3000", "--json", "-q"]
             for b in ("0", "0.1", "1")],
            lambda d: train_fig(d, ["β 0", "β 0.1", "β 1"]), NQ + " (the seed's ρ and β are not quoted)"),
        Row("VAE on MNIST (stand-in: 28x28 digits), 512-256-2, ReLU, batch 256, 30 epochs, "
            "then a 10x10 map coloured by digit",
            [["train", "--dataset", "digits28.npz", "--vae", "--hidden", "512,256", "--activation",
              "relu", "--batch-size", "256", "--learning-rate", "0.001", "--epochs", "30",
              "--out", "vae.npz", "--json", "-q"],
             ["som", "--dataset", "digits28.npz", "--model", "vae.npz", "--grid", "10x10",
              "--plot", "vae-plane.png", "--json", "-q"]],
            vae_som_fig, NQ, note="stand-in, not MNIST. "),
        Row("20x20 emojis (stand-in: the 17 emojis resampled), 400 inputs, defaults",
            [["train", "--dataset", "emojis20.txt", "--json", "-q"]],
            lambda d: train_fig(d, ["seed 0"]), NQ, note="stand-in, not the course's 20x20 set. "),
        Row("Fashion-MNIST 784-512-784 ReLU, dropout 0.1, batch 1,000: SGD 0.1 vs Adam 0.001 "
            "(stand-in: 28x28 digits)",
            [["train", *fashion, "--n-latent", "512", *opt, "--out", f"{name}.npz", "--json", "-q"]
             for name, opt in (("sgd", sgd), ("adam", adam))],
            lambda d: grey_train_fig(d, ["SGD 0.1", "Adam 0.001"]), NQ,
            note=f"stand-in, not Fashion-MNIST: its 4,500 training items make 5 batches of 1,000 an "
                 f"epoch (Fashion-MNIST's 54,000: 54), so SGD takes about 11x fewer steps. {short28}"),
        Row("Fashion-MNIST grid: one hidden layer of 64, 128, 256 units, SGD vs Adam (stand-in)",
            [["train", *fashion, "--n-latent", str(k), *opt, "--json", "-q"]
             for k in (64, 128, 256) for opt in (sgd, adam)],
            lambda d: grey_train_fig(d, [f"{k} {o}" for k in (64, 128, 256) for o in ("SGD", "Adam")]),
            NQ + " (seed 004's figure: loss per epoch per size, issue 20)",
            note=f"stand-in; 512 is the row above; the shipped `seed004-fashion` sweep runs this grid. {short28}"),
        Row("Gaussian-noise filtering (each image's mean and spread × 0.5), seed 004's SGD vs Adam "
            "(stand-in)",
            [["denoise", "--dataset", "digits28.npz", "--model", f"{name}.npz", "--type", "image_gaussian",
              "--levels", "0.5", "--trials", "2", "--json", "-q"] for name in ("sgd", "adam")],
            lambda d: grey_denoise_fig(d, ["SGD", "Adam"]), NQ,
            note="stand-in; the models of the SGD/Adam row; constant 0.5 (the seed's not quoted). "),
        Row("A denoiser trained on that Gaussian noise (×0.5): 784-256-784 ReLU code, Adam, 20 epochs "
            "(stand-in)",
            [["train", "--dataset", "digits28.npz", "--hidden", "", "--n-latent", "256", "--code-activation",
              "relu", "--activation", "relu", "--noise-type", "image_gaussian", "--noise-levels", "0.5",
              "--batch-size", "1000", "--learning-rate", "0.001", "--epochs", "20", "--out", "denoiser.npz",
              "--json", "-q"],
             ["denoise", "--dataset", "digits28.npz", "--model", "denoiser.npz", "--type", "image_gaussian",
              "--levels", "0.5", "--trials", "2", "--json", "-q"]],
            lambda d: grey_train_fig(d[:1], ["train"]) + "; " + grey_denoise_fig(d[1:], ["denoise"]), NQ,
            note="stand-in; the README's command. "),
    ]
    return out


# ---------------------------------------------------------------------------------------------
# Running


def shown(argv: list[str]) -> str:
    return "genval " + " ".join(shlex.quote(a) for a in argv)


def run_row(row: Row, genval: str, work: Path, env: dict, timeout: float, help_text: str) -> dict:
    load = os.getloadavg()[0]
    if row.needs:  # an option the CLI may not have yet: report, never guess its values
        found = sorted(set(re.findall(rf"--[\w-]*{row.needs}[\w-]*", help_text, flags=re.I)))
        finding = ("cannot run from the CLI: `genval train --help` has no option naming KL or sparsity"
                   if not found else f"`genval train` now has {', '.join(found)}: give this row its "
                   "command (the seed's ρ and β are not quoted)")
        return {"row": row, "load": load, "seconds": 0.0, "figure": "—", "finding": finding, "docs": []}
    docs, finding = [], ""
    start = time.perf_counter()
    for argv in row.commands:
        try:
            proc = subprocess.run([genval, *argv], cwd=work, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            finding = f"`{shown(argv)}` timed out after {timeout:.0f} s"
            break
        err = [line for line in proc.stderr.splitlines() if line.strip()]
        if proc.returncode != 0:
            finding = f"`{shown(argv)}` exited {proc.returncode}: {err[-1] if err else proc.stdout[-200:]}"
            break
        if err:
            finding += f"stderr of `{argv[0]}`: {err[-1]} "
        try:
            docs.append(json.loads(proc.stdout))
        except json.JSONDecodeError:
            finding = f"`{shown(argv)}` printed no JSON: {proc.stdout[:200]!r}"
            break
    seconds = time.perf_counter() - start
    figure = "—"
    if len(docs) == len(row.commands):
        try:
            figure = row.figure(docs)
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            finding += f"figure not read from the JSON ({type(exc).__name__}: {exc}) "
    return {"row": row, "load": load, "seconds": seconds, "figure": figure, "finding": finding.strip(),
            "docs": docs}


def command_cell(row: Row) -> str:
    cmds = row.commands
    if not cmds:
        return "— (no CLI option yet)"
    if len(cmds) > 1 and all(len(c) == len(cmds[0]) and c[0] == cmds[0][0] for c in cmds):
        # one command varying in a few places: show it once with the varying values in braces
        merged = []
        for parts in zip(*cmds):
            values = list(dict.fromkeys(parts))
            merged.append(values[0] if len(values) == 1 else "{" + ",".join(values) + "}")
        text = "genval " + " ".join(a if a.startswith("{") else shlex.quote(a) for a in merged)
    else:
        text = "<br>".join(shown(c) for c in cmds)
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("<br>", "`<br>`") + "`"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(results: list[dict]) -> str:
    lines = ["| experiment | command | genval's figure | the seed's figure (as quoted) | time |",
             "|---|---|---|---|---|"]
    for r in results:
        row = r["row"]
        figure = r["figure"]
        if r["finding"]:
            figure += f" — **finding:** {r['finding']}"
        lines.append(f"| {cell(row.name)} | {command_cell(row)} | {cell(row.note + figure)} | {cell(row.seed)} "
                     f"| {r['seconds']:.1f} s (load {r['load']:.1f}) |")
    return "\n".join(lines)


def footer(results: list[dict], version: str, seconds: float, args, runs: int = 1) -> str:
    took = f"in {seconds:.0f} s" if runs == 1 else f"from {runs} runs taking {seconds:.0f} s in all"
    text = (f"\n\n{version}, {len(results)} rows {took}; sweeps with --jobs {args.jobs}; "
            f"28x28 stand-in of {args.standin_items} items. A command with {{a,b}} is one command per "
            "value; a ± is the spread over seeds as `genval sweep` reports it.")
    rerun = [f"- {r['row'].name}: once {r['row'].rerun}" for r in results if r["row"].rerun]
    if rerun:
        text += "\n\nRe-run after other branches merge:\n" + "\n".join(rerun)
    return text


def render(paths: list[Path], args) -> str:
    """The table from saved runs: a later file's row replaces an earlier one's; rows in table order."""
    order = {row.name: (i, row) for i, row in enumerate(rows(args.jobs, args.epochs28))}
    found, version, seconds = {}, "", 0.0
    for path in paths:
        saved = json.loads(path.read_text())
        version, seconds = saved["version"], seconds + saved["seconds"]
        for item in saved["rows"]:
            if item["name"] not in order:  # a row this version of the script no longer has
                print(f"skipped a row of {path} no longer in the table: {item['name']}", file=sys.stderr)
                continue
            i, row = order[item["name"]]
            figure = item["figure"]
            if item["docs"] and row.commands and len(item["docs"]) == len(row.commands):
                figure = row.figure(item["docs"])
            found[i] = dict(item, row=row, figure=figure)
    results = [found[i] for i in sorted(found)]
    return table(results) + footer(results, version, seconds, args, runs=len(paths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="work folder (default: a new temporary one)")
    parser.add_argument("--only", help="comma-separated row numbers (1-based) to run")
    parser.add_argument("--jobs", type=int, default=2, help="--jobs of every sweep (default 2)")
    parser.add_argument("--standin-items", type=int, default=5000, help="items of the 28x28 stand-in")
    parser.add_argument("--epochs28", type=int, default=100, help="epochs of the 28x28 SGD/Adam rows")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds allowed per command")
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) here")
    parser.add_argument("--render", type=Path, nargs="+", help="print the table again from runs' "
                        "results.json (figures re-read from the saved JSON, a later file's rows replacing "
                        "an earlier one's; nothing runs)")
    args = parser.parse_args()
    if args.render:
        print(render(args.render, args))
        return

    genval = str(Path(sys.executable).with_name("genval"))
    work = args.work or Path(tempfile.mkdtemp(prefix="course-table-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GENVAL_CACHE=str(work / "cache"))
    build_digits28(work / "digits28.npz", args.standin_items)
    build_emojis20(work / "emojis20.txt")
    help_text = subprocess.run([genval, "train", "--help"], capture_output=True, text=True).stdout
    version = subprocess.run([genval, "--version"], capture_output=True, text=True).stdout.strip()

    all_rows = rows(args.jobs, args.epochs28)
    chosen = ([all_rows[int(i) - 1] for i in args.only.split(",")] if args.only else all_rows)
    print(f"{version}; work folder {work}; load at start {os.getloadavg()}; {len(chosen)} rows",
          file=sys.stderr)
    results = []
    total = time.perf_counter()
    for i, row in enumerate(chosen, 1):
        r = run_row(row, genval, work, env, args.timeout, help_text)
        results.append(r)
        print(f"[{i}/{len(chosen)}] {r['seconds']:7.1f} s  load {r['load']:.1f}  {row.name[:60]}"
              f"{'  FINDING: ' + r['finding'][:200] if r['finding'] else ''}", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - total
    text = table(results) + footer(results, version, seconds, args)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    keep = ("seconds", "load", "figure", "finding", "docs")
    (work / "results.json").write_text(json.dumps(
        {"version": version, "seconds": seconds,
         "rows": [{"name": r["row"].name, **{k: r.get(k) for k in keep}} for r in results]}, default=str))

if __name__ == "__main__":
    main()
