"""``lift3d serve``: the REST API and the web page (docs/server.md)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    workers: int = typer.Option(2, "--workers", help="Reconstructions at once (threads sharing the loaded models)."),
    queue: int = typer.Option(32, "--queue", help="Jobs that may wait for a worker; beyond it: 503 server busy."),
    max_upload_mb: float = typer.Option(32.0, "--max-upload-mb", help="Largest request body (all images) in MB; "
                                        "beyond it: 413."),
    max_images: int = typer.Option(8, "--max-images", help="Views per request."),
    results_mb: float = typer.Option(512.0, "--results-mb", help="Memory kept for finished results (MB); the oldest "
                                     "are evicted beyond it."),
    results_age: float = typer.Option(3600.0, "--results-age", help="Seconds a finished result is kept."),
    threads: int = typer.Option(None, "--threads", help="torch threads per worker (default: cores / workers)."),
    cors_origin: list[str] = typer.Option(None, "--cors-origin", help="Allow cross-origin requests from this origin "
                                          "(repeatable; default: none, CORS closed)."),
    grace: float = typer.Option(30.0, "--grace", help="Seconds shutdown waits for running jobs."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level (warning: quiet)."),
) -> None:
    """Serve the REST API and the web page: POST photos to /api/reconstruct, poll /api/jobs/{id}, download
    /api/jobs/{id}/result.glb (docs/server.md). Ctrl-C stops it: queued jobs fail, running ones finish."""
    from lift3d.limits import check_number
    from lift3d.server import Settings, create_app
    from lift3d.server.run import run_server

    check_number(port, "--port", 0, 65535)
    settings = Settings(workers=workers, queue=queue, max_upload_mb=max_upload_mb, max_images=max_images,
                        results_mb=results_mb, results_age_s=results_age, threads=threads,
                        cors_origins=tuple(cors_origin or ()), shutdown_grace_s=grace)
    run_server(create_app(settings), host, port, log_level.lower(), grace)
