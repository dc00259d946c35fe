"""genval explore on grey sets (the decoded grey levels under the cursor), in latent spaces wider than two (walks
between items decoded in the full space, as genval interpolate), and its --json document."""

import base64
import html
import json
import re
from importlib.resources import files

import numpy as np
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from genval import Autoencoder, BitmapSet, LatentSOM, LatentSpace, load_dataset
from genval.audit._judging import judge
from genval.cli.main import cli
from genval.latent import walk
from genval.latent._plane import plane
from genval.pages._explore import explore_data, explore_html
from genval.pages._explore_walks import MAX_WALK_ITEMS, grey_levels, grey_stride, walk_items
from test_explore import grid_point, needs_browser, run_chromium


@pytest.fixture(scope="module")
def grey_space():
    """200 of the 8x8 grey digits, a small model and a 3x3 map."""
    digits = load_dataset("digits")
    few = BitmapSet(digits.names[:200], digits.X[:200], digits.shape, "digits, 200")
    model = Autoencoder(hidden=(32,), epochs=200, random_state=0).fit(few.X)
    return LatentSpace.build(few, model, LatentSOM(grid=(3, 3), random_state=0))


@pytest.fixture(scope="module")
def wide_space():
    """The font with a 3-D model and a 3x3 map."""
    font = load_dataset("font")
    model = Autoencoder(n_latent=3, epochs=300, random_state=0).fit(font.X)
    return LatentSpace.build(font, model, LatentSOM(grid=(3, 3), random_state=0))


def grey_of(data, r, c):
    """The 8-bit levels the page holds at grid point (r, c), or None."""
    g = data["greys"]
    index = np.frombuffer(base64.b64decode(g["index"]), "<i4")[r * data["resolution"] + c]
    if index < 0:
        return None
    p = data["shape"][0] * data["shape"][1]
    return np.frombuffer(base64.b64decode(g["levels"]), np.uint8)[index * p:(index + 1) * p]


def decoded_at(space, x, y):
    origin, axes = plane(space.codes)
    return space.locate([origin + np.array([x, y]) @ axes])


# --- grey levels -------------------------------------------------------------------------------------------------

def test_a_grey_set_keeps_each_grid_points_grey_levels_and_the_bitmaps_verdict(grey_space):
    data = explore_data(grey_space, resolution=11)
    assert data["greys"]["stride"] == 1 and data["binary"] is False
    for r in range(11):
        for c in range(11):
            located = decoded_at(grey_space, data["xs"][c], data["ys"][r])
            assert np.array_equal(grey_of(data, r, c), grey_levels(located.pixels[0])), (r, c)
            assert grid_point(data, r, c)[0] == judge(located.pixels, grey_space.bitmaps).label(0)
    levels = np.frombuffer(base64.b64decode(data["greys"]["levels"]), np.uint8)
    assert len(np.unique(levels)) > 2  # grey, not a bitmap


def test_over_the_budget_every_strideth_grid_point_keeps_its_grey(grey_space, monkeypatch):
    import genval.pages._explore as explore_module

    monkeypatch.setattr(explore_module, "grey_stride", lambda resolution, p: grey_stride(resolution, p, 16 * p))
    data = explore_data(grey_space, resolution=11)
    assert data["greys"]["stride"] == 3  # 4 x 4 grid points of 11 x 11: rows and columns 0, 3, 6, 9
    kept = [(r, c) for r in range(11) for c in range(11) if grey_of(data, r, c) is not None]
    assert kept == [(r, c) for r in (0, 3, 6, 9) for c in (0, 3, 6, 9)]


def test_a_bitmap_set_has_no_grey_levels(space):
    assert explore_data(space, resolution=5)["greys"] is None


def test_the_grey_budget_picks_the_smallest_stride():
    assert [grey_stride(101, 64), grey_stride(101, 784), grey_stride(5, 10, budget=90), grey_stride(5, 10, 1)] == \
        [1, 2, 2, 5]


# --- walks in a wider space ----------------------------------------------------------------------------------------

def walk_labels(space, data, a, b, path):
    """genval.latent.walk's "same neuron: yes/no" and its samples' labels, as the page words them."""
    w = walk(space, a, b, steps=data["walks"]["steps"], path=path)
    verdicts = judge(w.located.pixels, space.bitmaps)
    names = space.bitmaps.names
    same = f"same neuron: {'yes' if w.same_neuron else 'no'}"
    return same, [f"{verdicts.label(i)}; near {names[w.located.nearest[i]]} ({w.located.hamming[i]})"
                  for i in range(len(w.t))]


def test_walks_between_items_are_genval_walks_decoded_in_the_full_space(wide_space):
    data = explore_data(wide_space, resolution=9)
    wk, names = data["walks"], wide_space.bitmaps.names
    assert wk["items"] == list(range(len(names))) and wk["steps"] == 10
    m = len(wk["items"])
    b = data["bitmaps"]
    for path in ("line", "som"):
        held = np.frombuffer(base64.b64decode(wk[path]), "<u4").reshape(m, m, 10)
        for i, j in [(0, 5), (5, 0), (3, 17), (31, 2)]:
            w = walk(wide_space, names[i], names[j], steps=10, path=path)
            verdicts = judge(w.located.pixels, wide_space.bitmaps)
            packed = np.frombuffer(base64.b64decode(b["packed"]), np.uint8).reshape(b["count"], -1)
            bits = np.unpackbits(packed[held[i, j]], axis=1, count=35).astype(bool)
            assert np.array_equal(bits, w.located.binary), (path, i, j)
            assert [tuple(data["checks"]["names"][k] for k in b["failed"][h]) for h in held[i, j]] == list(verdicts.failed)
    assert explore_data(load_space_2d(), resolution=5)["walks"] is None


def load_space_2d():
    emojis = load_dataset("emojis")
    return LatentSpace.build(emojis, Autoencoder(epochs=50, random_state=0).fit(emojis.X), LatentSOM(grid=(2, 2)))


def test_a_big_set_holds_walks_between_one_item_per_occupied_neuron(grey_space):
    items = walk_items(grey_space)
    winners = grey_space.som.winners(grey_space.codes)
    assert len(grey_space.bitmaps) > MAX_WALK_ITEMS and sorted(winners[items]) == sorted(set(winners.tolist()))


# --- in a browser ---------------------------------------------------------------------------------------------------

# Injected after the page's script: the grey levels drawn under the cursor, and the captions of walks made by
# clicking two items (or an item and a point), left as JSON in <pre id="results">.
HARNESS = """
<script>
(() => {
  const plane = document.getElementById("plane"), out = {walks: []};
  const click = (x, y) => { const [px, py] = toCanvas(x, y), box = plane.getBoundingClientRect();
    plane.dispatchEvent(new MouseEvent("click", {clientX: box.left + px, clientY: box.top + py, bubbles: true})); };
  const canvas = document.getElementById("bitmap");
  const g = canvas.getContext("2d"), scale = (canvas.width - 4) / W;
  out.grey = canvas.dataset.grey; out.note = document.getElementById("grey-note").textContent;
  out.levels = Array.from({length: P}, (_, i) => 255 - g.getImageData(2 + (i %% W + 0.5) * scale, 2 + (Math.floor(i / W) + 0.5) * scale, 1, 1).data[0]);
  for (const [path, a, b] of %s) {
    document.querySelector(`input[name="path"][value="${path}"]`).checked = true;
    ends = [];
    click(...a); click(...b);
    out.walks.push({status: document.getElementById("walk-status").textContent,
                    captions: Array.from(document.querySelectorAll(".walk-label"), e => e.textContent.replace(/^\\d+: t [0-9.]+ /, ""))});
  }
  const pre = document.createElement("pre"); pre.id = "results"; pre.textContent = JSON.stringify(out);
  document.body.append(pre);
})();
</script>
</body>"""


def in_browser(tmp_path, data, point, walks):
    page = explore_html(data).replace("</body>", HARNESS % json.dumps(walks), 1)
    path = tmp_path / "harness.html"
    path.write_text(page, encoding="utf-8")
    dom = run_chromium(tmp_path, "--dump-dom", f"{path.as_uri()}#point={point[0]},{point[1]}")
    return json.loads(html.unescape(re.search(r'<pre id="results">(.*?)</pre>', dom, re.S).group(1)))


@needs_browser
def test_the_page_draws_the_grey_levels_under_the_cursor(grey_space, tmp_path):
    data = explore_data(grey_space, resolution=21)
    r, c = 7, 12
    results = in_browser(tmp_path, data, (data["xs"][c], data["ys"][r]), [])
    assert results["grey"] == "yes" and "grey levels" in results["note"]
    assert results["levels"] == grey_of(data, r, c).tolist()


@needs_browser
def test_the_page_shows_genval_interpolates_walks_in_a_3d_space(wide_space, tmp_path):
    data = explore_data(wide_space, resolution=21)
    names, xy = wide_space.bitmaps.names, data["items"]["xy"]
    pairs = [("line", 0, 5), ("som", 0, 5), ("line", 17, 3), ("som", 31, 2)]
    point = (data["xs"][0], data["ys"][0])
    walks = [(path, xy[i], xy[j]) for path, i, j in pairs] + [("line", xy[0], point)]
    results = in_browser(tmp_path, data, point, walks)
    for (path, i, j), got in zip(pairs, results["walks"]):
        assert got["status"].startswith(f"{names[i]} -> {names[j]}") and "full 3-D space" in got["status"]
        same, captions = walk_labels(wide_space, data, names[i], names[j], path)
        assert got["captions"] == captions and same in got["status"], (path, i, j)
    assert results["walks"][-1]["captions"] == [] and "from item to item" in results["walks"][-1]["status"]


# --- --json ----------------------------------------------------------------------------------------------------------

def test_explore_json_is_one_document_that_matches_its_schema(tmp_path):
    out = tmp_path / "font.html"
    result = CliRunner().invoke(cli, ["explore", "--dataset", "font", "--grid", "3x3", "--resolution", "11",
                                      "--out", str(out), "--json", "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    schema = json.loads(files("genval").joinpath("schemas", "explore.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(doc)) == []
    assert doc["path"] == str(out) and doc["bytes"] == out.stat().st_size and doc["resolution"] == 11
    page = json.loads(re.search(r'id="genval-data">(.*?)</script>', out.read_text(encoding="utf-8"), re.S).group(1))
    assert doc["distinct_bitmaps"] == page["bitmaps"]["count"] and doc["dataset"] == "font"
    assert doc["map"]["grid"] == [3, 3] and doc["model"]["file"] == "default"
