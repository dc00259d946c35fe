"""A sweep's runs on a Dask cluster: every run on the cluster's workers, never in this process.

joblib's Dask backend runs a cluster of one thread as joblib's sequential
backend, in the client process, and carries on there (or fails with a
``FutureCancelledError`` traceback) when the workers die; a bad address leaves a
half-made ``Client`` that stalls at exit. Here the address is checked and
reached before a ``Client`` is made, each run is a Dask future, and whatever
goes wrong on the cluster (no worker left, a worker killed by a run, the
scheduler gone) ends the sweep with one :class:`DaskClusterError` line; the
runs that finished stay in the CSV and a rerun resumes from them.
"""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from genval._utils.archive import brief
from genval.errors import GenvalError, ParameterError

__all__: list[str] = []

CONNECT_SECONDS = 10  # to reach the scheduler, as joblib and dask wait
NO_WORKER_SECONDS = 10  # a cluster without a worker this long (none came, or all died) ends the sweep
_POLL_SECONDS = 0.2


class DaskClusterError(GenvalError, RuntimeError):
    """The Dask cluster could not run the sweep's runs: no worker, a worker killed, the scheduler lost."""


def check_address(scheduler: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``tcp://`` or ``tls://`` scheduler address (None for another protocol); a
    ParameterError naming the address when it is none.

    >>> check_address("tcp://10.0.0.5:8786"), check_address("scheduler:8786")
    (('10.0.0.5', 8786), ('scheduler', 8786))
    >>> check_address("garbage")
    Traceback (most recent call last):
    ...
    genval.errors.ParameterError: scheduler address 'garbage': missing port number in address 'garbage'; expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786
    """
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    try:
        scheme, location = parse_address(scheduler)
        if scheme not in ("tcp", "tls"):
            return None
        host, port = parse_host_port(location)
        if not (host and 1 <= int(port) <= 65535):
            raise ValueError(f"port {port} is not from 1 to 65535" if host else "no host")
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"scheduler address {scheduler!r}: {brief(exc)}; expected tcp://HOST:PORT, e.g. "
                             "tcp://10.0.0.5:8786") from None
    return host, int(port)


@contextmanager
def dask_client(scheduler: str):
    """A ``distributed.Client`` of the scheduler at ``scheduler``, closed after; a ParameterError if unreachable."""
    try:
        from distributed import Client
    except ImportError:
        raise ParameterError("running on a Dask cluster needs the distributed package: "
                             "pip install 'genval[dask]'") from None
    where = check_address(scheduler)
    if where is not None:  # reached first, so that no half-made Client is left to stall at exit
        try:
            socket.create_connection(where, timeout=CONNECT_SECONDS).close()
        except OSError as exc:
            raise ParameterError(f"cannot reach the Dask scheduler at {scheduler!r}: "
                                 f"{exc.strerror or brief(exc) or type(exc).__name__}") from None
    client = _connect(Client, scheduler)
    try:
        yield client
    finally:
        client.close()


def _connect(Client, scheduler: str):
    """``Client(scheduler)``, given up after :data:`CONNECT_SECONDS` (and a grace of 5 s) even where ``Client``
    itself would wait for ever: at an address where something listens that never answers as a scheduler."""
    made: dict = {}

    def connect() -> None:
        try:
            made["client"] = Client(scheduler, set_as_default=False, timeout=CONNECT_SECONDS)
        except Exception as exc:  # handed to the caller's thread, below
            made["error"] = exc

    thread = threading.Thread(target=connect, name="genval-dask-connect", daemon=True)  # not waited for at exit
    thread.start()
    thread.join(CONNECT_SECONDS + 5)
    if thread.is_alive():
        raise ParameterError(f"no Dask scheduler answered at {scheduler!r} within {CONNECT_SECONDS} s; expected "
                             "the address of a running scheduler (dask scheduler prints it)")
    error = made.get("error")
    if isinstance(error, (OSError, TimeoutError, ValueError)):
        raise ParameterError(f"cannot reach the Dask scheduler at {scheduler!r}: {brief(error)}") from None
    if error is not None:
        raise error
    return made["client"]


def dask_results(client, scheduler: str, function: Callable, calls: list[tuple], data) -> Iterator:
    """``function(*call, data)`` for every call, each run on a worker of ``client``'s cluster, as they finish.

    Raises
    ------
    DaskClusterError
        When the cluster has had no worker for :data:`NO_WORKER_SECONDS`, a run
        killed its workers (Dask's ``KilledWorker``), or the scheduler is lost.
    """
    _wait_for_a_worker(client, scheduler)
    futures = []
    try:
        shared = client.scatter(data, hash=False, broadcast=True)  # on every worker: one may die
        futures = [client.submit(function, *call, shared, pure=False) for call in calls]
        pending = set(futures)
        alone_since = None
        while pending:
            # "lost" (its result died with a worker before it was fetched) is not done: Dask computes it again
            finished = [f for f in pending if f.status in ("finished", "error", "cancelled")]
            if not finished:
                alone_since = _check_workers(client, scheduler, alone_since, len(pending))
                time.sleep(_POLL_SECONDS)
                continue
            for future in finished:
                if future.status in ("error", "cancelled"):
                    _fail(future, scheduler, len(pending))
                try:
                    result = future.result(timeout=NO_WORKER_SECONDS)
                except TimeoutError:  # its result was lost with a worker since: Dask computes it again
                    continue
                pending.discard(future)
                yield result
    finally:
        if futures:
            client.cancel(futures)


def _wait_for_a_worker(client, scheduler: str) -> None:
    try:
        client.wait_for_workers(1, timeout=NO_WORKER_SECONDS)
    except TimeoutError:
        raise DaskClusterError(f"the Dask cluster at {scheduler} has no worker (waited {NO_WORKER_SECONDS} s); "
                               "expected at least one: start one with dask worker " + scheduler) from None


def _check_workers(client, scheduler: str, alone_since: float | None, n_pending: int) -> float | None:
    """When the cluster became workerless (None: it has workers); an error once that lasts too long."""
    try:
        n_workers = len(client.ncores())
    except (OSError, TimeoutError) as exc:
        raise DaskClusterError(f"lost the Dask scheduler at {scheduler} ({brief(exc)}) with {n_pending} runs "
                               "unfinished; the finished ones are kept, run the sweep again to resume") from None
    if n_workers:
        return None
    now = time.monotonic()
    if alone_since is not None and now - alone_since >= NO_WORKER_SECONDS:
        raise DaskClusterError(f"the Dask cluster at {scheduler} has had no worker for {NO_WORKER_SECONDS} s "
                               f"(they died or left) with {n_pending} runs unfinished; the finished ones are kept, "
                               "run the sweep again to resume")
    return now if alone_since is None else alone_since


def _fail(future, scheduler: str, n_pending: int) -> None:
    what = ("cancelled: the workers that held it or its data were lost" if future.status == "cancelled" else
            f"{type(future.exception()).__name__}: {brief(future.exception())}")
    raise DaskClusterError(f"a run failed on the Dask cluster at {scheduler} ({what}) with {n_pending} runs "
                           "unfinished; the finished ones are kept, run the sweep again to resume")
