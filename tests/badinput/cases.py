"""What a corpus case is, the resources several cases share, and small builders of input files.

A case's builder writes its input files under ``d / "in"`` (``d`` is the case's own folder, also the working
directory while it runs) and returns the ``lift3d`` argv; outputs are asked for under ``d / "out"``.
"""

from __future__ import annotations

import copy
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

KINDS = ("image", "mask", "mesh", "points", "voxels", "cameras", "config", "dataset", "checkpoint", "option",
         "output")

Builder = Callable[[Path, "Shared"], list[str]]


@dataclass(frozen=True)
class Case:
    """One input and what ``lift3d`` must do with it.

    Attributes:
        name: unique id, ``kind/what``.
        kind: one of :data:`KINDS` (what is bad: the image, the mesh file, an option...).
        build: ``build(d, shared) -> argv``; writes the inputs under ``d / "in"``.
        code: expected exit code: 2 for a user error, 0 for an odd but valid input.
        message: for code 2, a regex (case-insensitive) the one ``lift3d: error:`` line must match: it names the
            input or the problem.
        usage: the command line itself is malformed (``--res abc``): click's usage error, exit 2, no traceback,
            nothing written; not the one-line ``lift3d: error:`` form.
        creates: for code 0, a path relative to ``d`` that must exist afterwards.
        seconds: CPU-time bound (the run is interrupted after it; see ``runner.WALL_FACTOR`` for wall time).
        pending: why the case fails today (the fix is another change's): the test is ``xfail(strict=True)``.
        isolate: run in a child process (the input crashes the interpreter today); slower, so only where needed.
    """

    name: str
    kind: str
    build: Builder
    code: int = 2
    message: str | None = None
    usage: bool = False
    creates: str | None = None
    seconds: float = 10.0
    pending: str | None = None
    isolate: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")
        if self.code == 2 and not self.usage and not self.message:
            raise ValueError(f"{self.name}: an error case names what its message must mention")


# --------------------------------------------------------------------------------------------------- shared inputs
TINY_CONFIG: dict = {
    "seed": 0,
    "model": {"name": "voxel", "encoder": {"name": "small", "widths": [8, 16, 32, 32]}, "latent": 64,
              "channels": [16, 16, 8], "head_channels": 8, "fusion": "context", "refiner": True,
              "refiner_channels": [8, 8, 16]},
    "data": {"image_size": 32, "max_views": 2, "batch_size": 2, "augment": False, "val_views": [1]},
    "loss": {"bce": 1.0, "iou": 0.5},
    "optim": {"name": "adam", "lr": 0.003},
    "schedule": {"name": "constant", "warmup_steps": 0},
    "train": {"epochs": 1, "threads": 1, "calibrate_bn": 1, "thresholds": [0.5]},
}


class Shared:
    """Inputs several cases read, built once under ``root`` and never changed by a case (the test checks it):
    a tiny lift3d dataset, a tiny untrained voxel checkpoint and its config."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @cached_property
    def dataset(self) -> Path:
        """One family x 3 shapes (one per split) x 2 views of 32 px."""
        from lift3d.data.generate import generate_dataset

        path = self.root / "dataset"
        generate_dataset(path, ["bottle"], shapes_per_category=3, views=2, image_size=32, seed=0, workers=1,
                         points=256, occ_samples=128, quiet=True)
        return path

    def config(self, out: Path) -> dict:
        """The tiny training config (one epoch) on :attr:`dataset`, writing its run to ``out``."""
        cfg = copy.deepcopy(TINY_CONFIG)
        cfg["data"]["root"] = str(self.dataset)
        cfg["train"]["out"] = str(out)
        return cfg

    @cached_property
    def checkpoint(self) -> Path:
        """An untrained tiny voxel model (weights + config), the template of the checkpoint cases."""
        import torch

        from lift3d.models.checkpoint import save_checkpoint
        from lift3d.models.registry import build_model
        from lift3d.train.config import load_config

        cfg = load_config(None, self.config(self.root / "run"))
        torch.manual_seed(0)
        path = self.root / "tiny.safetensors"
        save_checkpoint(path, build_model(cfg["model"]), cfg, {"threshold": 0.5})
        return path

    def copy_dataset(self, dst: Path) -> Path:
        shutil.copytree(self.dataset, dst)
        return dst


# ------------------------------------------------------------------------------------------------------ images
def object_rgba(size: int = 48) -> np.ndarray:
    """RGBA uint8 ``(size, size, 4)``: an opaque orange ellipse on a transparent background."""
    yy, xx = np.mgrid[:size, :size]
    inside = ((xx - size / 2) / (size * 0.3)) ** 2 + ((yy - size / 2) / (size * 0.4)) ** 2 <= 1.0
    img = np.zeros((size, size, 4), np.uint8)
    img[inside] = (220, 120, 40, 255)
    return img


def object_on_white(size: int = 48) -> np.ndarray:
    """RGB uint8: the same ellipse on a plain white background (foreground by colour keying)."""
    rgba = object_rgba(size)
    rgb = np.full((size, size, 3), 255, np.uint8)
    inside = rgba[..., 3] > 0
    rgb[inside] = rgba[inside, :3]
    return rgb


def encode(img, fmt: str = "PNG", **kwargs) -> bytes:
    """A PIL image or a uint8 array -> the bytes of an image file in ``fmt``."""
    from PIL import Image

    pil = img if isinstance(img, Image.Image) else Image.fromarray(img)
    buf = io.BytesIO()
    pil.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def object_png() -> bytes:
    return encode(object_rgba())


def mask_png(shape: tuple[int, int] = (48, 48)) -> bytes:
    """A valid binary mask of :func:`object_rgba` (white = object), resized to ``shape`` (H, W)."""
    from PIL import Image

    m = (object_rgba()[..., 3] > 0).astype(np.uint8) * 255
    return encode(Image.fromarray(m).resize((shape[1], shape[0]), Image.NEAREST))


def write(d: Path, name: str, data: bytes | str) -> Path:
    """Write an input file ``d / "in" / name`` (folders created) and return its path."""
    p = d / "in" / name
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        p.write_text(data)
    else:
        p.write_bytes(data)
    return p


def out(d: Path, name: str) -> str:
    """The path of an output ``d / "out" / name`` as a string for argv."""
    return str(d / "out" / name)


def pickle_payload(marker: Path) -> bytes:
    """Pickle bytes (protocol 2, written opcode by opcode) that create the folder ``marker`` when unpickled: a
    loader that executes pickles leaves the marker behind, which the case's snapshot check sees."""
    return b"\x80\x02cos\nmkdir\nq\x00X" + len(str(marker)).to_bytes(4, "little") + str(marker).encode() \
        + b"q\x01\x85q\x02Rq\x03."
