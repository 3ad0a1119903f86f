"""The FastAPI app: REST API over the service layer, plus the static web page (docs/server.md).

``create_app(settings)`` builds it; models are loaded once (one :class:`~lift3d.reconstruct.service.Service`) and
shared by a fixed pool of worker threads (:class:`~lift3d.server.jobs.JobManager`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

import anyio
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import Request as HttpRequest

from lift3d.errors import InputError, Lift3DError
from lift3d.reconstruct.service import Request, Service
from lift3d.server.catalog import FORMATS, MEDIA_TYPES, MESH_FORMATS, Catalog
from lift3d.server.jobs import Job, JobManager, ServerBusy
from lift3d.server.settings import MB, Settings
from lift3d.server.uploads import BodyLimit, ReconstructForm, build_request, reconstruct_form


class Server:
    """What the routes share: settings, the model catalog, the service (models loaded once) and the jobs."""

    def __init__(self, settings: Settings, service: Service | None = None) -> None:
        self.settings = settings
        self.catalog = Catalog(settings.models)
        self.service = service or Service(threads=settings.torch_threads)
        self.loaded: set[str] = set()
        self.convert = threading.Semaphore(settings.workers)  # on-demand format conversions, bounded too
        self.jobs = JobManager(self.run_job, settings.workers, settings.queue, int(settings.results_mb * MB),
                               settings.results_age_s, settings.max_jobs)

    def load(self, name: str) -> None:
        """Load a model; the default one also reconstructs a synthetic view once, so the first request is warm."""
        entry = self.catalog.get(name)
        self.service.model(checkpoint=entry.checkpoint)
        if entry.default:
            import numpy as np

            view = np.full((128, 128, 4), 255, np.uint8)
            view[32:96, 40:88, :3] = 90
            with contextlib.suppress(Lift3DError):  # an empty reconstruction still warms the model up
                self.service.run(Request(images=[view], checkpoint=str(entry.checkpoint), format=".stl"))
        self.loaded.add(name)

    def run_job(self, job: Job) -> None:
        """A worker's work: reconstruct, then make the requested file (so a writer's error fails the job)."""
        def progress(stage: str, done: float) -> None:
            job.stage, job.progress = stage, round(0.95 * done, 3)

        result = self.service.run(job.request, progress)
        job.result = result
        job.stage = "export"
        fmt = job.request.ext.lstrip(".")
        self.jobs.add_file(job, fmt, result.to_bytes(fmt))

    def file(self, job: Job, fmt: str) -> tuple[bytes, str]:
        """The job's result as ``fmt`` -> ``(bytes, extension)``, cached (memory counted in the results' limit)."""
        if fmt not in job.files:
            assert job.result is not None
            with self.convert:
                data = job.result.to_bytes(fmt)
            self.jobs.add_file(job, fmt, data)
            return data
        return job.files[fmt]

    @staticmethod
    def summarise(job: Job) -> None:
        """The summary lines (with ``lift3d check``'s verdict, ~0.1 s), made on the first poll after the job is done
        so that a sync request does not wait for them."""
        if job.status == "done" and job.result is not None and not job.summary:
            job.summary = job.result.summary("model" + job.request.ext)

    def job_info(self, job: Job) -> dict:
        """``GET /api/jobs/{id}``'s answer."""
        files = {}
        if job.status == "done" and job.result is not None:
            has_mesh = job.result.reconstruction.mesh is not None
            files = {f: result_url(job.id, f) for f in FORMATS if has_mesh or f not in MESH_FORMATS}
        timings = {} if job.result is None else {k: round(v, 4) for k, v in job.result.timings.items()}
        views = {k: f"/api/jobs/{job.id}/view/{k}.glb" for k in VIEWS} if files else {}
        return {"id": job.id, "status": job.status, "progress": job.progress, "stage": job.stage,
                "error": job.error, "summary": job.summary, "timings": timings, "files": files, "views": views}

    def view(self, job: Job, kind: str) -> bytes:
        """The job's ``points`` / ``voxels`` as a GLB for the viewer, cached like its files."""
        key = f"view-{kind}"
        if key not in job.files:
            assert job.result is not None
            with self.convert:
                data = job.result.view_bytes(kind)
            self.jobs.add_file(job, key, (data, ".glb"))
            return data
        return job.files[key][0]

    def find(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "unknown or expired job")
        return job

    def submit(self, form: ReconstructForm) -> Job:
        self.jobs.check_room()  # before reading any image
        request, entry = build_request(form, self.catalog, self.service, self.settings.max_images)
        self.service.check(request)  # model options (threshold, resolution) before the job is accepted
        self.loaded.add(entry.name)
        return self.jobs.submit(request)


VIEWS = ("points", "voxels")  # extra viewer GLBs a finished job offers


def result_url(job_id: str, fmt: str) -> str:
    return f"/api/jobs/{job_id}/result.{fmt}"


async def wait_for(job: Job, timeout: float) -> bool:
    """Wait (in the event loop, no thread held) until ``job`` is done or failed -> False on timeout."""
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()
    job.on_done(lambda: loop.call_soon_threadsafe(finished.set))
    try:
        await asyncio.wait_for(finished.wait(), timeout)
    except TimeoutError:
        return False
    return True


def file_response(data: bytes, ext: str, fmt: str) -> Response:
    name = "model_obj.zip" if ext == ".zip" else f"model.{fmt}"
    media = MEDIA_TYPES["zip" if ext == ".zip" else fmt]
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def create_app(settings: Settings | None = None, service: Service | None = None) -> FastAPI:
    """The lift3d web app for ``settings`` (``service``: a prepared service, for tests)."""
    settings = settings or Settings()
    server = Server(settings, service)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.preload:
            for name in server.catalog.entries:
                await anyio.to_thread.run_sync(server.load, name)
        yield
        await anyio.to_thread.run_sync(server.jobs.shutdown, settings.shutdown_grace_s)

    app = FastAPI(title="lift3d", summary="Images of an object -> a 3D model", lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # the docs pages load JS from a CDN: only /openapi.json is served
    app.state.server = server
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"])

    @app.exception_handler(RequestValidationError)
    async def invalid(_: HttpRequest, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
        return JSONResponse({"detail": f"{field}: {first['msg']}" if field else first["msg"]}, status_code=422)

    @app.exception_handler(Lift3DError)
    async def refused(_: HttpRequest, exc: Lift3DError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422 if isinstance(exc, InputError) else 500)

    @app.exception_handler(ServerBusy)
    async def busy(_: HttpRequest, exc: ServerBusy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "models_loaded": sorted(server.loaded), "jobs": server.jobs.counts()}

    @app.get("/api/models")
    async def models() -> list[dict]:
        return [e.info() for e in server.catalog.entries.values()]

    @app.post("/api/reconstruct", status_code=202)
    def reconstruct(form: ReconstructForm = Depends(reconstruct_form)) -> dict:
        """Queue a reconstruction -> its id and where to poll it and fetch the result."""
        job = server.submit(form)
        fmt = job.request.ext[1:]
        return {"id": job.id, "status_url": f"/api/jobs/{job.id}", "result_url": result_url(job.id, fmt)}

    @app.post("/api/reconstruct/sync", response_class=Response)
    async def reconstruct_sync(form: ReconstructForm = Depends(reconstruct_form)) -> Response:
        """Reconstruct and answer with the file (for scripts). Waiting holds no thread: many may wait at once."""
        job = await anyio.to_thread.run_sync(server.submit, form)
        fmt = job.request.ext[1:]
        if not await wait_for(job, settings.sync_timeout_s):
            raise HTTPException(504, f"not finished after {settings.sync_timeout_s:g} s; poll /api/jobs/{job.id}")
        if job.status != "done":
            raise HTTPException(422, job.error or "job failed")
        data, ext = job.files[fmt] if fmt in job.files else await anyio.to_thread.run_sync(server.file, job, fmt)
        response = file_response(data, ext, fmt)
        timings = job.result.timings if job.result is not None else {}
        response.headers["Server-Timing"] = ", ".join(f"{k};dur={v * 1000:.1f}" for k, v in timings.items())
        return response

    @app.get("/api/jobs/{job_id}")
    async def job_status(job_id: str) -> dict:
        job = server.find(job_id)
        if job.status == "done" and not job.summary:
            await anyio.to_thread.run_sync(server.summarise, job)
        return server.job_info(job)

    @app.get("/api/jobs/{job_id}/result.{fmt}", response_class=Response)
    def job_result(job_id: str, fmt: str) -> Response:
        """The finished job's file in ``fmt`` (409 while it runs or when it failed)."""
        job = server.find(job_id)
        if fmt not in FORMATS:
            raise HTTPException(404, f"unknown format {fmt[:20]!r}; served: {', '.join(FORMATS)}")
        if job.status in ("queued", "running"):
            raise HTTPException(409, f"job is {job.status}; poll /api/jobs/{job.id}")
        if job.status == "failed":
            raise HTTPException(409, f"job failed: {job.error}")
        data, ext = server.file(job, fmt)
        return file_response(data, ext, fmt)

    @app.get("/api/jobs/{job_id}/view/{kind}.glb", response_class=Response)
    def job_view(job_id: str, kind: str) -> Response:
        """The finished job's points or voxels as a GLB (what the page's viewer shows for them)."""
        job = server.find(job_id)
        if kind not in VIEWS:
            raise HTTPException(404, f"unknown view {kind[:20]!r}; served: {', '.join(VIEWS)}")
        if job.status != "done":
            raise HTTPException(409, f"job is {job.status}" + (f": {job.error}" if job.error else ""))
        return file_response(server.view(job, kind), ".glb", "glb")

    mount_static(app, settings)
    return app


def mount_static(app: FastAPI, settings: Settings) -> None:
    """``GET /`` -> ``static/index.html`` and ``/static/...`` -> the folder, when the web page is installed."""
    from fastapi.staticfiles import StaticFiles

    folder = settings.static_dir
    index = folder / "index.html"

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        if not index.is_file():
            raise HTTPException(404, "the web page is not installed (src/lift3d/server/static/index.html)")
        return FileResponse(index, media_type="text/html")

    if folder.is_dir():
        app.mount("/static", StaticFiles(directory=folder), name="static")
