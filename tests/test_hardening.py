"""Hardened inputs and outputs: numeric options, closed pipes, Ctrl-C, temporary files left by killed runs."""

import math
import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from genval._utils.files import atomic_write, remove_stale_temporaries
from genval.cli._common import SEED, FiniteFloat, GridType
from genval.cli.main import cli
from genval.errors import GenvalError
from genval.latent._som_params import MAX_NEURONS

GENVAL = [sys.executable, "-c", "from genval.cli.main import main; main()"]

_NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.sampled_from(["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "-1e309", "1e-400", "0x10", "1_0",
                     "", " ", "1,5", "٣", "1" * 5000]),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=500)
@given(text=_NUMBER_TEXT, low=st.sampled_from([None, 0.0, -1.0]), high=st.sampled_from([None, 1.0]),
       low_open=st.booleans(), high_open=st.booleans())
def test_a_finite_float_option_gives_a_finite_number_in_range_or_a_usage_error(text, low, high, low_open, high_open):
    kind = FiniteFloat(min=low, max=high, min_open=low_open, max_open=high_open)
    try:
        value = kind.convert(text, None, None)
    except click.BadParameter:
        return
    assert math.isfinite(value)
    assert low is None or (value > low if low_open else value >= low)
    assert high is None or (value < high if high_open else value <= high)


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "NaN", "1e999"])
def test_nan_and_inf_are_refused_naming_the_value(text):
    with pytest.raises(click.BadParameter, match=rf"'{text}' is not a finite number"):
        FiniteFloat(min=0).convert(text, None, None)
    assert FiniteFloat(min=0, max=1).convert("0.25", None, None) == 0.25


@settings(max_examples=300, deadline=500)
@given(text=st.one_of(st.from_regex(r"\s*[0-9]{1,25}\s*[xX]\s*[0-9]{1,25}\s*", fullmatch=True), st.text(max_size=12),
                      st.just("9" * 5000 + "x2")))
def test_a_grid_is_within_the_neuron_limit_or_a_usage_error(text):
    try:
        rows, cols = GridType().convert(text, None, None)
    except click.BadParameter:
        return
    assert 1 <= rows and 1 <= cols and rows * cols <= MAX_NEURONS


def test_grid_limits_name_the_count():
    with pytest.raises(click.BadParameter, match=r"'1000x1000' has 1,000,000 neurons, more than the limit of 100,000"):
        GridType().convert("1000x1000", None, None)
    with pytest.raises(click.BadParameter, match=r"has more neurons than the limit of 100,000"):
        GridType().convert("99999999999999999999x2", None, None)
    assert GridType().convert("316x316", None, None) == (316, 316)


@settings(max_examples=200, deadline=500)
@given(text=_NUMBER_TEXT)
def test_a_seed_is_a_non_negative_integer_or_a_usage_error(text):
    try:
        seed = SEED.convert(text, None, None)
    except click.BadParameter:
        return
    assert isinstance(seed, int) and seed >= 0


# ---------------------------------------------------------------- through the CLI

@pytest.mark.parametrize("args, message", [
    (["som", "--seed", "-1"], r"Invalid value for '--random-state' / '--seed': -1 is not in the range x>=0"),
    (["som", "--grid", "99999999999999999999x2"], r"'--grid': .* more neurons than the limit of 100,000"),
    (["som", "--grid", "1000x1000"], r"'--grid': '1000x1000' has 1,000,000 neurons"),
    (["som", "--sigma", "nan"], r"'--sigma': 'nan' is not a finite number"),
    (["som", "--som-lr", "inf"], r"'--som-learning-rate' / '--som-lr': 'inf' is not a finite number"),
    (["train", "--lr", "nan"], r"'--learning-rate' / '--lr': 'nan' is not a finite number"),
    (["train", "--beta", "inf"], r"'--beta': 'inf' is not a finite number"),
    (["train", "--dropout", "nan"], r"'--dropout': 'nan' is not a finite number"),
    (["train", "--out", "missing/dir/f.npz"], r"cannot write missing/dir/f.npz: the folder missing/dir does not exist"),
    (["train", "--out", "missing/"], r"missing/ names a folder; give a file name in it"),  # was a file "missing"
    (["show", "font", "--binarize", "nan"], r"'--binarize': 'nan' is not a finite number"),
])
def test_bad_numbers_are_usage_errors_before_any_work(args, message):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert __import__("re").search(message, result.output), result.output


@pytest.mark.parametrize("args, message", [
    (["train", "--hidden", "1000000000"], r"^Error: training a 35-1000000000-2-1000000000-35 network "
                                          r"\(76,000,000,037 parameters\) would need about 2\.5 TiB, more than the "
                                          r"memory budget of 64\.0 MiB; ask for fewer or raise GENVAL_MEMORY_BUDGET$"),
    (["train", "--n-latent", "1000000000"], r"^Error: training a 35-25-15-1000000000-15-25-35 network"),
    (["train", "--epochs", "1000000000000"], r"^Error: the loss curve of 1,000,000,000,000 epochs would need about "
                                             r"29\.1 TiB"),
    (["som", "--iterations", "1000000000000"], r"^Error: the training order of 1,000,000,000,000 map steps"),
])
def test_sizes_over_the_budget_are_one_line_errors(monkeypatch, args, message):
    monkeypatch.setenv("GENVAL_MEMORY_BUDGET", "64M")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert __import__("re").search(message, lines[-1]), result.output
    assert "Traceback" not in result.output


def test_a_closed_pipe_ends_quietly_with_exit_0():
    process = subprocess.Popen([*GENVAL, "show", "digits", "--limit", "1797"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"digits: 1797 items")
    process.stdout.close()  # as `| head -1` does
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert b"Broken pipe" not in err and b"Error" not in err and b"Traceback" not in err


def test_ctrl_c_prints_one_line_and_exits_130():
    process = subprocess.Popen([*GENVAL, "train", "--epochs", "10000000"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stderr.readline()  # the long-run note: training has started
        assert b"long run" in line
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert err.decode().rstrip().splitlines()[-1] == "interrupted"
    assert b"Traceback" not in err and out == b""


# ---------------------------------------------------------------- temporary files

def test_a_killed_writers_temporary_is_removed_by_the_next_write_beside_it(tmp_path):
    target = tmp_path / "runs.csv"
    writer = textwrap.dedent(f"""
        import sys, time
        from genval._utils.files import atomic_write
        with atomic_write({str(target)!r}, "w") as fh:
            fh.write("half a table")
            fh.flush()
            print("writing", flush=True)
            time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"writing\n"
        left = [p.name for p in tmp_path.iterdir()]
        assert len(left) == 1 and left[0].startswith(f".runs.csv.genval-{process.pid}-") and left[0].endswith(".tmp")
        # While the writer lives, its temporary is not stale.
        assert remove_stale_temporaries(tmp_path) == []
        process.kill()  # SIGKILL: no chance to clean up
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert [p.name for p in tmp_path.iterdir()] == left
    with atomic_write(tmp_path / "other.csv", "w") as fh:
        fh.write("done")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.csv"]
    assert not target.exists()


def test_write_errors_name_the_target_not_the_temporary(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(GenvalError, match=rf"^cannot write {tmp_path / 'folder.csv'}: it is a folder$"):
        with atomic_write(tmp_path / "folder.csv", "w") as fh:
            fh.write("x")
    assert [p.name for p in tmp_path.iterdir()] == ["folder.csv"]
    with pytest.raises(GenvalError, match=r"the folder .*missing does not exist"):
        with atomic_write(tmp_path / "missing" / "f.csv", "w"):
            pass


def test_links_pipes_and_devices_are_written_through_not_replaced(tmp_path):
    # A rename over a link would cut it; over a FIFO or a device (/dev/stdout, /dev/null) it would put a
    # regular file in its place, for every program after.
    (tmp_path / "target.csv").write_text("precious")
    (tmp_path / "link.csv").symlink_to("target.csv")
    with atomic_write(tmp_path / "link.csv", "w") as fh:
        fh.write("new")
    assert (tmp_path / "link.csv").is_symlink() and (tmp_path / "target.csv").read_text() == "new"
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    with atomic_write(fifo, "wb") as fh:
        fh.write(b"a,b\n1,2\n")
    reader.join(timeout=30)
    assert received == [b"a,b\n1,2\n"] and stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.csv", "link.csv", "target.csv"]


# --- read-only targets: refused as a shell's ">" refuses them, the file kept byte for byte -------------

@settings(max_examples=60, deadline=None)
@given(mode=st.integers(0, 0o777), old=st.binary(max_size=64), text_mode=st.booleans())
def test_a_file_without_write_permission_is_never_replaced_and_a_writable_one_keeps_its_mode(mode, old, text_mode):
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "out.csv"
        target.write_bytes(old)
        target.chmod(mode)
        try:
            with atomic_write(target, "w" if text_mode else "wb") as fh:
                fh.write("new" if text_mode else b"new")
        except GenvalError as exc:
            assert not mode & 0o222
            assert str(exc) == f"cannot write {target}: Permission denied (the file is read-only)"
            assert target.read_bytes() == old
        else:
            assert mode & 0o222 and target.read_bytes() == b"new"
        assert stat.S_IMODE(target.stat().st_mode) == mode
        assert os.listdir(folder) == ["out.csv"]


@pytest.mark.parametrize("args", [["audit", "-n", "5", "--csv"], ["train", "--epochs", "1", "--out"]])
def test_the_cli_refuses_a_read_only_output_before_any_work(tmp_path, args):
    target = tmp_path / ("ro.csv" if "--csv" in args else "ro.npz")
    target.write_bytes(b"keep me")
    target.chmod(0o444)
    result = CliRunner().invoke(cli, [*args, str(target)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].endswith(f"cannot write {target}: Permission denied "
                                                           "(the file is read-only)")
    assert target.read_bytes() == b"keep me" and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_another_users_file_in_a_writable_folder_is_not_replaced(shared_folder, as_other_user):
    # A rename needs only the folder's permission: without the check, user nobody replaces root's file.
    victim = shared_folder / "root.csv"
    victim.write_bytes(b"root's data")
    victim.chmod(0o644)
    def overwrite():
        try:
            with atomic_write(victim, "w") as fh:
                fh.write("overwritten")
        except GenvalError as exc:
            return str(exc)
        return "written"
    assert as_other_user(overwrite) == f"cannot write {victim}: Permission denied (the file is read-only)"
    assert victim.read_bytes() == b"root's data" and victim.stat().st_uid == 0


@settings(max_examples=30, deadline=None)
@given(digits=st.integers(310, 6000))  # past the largest float
def test_a_budget_of_thousands_of_digits_is_one_line_not_an_overflow(digits):
    from genval._utils.budget import memory_budget
    from genval.errors import ParameterError

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENVAL_MEMORY_BUDGET", "9" * digits)
        with pytest.raises(ParameterError, match=r"^GENVAL_MEMORY_BUDGET must be a positive size such as .*, got "
                                                 r"'9{40}\.\.\.'$"):
            memory_budget()
