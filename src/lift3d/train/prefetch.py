"""Build batches in a background thread, so image decoding overlaps the network's work, without ever hanging.

A failure in the loading thread (a missing or truncated file) travels to the consumer and is raised there, at the
batch it broke, as the project error the reader raised (or a :class:`DatasetError` naming the items); a consumer
that stops early (an exception in the training step, Ctrl-C) stops the thread. Neither side can wait forever for
the other.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from lift3d.errors import DatasetError, Lift3DError

J = TypeVar("J")
_DONE = object()
_POLL_S = 0.5  # how often a blocked side checks whether the other is still there


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def prefetch(make: Callable[[J], Any], jobs: Iterable[J], depth: int = 2) -> Iterator[Any]:
    """Yield ``make(job)`` for each job, computed up to ``depth`` jobs ahead in a daemon thread.

    Exceptions raised by ``make`` are re-raised in the caller's thread: project errors as they are, others as a
    :class:`DatasetError` naming the job (the original chained as its cause).
    """
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for job in jobs:
                try:
                    item = make(job)
                except Lift3DError as exc:
                    item = _Failure(exc)
                except Exception as exc:  # noqa: BLE001 - any loader failure ends the job with its message
                    item = _Failure(DatasetError(f"loading batch {job!r} failed: {type(exc).__name__}: {exc}"))
                    item.exc.__cause__ = exc
                if not put(item) or isinstance(item, _Failure):
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - e.g. the job iterator itself failed; never leave q silent
            put(_Failure(exc))

    thread = threading.Thread(target=work, name="lift3d-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = q.get(timeout=_POLL_S)
            except queue.Empty:
                if not thread.is_alive() and q.empty():
                    raise DatasetError("the data loading thread stopped without a result") from None
                continue
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
