"""Load test of ``lift3d serve`` on loopback (issue 16): latency, throughput and memory under 50 concurrent requests.

For each configuration a real uvicorn server is started in a subprocess on 127.0.0.1 with the shipped voxel model;
the warm single-request latency is measured (sequential ``POST /api/reconstruct/sync`` of one view), then N
requests are sent at once from N threads. Requests refused by the server's limits (503 server busy) are counted
apart; any other failure is an error. Peak RSS of the server process is sampled during the run (psutil) and read
from ``VmHWM`` at the end. Bounded: ``--requests`` per burst, ``--timeout`` seconds per request, ``--budget`` per
configuration. Writes ``docs/results_server.md`` + ``.json``.

    python benchmarks/bench_server.py [--requests 50] [--rows stl,glb,stl-queue32]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

from lift3d.io.atomic import write_text_atomic

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PHOTO = ROOT / "src" / "lift3d" / "samples" / "car.jpg"

ROWS = {  # name -> (serve options, form fields, what it shows)
    "stl": (["--workers", "2", "--queue", "64"], {"format": "stl"}, "STL (untextured), queue 64"),
    "glb": (["--workers", "2", "--queue", "64"], {}, "GLB, default texture (image), queue 64"),
    "stl-queue32": (["--workers", "2"], {"format": "stl"}, "STL, default limits (2 workers + queue 32)"),
    "stl-1worker": (["--workers", "1", "--queue", "64"], {"format": "stl"}, "STL, 1 worker x 2 threads, queue 64"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``lift3d serve`` in a subprocess on a free loopback port, with its memory sampled in a thread."""

    def __init__(self, options: list[str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "lift3d.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--log-level", "warning", *options]
        self.proc = subprocess.Popen(cmd, cwd=ROOT)
        self.ps = psutil.Process(self.proc.pid)
        self.peak_rss = 0
        self._stop = threading.Event()

    def wait_ready(self, timeout: float = 180.0) -> float:
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    threading.Thread(target=self._sample, daemon=True).start()
                    return time.perf_counter() - t0
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise RuntimeError("server did not start")

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_rss = max(self.peak_rss, self.ps.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    def rss(self) -> int:
        return self.ps.memory_info().rss

    def vm_hwm(self) -> int:
        """Peak resident memory of the server's lifetime (kernel's VmHWM), bytes."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def stop(self) -> tuple[int, float]:
        """SIGINT (graceful shutdown) -> (exit code, seconds it took)."""
        self._stop.set()
        t0 = time.perf_counter()
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        return code, time.perf_counter() - t0


def service_seconds(response: httpx.Response) -> float:
    """Seconds the reconstruction itself took (the ``Server-Timing`` header: preprocess, forward, mesh, assets)."""
    parts = [p.split(";dur=") for p in response.headers.get("server-timing", "").split(",") if ";dur=" in p]
    return sum(float(ms) for _, ms in parts) / 1000


def send(client: httpx.Client, url: str, photo: bytes, form: dict, timeout: float) -> tuple[int, float, str]:
    """One sync request -> (status, seconds, detail of an error; for a success the service's own seconds)."""
    t0 = time.perf_counter()
    try:
        r = client.post(url + "/api/reconstruct/sync", files={"images": ("car.jpg", photo, "image/jpeg")},
                        data=form, timeout=timeout)
        detail = f"{service_seconds(r):.4f}" if r.status_code == 200 else r.text[:200]
        return r.status_code, time.perf_counter() - t0, detail
    except httpx.HTTPError as exc:
        return -1, time.perf_counter() - t0, f"{exc.__class__.__name__}: {exc}"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


def run_row(name: str, n: int, timeout: float, singles: int) -> dict:
    options, form, what = ROWS[name]
    photo = PHOTO.read_bytes()
    server = ServerProcess(options)
    try:
        startup = server.wait_ready()
        limits = httpx.Limits(max_connections=n + 4, max_keepalive_connections=n + 4)
        with httpx.Client(limits=limits) as client:
            single = [send(client, server.url, photo, form, timeout) for _ in range(singles)]
            assert all(s == 200 for s, _, _ in single), single
            rss_warm = server.rss()
            t0 = time.perf_counter()
            with ThreadPoolExecutor(n) as pool:
                results = list(pool.map(lambda _: send(client, server.url, photo, form, timeout), range(n)))
            wall = time.perf_counter() - t0
        ok = [t for s, t, _ in results if s == 200]
        refused = sum(s == 503 for s, _, _ in results)
        errors = [f"{s} {d}" for s, _, d in results if s not in (200, 503)]
        hwm = server.vm_hwm()
        code, shutdown = server.stop()
        return {
            "row": name, "what": what, "options": options, "form": form, "requests": n, "ok": len(ok),
            "refused_503": refused, "errors": len(errors), "error_samples": errors[:3],
            "p50_s": pct(ok, 0.5), "p95_s": pct(ok, 0.95), "max_s": max(ok, default=float("nan")),
            "wall_s": wall, "throughput_rps": len(ok) / wall,
            "single_median_ms": 1000 * statistics.median(t for _, t, _ in single),
            "single_min_ms": 1000 * min(t for _, t, _ in single),
            "single_service_median_ms": 1000 * statistics.median(float(d) for _, _, d in single),
            "single_overhead_median_ms": 1000 * statistics.median(t - float(d) for _, t, d in single),
            "rss_warm_mb": rss_warm / 2**20, "peak_rss_mb": max(server.peak_rss, rss_warm) / 2**20,
            "vm_hwm_mb": hwm / 2**20,
            "startup_s": startup, "shutdown_s": shutdown, "exit_code": code,
        }
    finally:
        if server.proc.poll() is None:
            server.proc.kill()


COLUMNS = ("configuration", "requests", "ok", "refused (503)", "errors", "p50 s", "p95 s", "throughput req/s",
           "warm single ms (median / min)", "of which reconstruction / server ms (median)",
           "server RSS warm / peak MB")


def write(rows: list[dict], out: Path) -> None:
    cores = len(os.sched_getaffinity(0))
    head = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"
    lines = [f"| {r['what']} | {r['requests']} | {r['ok']} | {r['refused_503']} | {r['errors']} | {r['p50_s']:.2f} | "
             f"{r['p95_s']:.2f} | {r['throughput_rps']:.2f} | {r['single_median_ms']:.0f} / {r['single_min_ms']:.0f} | "
             f"{r['single_service_median_ms']:.0f} / {r['single_overhead_median_ms']:.0f} | "
             f"{r['rss_warm_mb']:.0f} / {max(r['peak_rss_mb'], r['vm_hwm_mb']):.0f} |" for r in rows]
    load = os.getloadavg()
    text = (f"# lift3d serve under load\n\n`python benchmarks/bench_server.py` on {cores} CPU cores, loopback, the "
            f"shipped voxel model, `{PHOTO.relative_to(ROOT)}` ({PHOTO.stat().st_size // 1024} KB JPEG, 1 view) sent "
            "to `POST /api/reconstruct/sync` by N threads at once (end-to-end latency: upload, decode, reconstruct, "
            "file). 'warm single' is one request at a time on the warm server (latency target: < 300 ms), split into "
            "the reconstruction's own time (its `Server-Timing` header) and the server's (upload, decoding, queue, "
            "file, HTTP). Requests refused by the queue limit (503 server busy) are counted apart; errors are any "
            f"other failure. Load average at the end: {load[0]:.1f} (other work on the machine inflates the times)."
            "\n\n" + head + "\n".join(lines) + "\n")
    write_text_atomic(out, text)
    write_text_atomic(out.with_suffix(".json"), json.dumps(rows, indent=2) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--rows", default="stl,stl-1worker,stl-queue32,glb")
    ap.add_argument("--timeout", type=float, default=280.0, help="seconds per request")
    ap.add_argument("--singles", type=int, default=10, help="sequential warm requests")
    ap.add_argument("--out", type=Path, default=DOCS / "results_server.md")
    args = ap.parse_args()
    rows = []
    for name in args.rows.split(","):
        row = run_row(name, min(args.requests, 200), args.timeout, args.singles)
        print(json.dumps(row), flush=True)
        rows.append(row)
        write(rows, args.out)


if __name__ == "__main__":
    main()
