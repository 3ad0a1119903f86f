"""Jobs: a fixed pool of worker threads, a bounded queue, and an in-memory store of results with a size and age
limit (oldest evicted first). No result ever touches the file system: files are made from the
:class:`~lift3d.reconstruct.service.Result` in memory, by job id."""

from __future__ import annotations

import logging
import queue
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from lift3d.errors import Lift3DError
from lift3d.reconstruct.service import Request, Result

log = logging.getLogger("lift3d.server")

JOB_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
"""Job ids: ``secrets.token_urlsafe(24)`` (192 random bits, 32 URL-safe characters); nothing else is looked up."""


class ServerBusy(Exception):
    """The queue is full, or the server is shutting down (HTTP 503)."""


def new_job_id() -> str:
    return secrets.token_urlsafe(24)


@dataclass
class Job:
    """One reconstruction: its request, state and (when done) result; ``files`` caches served bytes by format."""

    id: str
    request: Request
    status: str = "queued"  # queued | running | done | failed
    progress: float = 0.0
    stage: str = "queued"
    error: str | None = None
    result: Result | None = None
    summary: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    done_event: threading.Event = field(default_factory=threading.Event)
    _callbacks: list[Callable[[], None]] = field(default_factory=list)
    _cb_lock: threading.Lock = field(default_factory=threading.Lock)

    def on_done(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from the finishing thread) when the job is done or failed; now if it already is."""
        with self._cb_lock:
            if not self.done_event.is_set():
                self._callbacks.append(callback)
                return
        callback()

    _nbytes: int | None = None

    @property
    def nbytes(self) -> int:
        """Memory the job holds, roughly: served files plus the result's arrays (meshes, textures, grids); cached
        once the job is finished (a new served file resets it)."""
        if self._nbytes is None or self.finished is None:
            self._nbytes = self._count_bytes()
        return self._nbytes

    def _count_bytes(self) -> int:
        n = sum(len(data) for data, _ in self.files.values())
        if self.result is None:
            return n
        rec = self.result.reconstruction
        arrays = [rec.prediction.grid, rec.prediction.points, *rec.masks]
        meshes = [rec.mesh, *(a.mesh for a in self.result.assets)]
        for mesh in meshes:
            if mesh is None:
                continue
            arrays += [mesh.vertices, mesh.faces]
            image = getattr(getattr(mesh.visual, "material", None), "image", None)
            if image is not None:
                n += image.width * image.height * 4
        return n + sum(a.nbytes for a in arrays if a is not None)

    def finish(self, status: str, error: str | None = None) -> None:
        """Mark the job ``done`` or ``failed`` (once: a job failed by shutdown stays failed)."""
        if self.done_event.is_set():
            return
        self.status, self.error, self.finished = status, error, time.monotonic()
        if status == "done":
            self.progress, self.stage = 1.0, "done"
        self.request.images, self.request.masks = [], None  # the decoded photos are no longer needed
        with self._cb_lock:
            self.done_event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # noqa: BLE001 - e.g. the waiting request's event loop is gone
                log.exception("job %s: a done callback failed", self.id)


Runner = Callable[[Job], None]


class JobManager:
    """Bounded concurrency: ``workers`` threads run jobs from a queue of at most ``queue_size``; finished jobs are
    kept until they are older than ``max_age_s`` or the results together exceed ``max_bytes`` (oldest first).

    ``runner(job)`` does the work and fills ``job.result`` / ``job.files``; a :class:`Lift3DError` it raises fails
    the job with its message, any other exception with a one-line internal error.
    """

    def __init__(self, runner: Runner, workers: int, queue_size: int, max_bytes: int, max_age_s: float,
                 max_jobs: int) -> None:
        self.runner = runner
        self.max_bytes, self.max_age_s, self.max_jobs = max_bytes, max_age_s, max_jobs
        self._queue: queue.Queue[Job | None] = queue.Queue()  # bounded by :meth:`submit`'s count
        self._capacity = workers + queue_size
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._closing = False
        self._threads = [threading.Thread(target=self._work, name=f"lift3d-worker-{i}", daemon=True)
                         for i in range(workers)]
        for t in self._threads:
            t.start()

    # -- submission and lookup -------------------------------------------------------------------------------
    def submit(self, request: Request) -> Job:
        """Queue a job -> the job; :class:`ServerBusy` when the queue is full or the server is closing."""
        with self._lock:
            self.check_room()
            job = Job(new_job_id(), request)
            self._jobs[job.id] = job
            self._evict()
        self._queue.put_nowait(job)
        return job

    def check_room(self) -> None:
        """Raise :class:`ServerBusy` when the server is closing or every worker and queue place is taken."""
        if self._closing:
            raise ServerBusy("server shutting down")
        counts = self.counts()
        if counts["queued"] + counts["running"] >= self._capacity:
            raise ServerBusy(f"server busy: {counts['running']} jobs running and {counts['queued']} queued (the "
                             "limit); try again later")

    def get(self, job_id: str) -> Job | None:
        """The job of a well-formed id, or None (an id that does not match :data:`JOB_ID` is never looked up)."""
        if not JOB_ID.fullmatch(job_id):
            return None
        with self._lock:
            self._evict()
            return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        out = {"queued": 0, "running": 0}
        for job in list(self._jobs.values()):
            if job.status in out:
                out[job.status] += 1
        return out

    def add_file(self, job: Job, fmt: str, data: tuple[bytes, str]) -> None:
        """Cache a served file of a finished job (counted in the results' size)."""
        with self._lock:
            job.files[fmt] = data
            job._nbytes = None
            self._evict()

    # -- limits ------------------------------------------------------------------------------------------------
    def _evict(self) -> None:
        """Drop finished jobs older than the age limit, then the oldest while over the size or count limit."""
        now = time.monotonic()
        done = [j for j in self._jobs.values() if j.finished is not None]
        for job in done:
            if now - job.finished > self.max_age_s:
                del self._jobs[job.id]
        done = [j for j in self._jobs.values() if j.finished is not None]
        total = sum(j.nbytes for j in done)
        for job in done:  # insertion order: oldest first
            if total <= self.max_bytes and len(self._jobs) <= self.max_jobs:
                break
            total -= job.nbytes
            del self._jobs[job.id]

    # -- workers -------------------------------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.status != "queued":  # failed by shutdown while it waited
                    continue
                job.status, job.stage = "running", "load"
            try:
                self.runner(job)
                with self._lock:
                    job.finish("done")
                    self._evict()
            except Lift3DError as exc:
                job.finish("failed", str(exc))
            except Exception as exc:  # noqa: BLE001 - a worker must survive any job
                log.exception("job %s failed", job.id)
                job.finish("failed", f"internal error: {exc.__class__.__name__}: {exc}".splitlines()[0])

    def close(self) -> None:
        """Refuse new jobs and fail the queued ones ("server shutting down"); running ones go on."""
        with self._lock:
            self._closing = True
            for job in list(self._jobs.values()):
                if job.status == "queued":
                    job.finish("failed", "server shutting down")

    def shutdown(self, grace_s: float) -> None:
        """:meth:`close`, then let running jobs finish for ``grace_s`` seconds and fail those still running."""
        self.close()
        with self._lock:
            jobs = list(self._jobs.values())
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + grace_s
        for job in jobs:
            if job.status == "running":
                job.done_event.wait(max(0.0, deadline - time.monotonic()))
                if job.status == "running":
                    job.finish("failed", "server shut down before the job finished")
