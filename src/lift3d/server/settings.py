"""Server settings: one frozen dataclass, filled by ``lift3d serve`` (or by tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lift3d.errors import InputError

MB = 1024 * 1024


def default_threads(workers: int) -> int:
    """torch intra-op threads per worker so that ``workers`` jobs together use the CPU cores once."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, workers))


@dataclass(frozen=True)
class Settings:
    """What ``lift3d serve`` takes (docs/server.md).

    Attributes:
        workers: reconstructions that run at once (a fixed pool of threads sharing the loaded models).
        queue: jobs that may wait for a worker; beyond it a request gets 503 "server busy".
        max_upload_mb: bytes of one request body (all images and masks together); beyond it 413.
        max_images: views per request (1..max_images).
        results_mb: memory the finished results may hold together; the oldest are evicted beyond it.
        results_age_s: seconds a finished result is kept.
        max_jobs: jobs remembered at most (finished ones are evicted oldest first).
        sync_timeout_s: how long ``POST /api/reconstruct/sync`` waits for its job (then 504).
        shutdown_grace_s: how long shutdown waits for running jobs before marking them failed.
        threads: torch threads per worker (None: cores // workers).
        cors_origins: origins allowed by CORS (empty: no CORS middleware, cross-origin reads are refused).
        models: model name -> checkpoint path (None: the shipped models); the first, or ``voxel``, is the default.
        preload: load every model at start-up (else on first use).
        static_dir: the web page's folder (served at ``/`` and ``/static``; absent: not served).
    """

    workers: int = 2
    queue: int = 32
    max_upload_mb: float = 32.0
    max_images: int = 8
    results_mb: float = 512.0
    results_age_s: float = 3600.0
    max_jobs: int = 1000
    sync_timeout_s: float = 300.0
    shutdown_grace_s: float = 30.0
    threads: int | None = None
    cors_origins: tuple[str, ...] = ()
    models: dict[str, Path] | None = None
    preload: bool = True
    static_dir: Path = field(default_factory=lambda: Path(__file__).parent / "static")

    def __post_init__(self) -> None:
        checks = [("--workers", self.workers, 1, 64), ("--queue", self.queue, 0, 100_000),
                  ("--max-upload-mb", self.max_upload_mb, 0.001, 100_000), ("--max-images", self.max_images, 1, 64),
                  ("--results-mb", self.results_mb, 0, 1e6), ("--results-age", self.results_age_s, 0, 1e9),
                  ("--max-jobs", self.max_jobs, 1, 10_000_000)]
        for name, value, lo, hi in checks:
            if not lo <= value <= hi:
                raise InputError(f"{name} must be in [{lo}, {hi}], got {value}")
        if self.threads is not None and not 1 <= self.threads <= 1024:
            raise InputError(f"--threads must be in [1, 1024], got {self.threads}")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * MB)

    @property
    def torch_threads(self) -> int:
        return self.threads or default_threads(self.workers)
