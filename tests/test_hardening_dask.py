"""Sweeps on a Dask cluster that fails: one-line errors, and every run on the cluster, never in this process."""

import csv
import os
import socket
import subprocess
import sys
import threading

import pytest

from genval.errors import ParameterError
from genval.experiments import parse_sweep, run_sweep
from genval.experiments._sweep_dask import DaskClusterError

distributed = pytest.importorskip("distributed")

GENVAL = [sys.executable, "-c", "from genval.cli.main import main; main()"]
SMALL = 'dataset = "emojis"\n[fixed]\nepochs = 20\n[grid]\nrandom_state = [0, 1, 2]\n'
SLOW = 'dataset = "emojis"\n[fixed]\nepochs = 3000\n[grid]\nrandom_state = [0, 1, 2, 3]\n'


def _cluster(n_workers: int):
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=False,
                                    dashboard_address=None)


def test_on_a_one_thread_cluster_every_run_runs_on_the_cluster(tmp_path):
    with _cluster(1) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        with distributed.get_task_stream(client=client) as stream:
            rows = run_sweep(parse_sweep(SMALL), tmp_path / "runs.csv", scheduler=cluster.scheduler_address)
        client.sync(client.scheduler.ncores)  # a round trip, so that the stream holds the last run
    # 20 epochs end at the mean image ("stalled"); what matters here is that every run ran and none failed
    assert len(rows) == 3 and {row["status"] for row in rows} <= {"ok", "stalled"}
    assert sorted(task["key"].split("-")[0] for task in stream.data) == ["_run", "_run", "_run"]


def _kill_a_worker_after_the_first_run(cluster):
    def progress(done, total, settings, status):
        if done == 1:
            cluster.sync(next(iter(cluster.workers.values())).close)  # abruptly, with what it holds

    return progress


def test_when_all_workers_die_mid_sweep_it_stops_with_one_line_and_keeps_the_finished_runs(tmp_path):
    out = tmp_path / "runs.csv"
    with _cluster(1) as cluster:
        with pytest.raises(DaskClusterError) as caught:
            run_sweep(parse_sweep(SLOW), out, _kill_a_worker_after_the_first_run(cluster),
                      scheduler=cluster.scheduler_address)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"a run failed on the Dask cluster at {cluster.scheduler_address} (cancelled: the "
                              "workers that held it or its data were lost) with ")
    assert message.endswith("runs unfinished; the finished ones are kept, run the sweep again to resume")
    with open(out, newline="") as f:
        kept = list(csv.DictReader(f))
    assert 1 <= len(kept) < 4 and all(row["status"] == "ok" for row in kept)


def test_when_one_of_two_workers_dies_the_others_finish_the_sweep_with_the_same_rows(tmp_path):
    serial = run_sweep(parse_sweep(SLOW), tmp_path / "serial.csv")
    with _cluster(2) as cluster:
        rows = run_sweep(parse_sweep(SLOW), tmp_path / "cluster.csv", _kill_a_worker_after_the_first_run(cluster),
                         scheduler=cluster.scheduler_address)
        assert len(cluster.scheduler.workers) == 1
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in rows] == \
        [{k: v for k, v in r.items() if k not in drop} for r in serial]


def test_a_cluster_without_workers_is_one_line(tmp_path):
    with _cluster(0) as cluster:
        with pytest.raises(DaskClusterError, match=r"^the Dask cluster at \S+ has no worker \(waited 10 s\); "
                                                   r"expected at least one: start one with dask worker \S+$"):
            run_sweep(parse_sweep(SMALL), tmp_path / "runs.csv", scheduler=cluster.scheduler_address)
    assert not (tmp_path / "runs.csv").exists()


@pytest.mark.parametrize("address, expected", [
    ("garbage", "scheduler address 'garbage': missing port number in address 'garbage'; expected tcp://HOST:PORT"),
    ("tcp://host:99999", "scheduler address 'tcp://host:99999': port 99999 is not from 1 to 65535; expected"),
    ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at 'tcp://127.0.0.1:1': Connection refused"),
])
def test_a_bad_or_unreachable_address_is_one_line_and_nothing_after(tmp_path, address, expected):
    with pytest.raises(ParameterError) as caught:
        run_sweep(parse_sweep(SMALL), tmp_path / "runs.csv", scheduler=address)
    assert str(caught.value).startswith(expected)
    (tmp_path / "s.toml").write_text(SMALL)
    run = subprocess.run(GENVAL + ["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "r.csv"),
                                   "--scheduler", address], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "GENVAL_SCHEDULER": ""})
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"Error: {caught.value}"]


def test_an_address_where_no_scheduler_answers_is_given_up_with_one_line(tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))  # accepts connections, never says a word
    accepted = []
    threading.Thread(target=lambda: [accepted.append(listener.accept()) for _ in range(50)], daemon=True).start()
    address = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(ParameterError) as caught:
            run_sweep(parse_sweep(SMALL), tmp_path / "runs.csv", scheduler=address)
    finally:
        listener.close()
    assert str(caught.value) in (
        f"no Dask scheduler answered at {address!r} within 10 s; expected the address of a running scheduler "
        "(dask scheduler prints it)",
        f"cannot reach the Dask scheduler at {address!r}: Timed out trying to connect to {address} after 10 s")
    assert not (tmp_path / "runs.csv").exists()
