"""A 60-megapixel photo through ``lift3d reconstruct``: wall time and peak memory of the whole command (issue 18).

Makes a noisy 9600 x 6464 JPEG (62 MP: the bundled car sample upscaled, with sensor-like noise so the JPEG is as
costly to decode as a real photo), runs ``lift3d reconstruct big.jpg -o out.glb`` as a subprocess, and reports its
wall time and peak resident memory beside the same command on the 256 px sample (the fixed cost: Python, torch
and model start-up). Targets: under 5 s and under 1 GB on 2 CPU cores. Prints the table and writes it to
``docs/results_big_photo.md``.

    python benchmarks/bench_big_photo.py [--width 9600] [--height 6464] [--out docs/results_big_photo.md]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lift3d.io.atomic import atomic_path

SAMPLES = Path(__file__).resolve().parent.parent / "src" / "lift3d" / "samples"
LIFT3D = Path(sys.executable).with_name("lift3d")


def make_photo(path: Path, width: int, height: int) -> None:
    """The car sample upscaled to ``width x height`` with +-6 levels of noise, saved as JPEG quality 90."""
    img = np.asarray(Image.open(SAMPLES / "car.jpg").convert("RGB").resize((width, height), Image.Resampling.BILINEAR))
    noise = np.random.default_rng(0).integers(-6, 7, size=img.shape, dtype=np.int16)
    Image.fromarray(np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)).save(path, quality=90)


def run(image: Path, out: Path) -> tuple[float, float, float, str]:
    """Run ``lift3d reconstruct image -o out`` -> (wall seconds, CPU seconds, peak RSS in MB, its stdout).

    The peak is the child's ``ru_maxrss``, which Linux carries over ``exec`` from the forking process: this process
    stays small (the photo is made in a subprocess of its own) so the number is the command's own.
    """
    t = time.perf_counter()
    proc = subprocess.Popen([str(LIFT3D), "reconstruct", str(image), "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    stdout, stderr = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"lift3d failed on {image}: {stderr.strip()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=9600)
    ap.add_argument("--height", type=int, default=6464)
    ap.add_argument("--out", type=Path, default=SAMPLES.parent.parent.parent / "docs" / "results_big_photo.md")
    ap.add_argument("--make", type=Path, help=argparse.SUPPRESS)  # internal: only write the photo there
    args = ap.parse_args()
    if args.make is not None:
        make_photo(args.make, args.width, args.height)
        return
    with tempfile.TemporaryDirectory(prefix="lift3d_big.") as tmp:
        big = Path(tmp) / "big.jpg"
        subprocess.run([sys.executable, __file__, "--make", str(big), "--width", str(args.width), "--height",
                        str(args.height)], check=True)
        mp = args.width * args.height / 1e6
        rows = [("256 px sample (fixed cost)", *run(SAMPLES / "car.jpg", Path(tmp) / "small.glb")),
                (f"{mp:.0f} MP photo ({big.stat().st_size / 1e6:.1f} MB JPEG)", *run(big, Path(tmp) / "big.glb"))]
    wall, rss = rows[1][1], rows[1][3]
    lines = ["# A 60-megapixel photo through `lift3d reconstruct`", "",
             "`lift3d reconstruct PHOTO -o out.glb` (default voxel model) as a subprocess: wall time, CPU time",
             "and peak resident memory of the whole command, start-up included.",
             "Made by `benchmarks/bench_big_photo.py`.", "",
             f"Load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs.", "",
             "| input | wall s | CPU s | peak MB |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {w:.2f} | {cpu:.2f} | {r:.0f} |" for name, w, cpu, r, _ in rows]
    lines += ["", f"Targets (< 5 s, < 1024 MB): {'met' if wall < 5 and rss < 1024 else 'NOT met'}.", ""]
    text = "\n".join(lines)
    print(text)
    with atomic_path(args.out) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    main()
