"""genval explore: the page's data against genval decode, the command, and the page in headless Chromium."""

import dataclasses
import html
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from genval import Autoencoder, LatentSOM, LatentSpace, load_dataset
from genval.audit._judging import judge
from genval.cli.main import cli
from genval.errors import ParameterError
from genval.pages._explore import TILE_FRAMES, TILE_TINTS, explore_data, explore_html
from genval.latent._plane import plane
from genval.latent import latent_grid


def decoded_like_genval_decode(space, points):
    """Per plane point (x, y): the located sample and its verdict, computed as `genval decode X Y` does."""
    origin, axes = plane(space.codes)
    out = []
    for x, y in points:
        located = space.locate([origin + np.array([x, y]) @ axes])
        out.append((located, judge(located.pixels, space.bitmaps)))
    return out


def grid_point(data, r, c):
    """What the page shows at grid point (r, c): its label, nearest item, Hamming distance and neuron (0-based)."""
    import base64

    R = data["resolution"]
    bitmap = np.frombuffer(base64.b64decode(data["points"]["bitmap"]), "<u4")[r * R + c]
    neuron = np.frombuffer(base64.b64decode(data["points"]["neuron"]), "<u2")[r * R + c]
    b = data["bitmaps"]
    failed = [data["checks"]["names"][k] for k in b["failed"][bitmap]]
    copy = b["copy_of"][bitmap]
    label = ("valid" if not failed else f"invalid ({', '.join(failed)})") + \
        (", new" if copy < 0 else f", copy of {data['items']['names'][copy]}")
    return label, data["items"]["names"][b["nearest"][bitmap]], b["hamming"][bitmap], int(neuron)


# --- the data --------------------------------------------------------------------------------------------------

def test_the_grid_is_latent_grids_and_every_point_agrees_with_genval_decode(space):
    data = explore_data(space, resolution=21)
    xs, ys, _ = latent_grid(space, 21)
    assert data["xs"] == xs.tolist() and data["ys"] == ys.tolist()
    points = [(x, y) for y in ys for x in xs]
    for k, (located, verdicts) in enumerate(decoded_like_genval_decode(space, points)):
        label, nearest, hamming, neuron = grid_point(data, k // 21, k % 21)
        assert (label, nearest, hamming, neuron) == (verdicts.label(0), space.bitmaps.names[located.nearest[0]],
                                                     int(located.hamming[0]), int(located.neuron[0])), k


def test_a_wider_latent_space_is_shown_on_its_principal_plane():
    font = load_dataset("font")
    model = Autoencoder(n_latent=3, epochs=300, random_state=0).fit(font.X)
    space = LatentSpace.build(font, model, LatentSOM(grid=(3, 3), random_state=0))
    data = explore_data(space, resolution=9)
    assert data["plane"] == "principal" and data["n_latent"] == 3 and len(data["axes"]) == 2
    points = [(x, y) for y in data["ys"] for x in data["xs"]]
    labels = [grid_point(data, k // 9, k % 9)[0] for k in range(81)]
    assert labels == [v.label(0) for _, v in decoded_like_genval_decode(space, points)]


def test_distinct_bitmaps_are_stored_once(space):
    data = explore_data(space, resolution=51)
    assert data["bitmaps"]["count"] < 51 * 51 // 4
    assert len(data["bitmaps"]["failed"]) == len(data["bitmaps"]["nearest"]) == data["bitmaps"]["count"]


def test_the_page_uses_the_pictures_palette():
    from genval.plotting._decoded_plane import TILE_FRAMES as frames, TILE_TINTS as tints

    assert TILE_TINTS == tints and TILE_FRAMES == frames


@pytest.mark.parametrize("resolution", [1, 402])
def test_a_resolution_out_of_range_is_refused(space, resolution):
    with pytest.raises(ParameterError, match="resolution must be 2 to 401"):
        explore_data(space, resolution=resolution)


def test_the_page_is_self_contained_and_no_name_ends_its_script(space):
    renamed = load_dataset("emojis")
    names = list(renamed.names)
    names[0] = "</script><b>x"
    renamed = dataclasses.replace(renamed, names=tuple(names))
    page = explore_html(explore_data(LatentSpace(renamed, space.model, space.som, space.codes), resolution=5))
    assert page.count("</script>") == 2 and "<b>x" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


# --- the command -----------------------------------------------------------------------------------------------

def test_explore_writes_the_page_and_names_the_decode_command(tmp_path):
    out = tmp_path / "font.html"
    result = CliRunner().invoke(cli, ["explore", "--dataset", "font", "--grid", "4x4", "--resolution", "31",
                                      "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and "31x31 grid points of font" in result.stdout
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '"genval decode --dataset font --grid 4x4"' in page


def test_a_map_file_is_used_and_map_settings_beside_it_are_refused(tmp_path, space):
    path = tmp_path / "map.npz"
    space.som.save(path)
    out = tmp_path / "e.html"
    model = tmp_path / "model.npz"
    space.model.save(model)
    result = CliRunner().invoke(cli, ["explore", "--model", str(model), "--map", str(path), "--resolution", "5",
                                      "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert '"grid":[3,3]' in out.read_text(encoding="utf-8")
    assert f"genval decode --model {model} --map {path}" in out.read_text(encoding="utf-8")  # the same map
    refused = CliRunner().invoke(cli, ["explore", "--map", str(path), "--grid", "2x2", "--out", str(out)])
    assert refused.exit_code == 2 and "--grid sets up a new map, and --map" in refused.stderr


def test_a_map_of_other_codes_is_refused(tmp_path, space):
    path = tmp_path / "map.npz"
    LatentSOM(grid=(2, 2), random_state=0).fit(np.random.default_rng(0).normal(size=(20, 3))).save(path)
    result = CliRunner().invoke(cli, ["explore", "--map", str(path), "--out", str(tmp_path / "e.html")])
    assert result.exit_code == 1 and "fitted on codes of 3 dimensions, and these have 2" in result.stderr


# --- the page in a real browser ------------------------------------------------------------------------------------

def chromium() -> str | None:
    """A Chromium or Chrome binary: $GENVAL_CHROMIUM, or the first of Debian's and Google's names on PATH."""
    names = [os.environ.get("GENVAL_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome",
             "google-chrome-stable"]
    return next((shutil.which(n) for n in names if n and shutil.which(n)), None)


needs_browser = pytest.mark.skipif(chromium() is None, reason="no chromium binary (apt-get install chromium)")


def run_chromium(tmp_path, *args) -> str:
    """Headless Chromium on its own profile; its stdout. No sandbox: CI runs as root, where it cannot start."""
    command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


# Injected after the page's script: moves the cursor by mouse events over the canvas, reads what the panel
# shows, then the arrow keys and two clicks of a walk, and leaves the findings as JSON in <pre id="results">.
HARNESS = """
<script>
(() => {
  const points = %s, walkEnds = %s, plane = document.getElementById("plane"), R = %d;
  const text = id => document.getElementById(id).textContent;
  const at = (r, c) => { const box = plane.getBoundingClientRect();
    return {clientX: box.left + (c + 0.5) * box.width / R, clientY: box.top + (r + 0.5) * box.height / R, bubbles: true}; };
  const shown = () => ({row: +plane.dataset.row, col: +plane.dataset.col, verdict: text("verdict"),
                        nearest: text("nearest"), neuron: text("neuron"), command: text("command")});
  const results = {points: [], keys: [], walk: []};
  const start = performance.now();
  for (const [r, c] of points) { plane.dispatchEvent(new MouseEvent("mousemove", at(r, c))); results.points.push(shown()); }
  results.msPerMove = (performance.now() - start) / Math.max(1, points.length);
  plane.focus();
  for (const key of ["ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp", "ArrowUp"]) {
    plane.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true})); results.keys.push(shown());
  }
  for (const [r, c] of walkEnds) plane.dispatchEvent(new MouseEvent("click", at(r, c)));
  results.walk = Array.from(document.querySelectorAll(".walk-label"), e => [+e.dataset.row, +e.dataset.col, e.textContent]);
  results.focused = document.activeElement === plane;
  const pre = document.createElement("pre"); pre.id = "results"; pre.textContent = JSON.stringify(results);
  document.body.append(pre);
})();
</script>
</body>"""


@pytest.fixture(scope="module")
def emoji_page(tmp_path_factory):
    """A page of the emojis (a model that reconstructs them all, a 3x3 map) at the command's resolution."""
    emojis = load_dataset("emojis")
    model = Autoencoder(stop_wrong_pixels=0, random_state=0).fit(emojis.X)
    space = LatentSpace.build(emojis, model, LatentSOM(grid=(3, 3), random_state=0))
    data = explore_data(space)
    path = tmp_path_factory.mktemp("page") / "explore.html"
    path.write_text(explore_html(data), encoding="utf-8")
    return space, data, path


@needs_browser
def test_the_page_shows_genval_decodes_verdicts_under_the_cursor(emoji_page, tmp_path):
    space, data, path = emoji_page
    R = data["resolution"]
    rng = np.random.default_rng(0)
    # 300 grid points: 200 anywhere, 100 where the verdict changes from a neighbour's (the hard ones)
    kinds = np.array([grid_point(data, r, c)[0] for r in range(R) for c in range(R)]).reshape(R, R)
    edges = np.argwhere(kinds[:, 1:] != kinds[:, :-1])
    points = [tuple(map(int, p)) for p in rng.integers(0, R, (200, 2))] + \
             [tuple(map(int, p)) for p in edges[rng.choice(len(edges), 100, replace=False)]]
    walk_ends = [(40, 10), (40, 10 + 9 * 8)]  # 10 samples on grid points 8 columns apart
    page = path.read_text(encoding="utf-8").replace(
        "</body>", HARNESS % (json.dumps(points), json.dumps(walk_ends), R), 1)
    harness = tmp_path / "harness.html"
    harness.write_text(page, encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", harness.as_uri())
    results = json.loads(html.unescape(re.search(r'<pre id="results">(.*?)</pre>', dom, re.S).group(1)))

    xy = [(data["xs"][c], data["ys"][r]) for r, c in points]
    expected = decoded_like_genval_decode(space, xy)
    names = space.bitmaps.names
    agree = 0
    for (r, c), (x, y), (located, verdicts), got in zip(points, xy, expected, results["points"]):
        assert (got["row"], got["col"]) == (r, c)
        want = (verdicts.label(0), f"{names[located.nearest[0]]} at Hamming distance {located.hamming[0]}",
                int(located.neuron[0]) + 1, ["genval", "decode", x, y])
        # the command's numbers read back exactly (JavaScript may spell them otherwise: 0.00001 for 1e-05)
        command = got["command"].split()
        command[2:] = map(float, command[2:])
        agree += (got["verdict"], got["nearest"], int(got["neuron"].split()[1]), command) == want
    assert agree == len(points) == 300

    last = points[-1]
    moves = [(0, 1), (1, 0), (0, -1), (-1, 0), (-1, 0)]
    position = list(last)
    for (dr, dc), got in zip(moves, results["keys"]):
        position = [min(R - 1, max(0, position[0] + dr)), min(R - 1, max(0, position[1] + dc))]
        assert [got["row"], got["col"]] == position
        assert got["verdict"] == grid_point(data, *position)[0]
    assert results["focused"]

    assert [(r, c) for r, c, _ in results["walk"]] == [(40, 10 + 8 * i) for i in range(10)]
    for r, c, caption in results["walk"]:
        assert grid_point(data, r, c)[0] in caption


@needs_browser
def test_a_screenshot_of_the_page(emoji_page, tmp_path):
    """The page as a person sees it, with a walk; saved where $GENVAL_EXPLORE_SCREENSHOT says, to look at."""
    _, data, path = emoji_page
    x, y = data["xs"][30], data["ys"][60]
    shot = os.environ.get("GENVAL_EXPLORE_SCREENSHOT") or str(tmp_path / "explore.png")
    walk = f"{data['items']['xy'][1][0]},{data['items']['xy'][1][1]},{data['items']['xy'][4][0]},{data['items']['xy'][4][1]}"
    run_chromium(tmp_path, "--window-size=1100,900", f"--screenshot={shot}", f"{path.as_uri()}#point={x},{y}&walk={walk}")
    with open(shot, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")) == (1100, 900)
