"""Every notebook is stored executed, and re-running it prints exactly what is stored.

A notebook is executed on a fresh kernel with an empty genval cache (the
autouse fixture of conftest.py), so the default models train as they would
for a new user. Its text outputs (stdout, and the ``text/plain`` of results
and displays) must equal the stored ones cell by cell; pictures are not
compared byte for byte (they depend on the matplotlib version), but every
stored picture must be produced again in the same cell.
"""

import copy
import difflib
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def text_outputs(cell) -> dict:
    """What a cell printed and showed, in a form that does not depend on timing.

    stdout may arrive in several stream messages (the split depends on when the
    kernel flushes), so it is joined; results and displays keep their order.
    """
    stdout = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")
    shown = [o.data["text/plain"] for o in cell.outputs
             if o.output_type in ("execute_result", "display_data") and "text/plain" in o.get("data", {})]
    images = sum("image/png" in o.get("data", {}) for o in cell.outputs)
    return {"stdout": stdout, "text/plain": shown, "images": images}


def differences(stored, executed) -> list[str]:
    """Cell by cell, how the executed notebook's outputs differ from the stored ones (empty: none)."""
    found = []
    stored_cells, executed_cells = code_cells(stored), code_cells(executed)
    if len(stored_cells) != len(executed_cells):
        return [f"{len(stored_cells)} code cells stored, {len(executed_cells)} executed"]
    for number, (old, new) in enumerate(zip(stored_cells, executed_cells), start=1):
        a, b = text_outputs(old), text_outputs(new)
        head = f"code cell {number} ({old.source.splitlines()[0] if old.source else ''!r})"
        if a["stdout"] != b["stdout"]:
            diff = difflib.unified_diff(a["stdout"].splitlines(), b["stdout"].splitlines(), "stored", "executed",
                                        lineterm="", n=1)
            found.append(f"{head}: stdout differs\n" + "\n".join(diff))
        if a["text/plain"] != b["text/plain"]:
            found.append(f"{head}: results differ: stored {a['text/plain']!r}, executed {b['text/plain']!r}")
        if a["images"] != b["images"]:
            found.append(f"{head}: {a['images']} pictures stored, {b['images']} shown")
    return found


def execute(nb, folder):
    nb = copy.deepcopy(nb)
    for cell in code_cells(nb):
        cell.outputs, cell.execution_count = [], None
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed(path):
    """A reader on a code host sees the outputs: every code cell ran, in order, and most show something."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = code_cells(nb)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert all(cell.outputs for cell in cells), "a code cell without output: store the executed notebook"
    assert not [o for cell in cells for o in cell.outputs if o.output_type == "error"]
    assert not [o for cell in cells for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"], \
        "warnings or progress on stderr were stored"
    # Nothing volatile stored: no timings, no temporary folders, no memory addresses.
    assert not [cell.metadata for cell in cells if "execution" in cell.metadata]
    text = "".join(text_outputs(cell)["stdout"] + "".join(text_outputs(cell)["text/plain"]) for cell in cells)
    assert not re.search(r"/tmp/|\btmp[a-z0-9_]{6,}|0x[0-9a-f]{8,}", text)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_reproduces_its_stored_outputs(path, tmp_path):
    stored = nbformat.read(path, as_version=4)
    executed = execute(stored, tmp_path)
    errors = [f"{o.ename}: {o.evalue}" for cell in code_cells(executed) for o in cell.outputs
              if o.output_type == "error"]
    assert not errors
    found = differences(stored, executed)
    assert not found, "the notebook no longer prints what is stored (re-execute and store it):\n\n" + \
        "\n\n".join(found)
    assert sum(text_outputs(cell)["images"] for cell in code_cells(executed)) >= 10, "the tour shows its pictures"


def test_a_changed_output_is_caught():
    """The comparison can fail: one digit, one picture or one cell changed is reported, with the cell."""
    stored = nbformat.read(ROOT / "notebooks" / "tour.ipynb", as_version=4)
    assert differences(stored, copy.deepcopy(stored)) == []
    digit = copy.deepcopy(stored)
    cell = next(c for c in code_cells(digit) if any(o.output_type == "stream" and re.search(r"\d", o.text)
                                                   for o in c.outputs))
    stream = next(o for o in cell.outputs if o.output_type == "stream" and re.search(r"\d", o.text))
    stream.text = re.sub(r"\d", lambda m: str((int(m.group()) + 1) % 10), stream.text, count=1)
    found = differences(stored, digit)
    assert len(found) == 1 and "stdout differs" in found[0]
    picture = copy.deepcopy(stored)
    cell = next(c for c in code_cells(picture) if text_outputs(c)["images"])
    cell.outputs = [o for o in cell.outputs if "image/png" not in o.get("data", {})]
    assert any("pictures stored" in f for f in differences(stored, picture))
    fewer = copy.deepcopy(stored)
    fewer.cells = fewer.cells[:-2]
    assert differences(stored, fewer)


def test_tour_uses_the_default_model_of_the_readme():
    """The notebook's neuron table is the one `genval som --grid 3x3` prints in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = re.findall(r"^Neuron \d+:.*$", readme, flags=re.MULTILINE)
    assert expected, "the README shows the neuron table of genval som --grid 3x3"
    nb = nbformat.read(ROOT / "notebooks" / "tour.ipynb", as_version=4)
    printed = {line for cell in code_cells(nb) for line in text_outputs(cell)["stdout"].splitlines()}
    assert [line for line in expected if line.rstrip() not in printed] == []
