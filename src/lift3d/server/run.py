"""Run the app under uvicorn with a shutdown that closes the job queue on the first signal."""

from __future__ import annotations

import threading
from types import FrameType

import uvicorn
from fastapi import FastAPI


class ClosingServer(uvicorn.Server):
    """uvicorn's server, whose first Ctrl-C / SIGTERM also closes the job queue at once (queued jobs fail with
    "server shutting down", new ones get 503) while uvicorn lets open requests finish; the app's lifespan then
    waits for running jobs (``--grace``) and fails those still running."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        server = getattr(getattr(self.config.app, "state", None), "server", None)
        if server is not None:  # in a thread: the signal may arrive while the main thread holds the jobs' lock
            threading.Thread(target=server.jobs.close, daemon=True).start()
        super().handle_exit(sig, frame)


def run_server(app: FastAPI, host: str, port: int, log_level: str, grace: float) -> None:
    """Serve ``app`` on ``host:port`` until a signal; open requests get ``grace`` + 5 seconds to finish."""
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=int(grace) + 5)
    ClosingServer(config).run()
