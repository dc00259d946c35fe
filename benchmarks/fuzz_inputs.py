"""Fuzz the genval command line over issue 22's classes of hostile input, and count what happens.

For each class, ``--n`` inputs are made by mutating a valid one with a seeded
numpy Generator (same ``--seed``, same inputs); each is given to the real CLI
(the console script's ``genval.cli.main:main``) in a child process limited to ``--memory`` of
address space (RLIMIT_AS) and ``--timeout`` seconds. Each run's outcome is
counted: a clean error (exit 1 or 2, one ``Error:`` line on stderr, no
traceback), success (exit 0), a traceback or any other exit, a timeout; beside
them the runs whose peak resident memory passed 1 GiB (the child's own
``wait4`` figure), and for read-only targets any change to the file.

Run by hand (not part of the tests; a few hundred runs take minutes):

    python benchmarks/fuzz_inputs.py [--n 40] [--seed 0] [--jobs 2] [--classes png,text,...]

Inputs that end badly are kept under the printed folder, with their command lines in ``failures.txt``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import resource
import shutil
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

GiB = 2**30
GENVAL = [sys.executable, "-c", "from genval.cli.main import main; main()"]  # the console script's entry


def _limit(memory: int):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    return apply


def run(args: list[str], memory: int, timeout: float, env: dict) -> dict:
    """One child: its exit code, stderr, peak RSS in bytes and whether it timed out."""
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(GENVAL + args, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                 preexec_fn=_limit(memory), env=env)
        timer = threading.Timer(timeout, child.kill)
        timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        timed_out = not timer.is_alive() and child.returncode == -9
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    return {"code": child.returncode, "stderr": stderr, "rss": usage.ru_maxrss * 1024, "timeout": timed_out}


def outcome(result: dict) -> str:
    if result["timeout"]:
        return "timeout"
    lines = [line for line in result["stderr"].splitlines() if line.strip()]
    if "Traceback" in result["stderr"] or result["code"] not in (0, 1, 2):
        return "traceback/other"
    if result["code"] == 0:
        return "success"
    errors = [line for line in lines if line.startswith("Error:")]
    return "clean error" if len(errors) == 1 and lines[-1].startswith("Error:") else "error, not one line"


# --- the inputs: each maker writes one mutated input under `folder` and returns the CLI arguments -------------

def _mutate(data: bytes, rng: np.random.Generator, max_changes: int = 8) -> bytes:
    data = bytearray(data)
    for _ in range(int(rng.integers(1, max_changes + 1))):
        kind = rng.integers(4)
        at = int(rng.integers(len(data))) if data else 0
        if kind == 0 and data:
            data[at] = int(rng.integers(256))
        elif kind == 1:
            data[at:at] = rng.integers(256, size=int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
        elif kind == 2 and data:
            del data[at:at + int(rng.integers(1, 16))]
        elif data:  # an interesting integer over 4 bytes
            value = int(rng.choice([0, 1, 255, 2**15, 2**16 - 1, 2**31 - 1, 2**32 - 1, 13_000, 100_000]))
            data[at:at + 4] = struct.pack(">I", value)
    return bytes(data)


def _png_bytes(width: int, height: int, rng, mode: str = "L") -> bytes:
    from PIL import Image

    pixels = rng.integers(0, 256, size=(height, width) + ((4,) if mode == "RGBA" else ()), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, mode).save(out, format="PNG")
    return out.getvalue()


def _with_size(png: bytes, width: int, height: int) -> bytes:
    """A PNG whose IHDR claims another size, its CRC fixed: a decompression bomb's header."""
    ihdr = bytearray(png[12:29])
    ihdr[4:12] = struct.pack(">II", width, height)
    return png[:12] + bytes(ihdr) + struct.pack(">I", zlib.crc32(bytes(ihdr))) + png[33:]


def make_image(folder: Path, rng) -> list[str]:
    """A folder of PNGs, one of them a bomb's header, a mutated file or another format named .png."""
    images = folder / "images"
    images.mkdir()
    for k in range(3):
        (images / f"ok{k}.png").write_bytes(_png_bytes(6, 6, rng))
    kind = rng.integers(4)
    if kind == 0:
        side = int(rng.choice([4097, 13_000, 65_535, 2**31 - 1]))
        data = _with_size(_png_bytes(6, 6, rng, str(rng.choice(["L", "RGBA"]))), side, int(rng.integers(1, side + 1)))
    elif kind == 1:
        data = _mutate(_png_bytes(6, 6, rng), rng)
    elif kind == 2:
        from PIL import Image

        fmt = str(rng.choice(["BMP", "GIF", "TIFF", "ICO", "JPEG", "PPM", "EPS"]))
        image = Image.fromarray(rng.integers(0, 256, size=(6, 6), dtype=np.uint8), "L")
        out = io.BytesIO()
        (image.convert("CMYK") if fmt == "JPEG" and rng.integers(2) else image).save(out, format=fmt)
        data = out.getvalue()
    else:
        data = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 6 6\n" + rng.bytes(int(rng.integers(0, 64)))
    (images / "x.png").write_bytes(data)
    return ["show", str(images), "--limit", "4"]


def make_text(folder: Path, rng) -> list[str]:
    """A bitmap text or C header, mutated; or one behind gzip, possibly a bomb."""
    font = Path(__file__).resolve().parents[1] / "datasets"
    sources = sorted(p for p in font.rglob("*") if p.suffix in (".h", ".txt"))
    base = sources[int(rng.integers(len(sources)))].read_bytes()[:20_000] if sources else b"#..#\n.##.\n"
    suffix = ".h" if b"{" in base else ".txt"
    kind = rng.integers(3)
    if kind == 0:
        path = folder / f"set{suffix}"
        path.write_bytes(_mutate(base, rng, 30))
    elif kind == 1:
        path = folder / f"set{suffix}.gz"
        path.write_bytes(gzip.compress(_mutate(base, rng, 30)))
    else:  # a gzip bomb: megabytes of one byte
        path = folder / f"bomb{suffix}.gz"
        size = int(rng.choice([2**20, 2**26, 2**29, 2**31]))
        with gzip.open(path, "wb", compresslevel=1) as f:
            chunk = bytes([int(rng.choice([0, 35, 46, 10]))]) * 2**20
            for _ in range(size // 2**20):
                f.write(chunk)
    return ["show", str(path), "--limit", "3"]


def make_idx(folder: Path, rng) -> list[str]:
    """An IDX file whose header claims many small items (the per-item overhead), mutated, maybe gzipped."""
    n = int(rng.choice([1, 1000, 5_000_000, 50_000_000, 2**31 - 1]))
    rows, cols = (int(v) for v in rng.choice([1, 2, 28, 4097], size=2))
    dtype = int(rng.choice([0x08, 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x07]))
    header = struct.pack(">HBB", 0, dtype, 3) + struct.pack(">III", n, rows, cols)
    body = rng.integers(0, 256, size=int(rng.integers(0, 4096)), dtype=np.uint8).tobytes()
    data = header + body
    if rng.integers(3) == 0:
        data = _mutate(data, rng)
    path = folder / "images-idx3-ubyte"
    if rng.integers(2):
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data + bytes(int(rng.choice([0, 2**20, 2**24]))))
    path.write_bytes(data)
    return ["show", str(path), "--limit", str(int(rng.choice([1, 10, 10**9])))]


def make_weights(folder: Path, rng, model: Path, som: Path) -> list[str]:
    """The small model or its map with one array scaled past float32 (or to inf/nan), then used."""
    target = model if rng.integers(2) else som
    with np.load(target, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    numeric = [n for n, a in arrays.items() if a.dtype.kind == "f" and a.size]
    name = numeric[int(rng.integers(len(numeric)))]
    array = arrays[name].astype(np.float64 if rng.integers(2) else arrays[name].dtype)
    scale = float(rng.choice([1e20, 1e39, 1e160, 1e300, np.finfo(float).max, np.inf, np.nan, -1e300]))
    with np.errstate(all="ignore"):
        if rng.integers(2):
            array.flat[int(rng.integers(array.size))] = scale
        else:
            array = array * scale
    arrays[name] = array
    path = folder / target.name
    np.savez(path, **arrays)
    if target == model:
        command = str(rng.choice(["decode", "sample", "som", "grid", "interpolate", "audit"]))
        rest = {"decode": ["0", "0"], "interpolate": [":)", ":("], "sample": ["-n", "3"], "audit": ["-n", "20"],
                "grid": ["--size", "4"], "som": []}[command]
        return [command, *rest, "--model", str(path), "--grid", "2x2"]
    command = str(rng.choice(["decode", "sample", "som", "interpolate"]))
    rest = {"decode": ["0", "0"], "interpolate": [":)", ":(", "--path", "som"], "sample": ["-n", "3"], "som": []}
    return [command, *rest[command], "--model", str(model), "--map", str(path)]


def make_cache(folder: Path, rng, model: Path, som: Path) -> tuple[list[str], dict]:
    """GENVAL_CACHE at something unusable: too long, a file, a dangling link, a FIFO entry, no home."""
    kind = int(rng.integers(5))
    env = {}
    if kind == 0:
        env["GENVAL_CACHE"] = str(folder / "/".join(["d" * int(rng.integers(1, 256))] * int(rng.integers(1, 40))))
    elif kind == 1:
        (folder / "file").write_bytes(rng.bytes(int(rng.integers(0, 100))))
        env["GENVAL_CACHE"] = str(folder / "file" / ("sub" * int(rng.integers(0, 3))))
    elif kind == 2:
        (folder / "link").symlink_to(folder / "gone")
        env["GENVAL_CACHE"] = str(folder / "link")
    elif kind == 3:  # a FIFO at every entry name a model might take
        cache = folder / "cache"
        cache.mkdir()
        for name in ("model-emojis", "x"):
            os.mkfifo(cache / name)
        env["GENVAL_CACHE"] = str(cache)
    else:
        env["GENVAL_CACHE"] = ""
        env["HOME"] = ""
    command = [["cache", "list"], ["cache", "path"], ["som", "--grid", "2x2", "--iterations", "50"]][
        int(rng.integers(3))]
    return command, env


def make_read_only(folder: Path, rng, model: Path, som: Path) -> tuple[list[str], Path]:
    """An output over a file of a random mode (often read-only): it must be refused or written, never lost."""
    target = folder / str(rng.choice(["out.csv", "out.npz", "out.png"]))
    target.write_bytes(b"keep me")
    target.chmod(int(rng.integers(0, 0o1000)) & ~0o111)
    if target.suffix == ".csv":
        return ["audit", "-n", "5", "--model", str(model), "--map", str(som), "--csv", str(target)], target
    if target.suffix == ".npz":
        return ["som", "--model", str(model), "--grid", "2x2", "--iterations", "20", "--out", str(target)], target
    return ["decode", "0", "0", "--model", str(model), "--map", str(som), "--plot", str(target)], target


def make_csv(folder: Path, rng) -> list[str]:
    """A CSV of label,pixel... rows with odd values in some cells."""
    odd = ["1_0", "nan", "inf", "-inf", "1e999", "0x10", "١", "", " 1", "1 ", "+1", "--1", "1e-400", "TRUE",
           "0.5", "2", "-0", "１", "1,0", '"1"', "9" * 400]
    rows, width = int(rng.integers(1, 6)), int(rng.choice([4, 9, 16]))
    lines = ["label," + ",".join(f"pixel{k}" for k in range(width))] if rng.integers(2) else []
    for r in range(rows):
        cells = [str(int(rng.integers(0, 2))) for _ in range(width)]
        for _ in range(int(rng.integers(0, 3))):
            cells[int(rng.integers(width))] = str(rng.choice(odd))
        lines.append(f"{r}," + ",".join(cells))
    path = folder / "set.csv"
    path.write_text("\n".join(lines) + ("\n" if rng.integers(2) else ""), encoding="utf-8")
    return ["show", str(path)]


def make_npz(folder: Path, rng) -> list[str]:
    """A .npz whose member names hold control characters, odd Unicode or great length, asked for by name."""
    alphabet = ["a", "x_train", "\x1b[31m", "\x1b]0;t\x07", "\n", "\r", "\x00", "é", "\u202e", "🙂", "/", ".."]
    names = ["".join(rng.choice(alphabet, size=int(rng.integers(1, 6)))) for _ in range(int(rng.integers(1, 4)))]
    if rng.integers(4) == 0:
        names[0] = "n" * int(rng.integers(200, 5000))
    arrays = {name: rng.integers(0, 2, size=(3, 4, 4)).astype(np.uint8) for name in names}
    path = folder / "set.npz"
    try:
        np.savez(path, **arrays)
    except (ValueError, OSError):
        np.savez(path, x=np.zeros((3, 4, 4), np.uint8))
    choice = [str(path), f"{path}:{names[0]}", f"{path}:{names[-1]}x"][int(rng.integers(3))]
    return ["show", choice]


CLASSES = {"image": make_image, "text": make_text, "idx": make_idx, "weights": make_weights, "cache": make_cache,
           "read_only": make_read_only, "csv": make_csv, "npz": make_npz}
NEEDS_MODEL = {"weights", "cache", "read_only"}


def small_model(folder: Path) -> tuple[Path, Path]:
    from genval import Autoencoder, load_dataset
    from genval.latent import LatentSOM

    emojis = load_dataset("emojis")
    model = Autoencoder(epochs=60, random_state=0).fit(emojis.X)
    model.save(folder / "model.npz")
    LatentSOM(grid=(2, 2), iterations=50).fit(model.transform(emojis.X)).save(folder / "map.npz")
    return folder / "model.npz", folder / "map.npz"


def one(name: str, k: int, args, work: Path, model, som, env_base) -> tuple[str, dict, list[str], bool]:
    rng = np.random.default_rng([args.seed, list(CLASSES).index(name), k])
    folder = work / name / f"{k:04d}"
    folder.mkdir(parents=True)
    env, victim = dict(env_base), None
    made = CLASSES[name](folder, rng, model, som) if name in NEEDS_MODEL else CLASSES[name](folder, rng)
    if name == "cache":
        made, extra = made
        env.update(extra)
    elif name == "read_only":
        made, victim = made
    before = victim.read_bytes() if victim is not None else None
    writable = victim is not None and bool(stat.S_IMODE(victim.stat().st_mode) & 0o222)
    result = run(made, args.memory, args.timeout, env)
    lost = victim is not None and not writable and (not victim.exists() or victim.read_bytes() != before)
    return outcome(result), result, made, lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="inputs per class")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--memory", type=int, default=int(1.5 * GiB), help="RLIMIT_AS of each child, bytes")
    parser.add_argument("--classes", default=",".join(CLASSES))
    args = parser.parse_args()
    names = args.classes.split(",")

    work = Path(tempfile.mkdtemp(prefix="genval-fuzz-"))
    model, som = small_model(work)
    env_base = {**os.environ, "GENVAL_CACHE": str(work / "cache"), "PYTHONIOENCODING": "utf-8:strict"}
    started, load = time.perf_counter(), os.getloadavg()[0]
    counts = {name: {} for name in names}
    big, lost, failures = {name: 0 for name in names}, {name: 0 for name in names}, []
    with ThreadPoolExecutor(args.jobs) as pool:
        jobs = [(name, pool.submit(one, name, k, args, work, model, som, env_base))
                for k in range(args.n) for name in names]
        for name, job in jobs:
            kind, result, made, was_lost = job.result()
            counts[name][kind] = counts[name].get(kind, 0) + 1
            big[name] += result["rss"] > GiB
            lost[name] += was_lost
            if kind not in ("success", "clean error") or result["rss"] > GiB or was_lost:
                tail = result["stderr"].strip().splitlines()[-1:] or [""]
                failures.append(f"{name}: {kind} rss={result['rss'] / 2**20:.0f} MiB lost={was_lost}: "
                                f"genval {' '.join(made)}\n    {tail[0][:300]}")
    kinds = ["clean error", "success", "error, not one line", "traceback/other", "timeout"]
    print(f"{args.n} inputs per class, seed {args.seed}, {args.jobs} at a time, RLIMIT_AS "
          f"{args.memory / GiB:.1f} GiB, timeout {args.timeout:.0f} s; {time.perf_counter() - started:.0f} s, "
          f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"{'class':<10}" + "".join(f"{k:>21}" for k in kinds) + f"{'RSS > 1 GiB':>13}{'file lost':>11}")
    for name in names:
        print(f"{name:<10}" + "".join(f"{counts[name].get(k, 0):>21}" for k in kinds)
              + f"{big[name]:>13}{lost[name]:>11}")
    (work / "failures.txt").write_text("\n".join(failures) + "\n")
    print(f"\n{len(failures)} runs to look at: {work / 'failures.txt'}")
    for line in failures[:40]:
        print(line)
    if not failures:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
