"""The REST API (lift3d.server): every endpoint, every error status and each limit, on a tiny untrained model."""

from __future__ import annotations

import io
import re
import threading
import time
import warnings

import numpy as np
import pytest
import trimesh
from PIL import Image

from lift3d.errors import InputError
from lift3d.reconstruct.service import Service

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "install httpx2" (the TestClient works with httpx)
    from fastapi.testclient import TestClient

from lift3d.server import Settings, create_app  # noqa: E402
from lift3d.server.jobs import JOB_ID, JobManager  # noqa: E402


def photo(fmt: str = "PNG", side: int = 64) -> bytes:
    """A grey box on a white background, encoded as ``fmt``."""
    img = np.full((side, side, 3), 255, np.uint8)
    img[side // 4: 3 * side // 4, side // 3: 2 * side // 3] = 80
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt)
    return buf.getvalue()


PNG = photo()


class GatedService(Service):
    """A service whose runs wait for ``gate`` (and then fail with ``fail`` when set): jobs that stay running."""

    def __init__(self) -> None:
        super().__init__(threads=1)
        self.gate = threading.Event()
        self.fail: str | None = None

    def run(self, request, progress=None):  # noqa: ANN001, ANN201
        self.gate.wait(20)
        if self.fail:
            raise InputError(self.fail)
        return super().run(request, progress)


@pytest.fixture(scope="module")
def settings(tiny_checkpoint, tmp_path_factory) -> Settings:
    static = tmp_path_factory.mktemp("static")
    (static / "index.html").write_text("<!doctype html><title>lift3d</title>")
    (static / "app.js").write_text("console.log('lift3d')")
    return Settings(workers=1, queue=4, max_upload_mb=1, models={"voxel": tiny_checkpoint}, static_dir=static)


@pytest.fixture(scope="module")
def client(settings):
    with TestClient(create_app(settings)) as c:
        yield c


def post(client: TestClient, path: str = "/api/reconstruct", images=None, **data):  # noqa: ANN001, ANN201
    files = [("images", f) for f in (images or [("box.png", PNG, "image/png")])]
    return client.post(path, files=files, data=data)


def wait(client: TestClient, job_id: str, timeout: float = 30.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        info = client.get(f"/api/jobs/{job_id}").json()
        if info["status"] in ("done", "failed"):
            return info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_health_models_openapi(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health == {"status": "ok", "models_loaded": ["voxel"], "jobs": {"queued": 0, "running": 0}}
    models = client.get("/api/models").json()
    assert [m["name"] for m in models] == ["voxel"] and models[0]["default"] is True
    assert {"glb", "obj", "stl", "binvox", "xyz"} <= set(models[0]["formats"])
    schema = client.get("/openapi.json").json()
    assert {"/api/reconstruct", "/api/jobs/{job_id}", "/health"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 404  # its page would load JS from a CDN


def test_shipped_catalog_has_each_models_card() -> None:
    from lift3d.server.catalog import Catalog

    entries = Catalog().entries
    assert entries["voxel"].default and entries["voxel"].card.startswith("# lift3d voxel model")
    assert entries["points"].card.startswith("# lift3d points model")
    assert "occupancy" in entries["occupancy"].description


def test_round_trip_upload_poll_download(client: TestClient) -> None:
    r = post(client)
    assert r.status_code == 202, r.text
    body = r.json()
    job_id = body["id"]
    assert JOB_ID.fullmatch(job_id) and len(job_id) == 32
    assert body == {"id": job_id, "status_url": f"/api/jobs/{job_id}", "result_url": f"/api/jobs/{job_id}/result.glb"}
    info = wait(client, job_id)
    assert info["status"] == "done" and info["error"] is None and info["progress"] == 1.0, info
    assert info["summary"] and "forward" in info["timings"]
    assert set(info["files"]) == {"glb", "obj", "ply", "stl", "usdz", "binvox", "xyz"}
    glb = client.get(info["files"]["glb"])
    assert glb.status_code == 200 and glb.headers["content-type"] == "model/gltf-binary"
    assert glb.headers["content-disposition"] == 'attachment; filename="model.glb"'
    mesh = trimesh.load(io.BytesIO(glb.content), file_type="glb", force="mesh")
    assert len(mesh.faces) > 0
    obj = client.get(info["files"]["obj"])  # textured: the OBJ with its material and texture as a ZIP
    assert obj.headers["content-disposition"] == 'attachment; filename="model_obj.zip"'
    assert obj.content[:2] == b"PK"
    stl = client.get(info["files"]["stl"])
    assert stl.headers["content-type"] == "model/stl" and len(trimesh.load(io.BytesIO(stl.content), file_type="stl")
                                                              .faces) > 0
    assert client.get(info["files"]["binvox"]).content.startswith(b"#binvox")
    # The viewer's points and voxels views: GLBs of splats and cubes, placed like the mesh (standing on y = 0).
    assert set(info["views"]) == {"points", "voxels"}
    for kind, faces_per_item in (("points", 20), ("voxels", 12)):
        view = client.get(info["views"][kind])
        assert view.status_code == 200 and view.headers["content-type"] == "model/gltf-binary"
        shown = trimesh.load(io.BytesIO(view.content), file_type="glb", force="mesh")
        assert len(shown.faces) % faces_per_item == 0 and len(shown.faces) >= 10 * faces_per_item
        assert abs(shown.bounds[0][1]) < 0.05 * shown.extents.max()
    assert client.get(f"/api/jobs/{job_id}/view/normals.glb").status_code == 404


def test_sync_returns_the_file_and_jpeg_named_txt_works(client: TestClient) -> None:
    r = post(client, "/api/reconstruct/sync", images=[("notes.txt", photo("JPEG"), "text/plain")], format="stl",
             texture="none")
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == 'attachment; filename="model.stl"'
    assert "forward;dur=" in r.headers["server-timing"]
    assert len(trimesh.load(io.BytesIO(r.content), file_type="stl").faces) > 0


@pytest.mark.parametrize("data, files, message", [
    ({}, [("box.png", b"not an image at all", "image/png")], "box.png is not a readable image"),
    ({"texture_size": "abc"}, None, "texture_size: "),
    ({"smooth": "-1"}, None, "--smooth must be in"),
    ({"format": "gltf"}, None, "format 'gltf' is not served"),
    ({"model": "points"}, None, "unknown model 'points'"),
    ({"format": "stl", "texture": "image"}, None, "texture"),
    ({"threshold": "1.5"}, None, "threshold must be between 0 and 1"),
    ({}, [("v.png", PNG, "image/png")] * 9, "9 images given; send 1 to 8"),
])
def test_bad_requests_are_422_with_one_line(client: TestClient, data: dict, files, message: str) -> None:
    r = post(client, images=files, **data)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail and message in detail


def test_missing_images_and_mask_count(client: TestClient) -> None:
    assert client.post("/api/reconstruct", data={"format": "glb"}).json()["detail"] == "images: Field required"
    files = [("images", ("a.png", PNG)), ("images", ("b.png", PNG)), ("masks", ("m.png", PNG))]
    r = client.post("/api/reconstruct", files=files)
    assert r.status_code == 422 and r.json()["detail"] == "1 masks given for 2 images"


def test_pixel_limit_is_422(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFT3D_MAX_IMAGE_PIXELS", "1000")
    r = post(client)
    assert r.status_code == 422 and "over the limit of 1,000 (set LIFT3D_MAX_IMAGE_PIXELS" in r.json()["detail"]


def test_upload_size_limit_413(client: TestClient) -> None:
    big = b"\0" * (1024 * 1024 + 10)
    r = post(client, images=[("big.png", big, "image/png")])
    assert r.status_code == 413 and "over the limit of 1 MB" in r.json()["detail"]

    def chunks():  # no Content-Length: the bytes are counted as they arrive
        yield b"--b\r\nContent-Disposition: form-data; name=\"images\"; filename=\"a.png\"\r\n\r\n"
        for _ in range(20):
            yield b"\0" * 100_000
        yield b"\r\n--b--\r\n"

    r = client.post("/api/reconstruct", content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code == 413 and "upload too large" in r.json()["detail"]


@pytest.mark.parametrize("path", [
    "/api/jobs/../../etc/passwd/result.glb", "/api/jobs/%2e%2e/%2e%2e/etc/passwd/result.glb",
    "/api/jobs/%2e%2e%2fsettings.py/result.glb", "/api/jobs/..%2F..%2Fetc%2Fpasswd", "/api/jobs/%2e%2e",
    "/api/jobs/" + "A" * 32, "/api/jobs/" + "A" * 32 + "/result.glb", "/static/../app.py", "/static/%2e%2e/app.py",
])
def test_unknown_jobs_and_traversal_are_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert b"def " not in r.content and b"root:" not in r.content


def test_unknown_format_is_404(client: TestClient) -> None:
    job_id = post(client, format="stl").json()["id"]
    wait(client, job_id)
    r = client.get(f"/api/jobs/{job_id}/result.exe")
    assert r.status_code == 404 and "unknown format" in r.json()["detail"]


def test_static_page_and_cors_closed(client: TestClient) -> None:
    assert client.get("/").text.startswith("<!doctype html>")
    assert client.get("/static/app.js").status_code == 200
    r = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = client.options("/api/reconstruct", headers={"Origin": "https://evil.example",
                                                        "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers


def test_cors_origin_opens_it_for_that_origin_only(settings: Settings, tmp_path) -> None:
    from dataclasses import replace

    app = create_app(replace(settings, cors_origins=("http://localhost:3000",), preload=False,
                             static_dir=tmp_path / "absent"))
    with TestClient(app) as c:
        ok = c.get("/health", headers={"Origin": "http://localhost:3000"})
        assert ok.headers["access-control-allow-origin"] == "http://localhost:3000"
        assert "access-control-allow-origin" not in c.get("/health", headers={"Origin": "http://x.example"}).headers
        assert c.get("/").status_code == 404  # no web page installed: a clear 404, no crash


def test_busy_409_failed_and_shutdown(settings: Settings) -> None:
    from dataclasses import replace

    service = GatedService()
    app = create_app(replace(settings, queue=1, preload=False, shutdown_grace_s=0.3), service)
    jobs = app.state.server.jobs
    with TestClient(app) as c:
        running = post(c).json()["id"]
        queued = post(c).json()["id"]
        busy = post(c)
        assert busy.status_code == 503 and busy.json()["detail"].startswith("server busy")
        assert c.get("/health").json()["jobs"] == {"queued": 1, "running": 1}
        r = c.get(f"/api/jobs/{running}/result.glb")
        assert r.status_code == 409 and "running" in r.json()["detail"]
        assert c.get(f"/api/jobs/{queued}").json()["status"] == "queued"
    # shutdown: the queued job failed at once, the running one after the grace period
    assert jobs.get(queued).error == "server shutting down"
    assert jobs.get(running).status == "failed" and "shut down" in jobs.get(running).error
    service.gate.set()


def test_failed_job_is_409_with_its_error(settings: Settings) -> None:
    from dataclasses import replace

    service = GatedService()
    service.fail, service.gate = "nothing was reconstructed", threading.Event()
    service.gate.set()
    with TestClient(create_app(replace(settings, preload=False), service)) as c:
        job_id = post(c).json()["id"]
        info = wait(c, job_id)
        assert info["status"] == "failed" and info["error"] == "nothing was reconstructed" and info["files"] == {}
        r = c.get(f"/api/jobs/{job_id}/result.glb")
        assert r.status_code == 409 and r.json()["detail"] == "job failed: nothing was reconstructed"
        sync = post(c, "/api/reconstruct/sync")
        assert sync.status_code == 422 and sync.json()["detail"] == "nothing was reconstructed"


def test_ids_are_unguessable() -> None:
    from lift3d.server.jobs import new_job_id

    ids = {new_job_id() for _ in range(2000)}
    assert len(ids) == 2000 and all(re.fullmatch(r"[A-Za-z0-9_-]{32}", i) for i in ids)


def test_results_evicted_by_size_and_age() -> None:
    from lift3d.reconstruct.service import Request

    def runner(job) -> None:  # noqa: ANN001
        job.files["glb"] = (b"x" * 1000, ".glb")

    jobs = JobManager(runner, workers=1, queue_size=10, max_bytes=2500, max_age_s=3600, max_jobs=100)
    ids = []
    for _ in range(4):
        job = jobs.submit(Request(images=[b""]))
        job.done_event.wait(5)
        ids.append(job.id)
    assert [jobs.get(i) is not None for i in ids] == [False, False, True, True]  # 2 x 1000 bytes fit in 2500
    jobs.max_age_s = 0.0
    assert jobs.get(ids[-1]) is None
    jobs.shutdown(1.0)


def test_serve_command_passes_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from lift3d.cli import app
    from lift3d.server.run import ClosingServer

    seen = {}
    monkeypatch.setattr(ClosingServer, "run", lambda self: seen.update(config=self.config))
    monkeypatch.setattr("lift3d.server.create_app", lambda s: s)
    r = CliRunner().invoke(app, ["serve", "--port", "8123", "--workers", "1", "--max-upload-mb", "5",
                                 "--cors-origin", "http://localhost:5173"])
    assert r.exit_code == 0, r.output
    config = seen["config"]
    assert config.port == 8123 and config.host == "127.0.0.1"
    assert config.app.workers == 1 and config.app.max_upload_bytes == 5 * 1024 * 1024
    assert config.app.cors_origins == ("http://localhost:5173",)


def test_first_signal_closes_the_queue(settings: Settings) -> None:
    from dataclasses import replace

    import uvicorn

    from lift3d.server.run import ClosingServer

    service = GatedService()
    app = create_app(replace(settings, queue=2, preload=False), service)
    with TestClient(app) as c:
        running, queued = post(c).json()["id"], post(c).json()["id"]
        server = ClosingServer(uvicorn.Config(app))
        server.handle_exit(2, None)
        assert server.should_exit
        for _ in range(100):
            if c.get(f"/api/jobs/{queued}").json()["status"] == "failed":
                break
            time.sleep(0.02)
        assert c.get(f"/api/jobs/{queued}").json()["error"] == "server shutting down"
        assert post(c).status_code == 503
        service.gate.set()
        assert wait(c, running)["status"] == "done"  # the running job finishes
