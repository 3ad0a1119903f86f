"""The service layer under the CLI and the server: a reconstruction :class:`Request` -> a :class:`Result`.

A request holds photos (encoded bytes of any PIL format, or RGBA arrays), optional masks, the model and every
option of ``lift3d reconstruct``; :meth:`Service.check` refuses a bad request in one line before any work, and
:meth:`Service.run` reconstructs ONE object from its views. Models are loaded once per :class:`Service` and
reused (thread-safe). A result writes itself to files (all or nothing) or to bytes for a stream, in the asked
format or in any other the reconstruction can give (mesh formats, voxels, points).
"""

from __future__ import annotations

import io
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lift3d.errors import InputError
from lift3d.reconstruct.assets import Asset, AssetOptions, build_assets, lod_paths, parse_lods
from lift3d.reconstruct.pipeline import SHIPPED, Reconstruction, Reconstructor, shipped_checkpoint
from lift3d.reconstruct.placement import METRE_FORMATS, Placement, check_placement, parse_size
from lift3d.reconstruct.texturing import mode_for

Progress = Callable[[str, float], None]
"""``progress(stage, fraction done)``: stages ``load``, ``reconstruct``, ``assets``, ``done``."""


@dataclass
class Request:
    """One object to reconstruct from its view(s), and what to make of it (the options of ``lift3d reconstruct``).

    ``images``: encoded image bytes or RGBA uint8 ``(H, W, 4)`` arrays, all views of one object; ``masks``: one per
    image (bytes, bool ``(H, W)`` array or None = automatic). ``model`` is a shipped model's name; ``checkpoint`` a
    trainer checkpoint path (for the CLI: a server must never take paths from a request). ``format`` is the output
    extension; the other fields are as the CLI options of the same name.
    """

    images: list
    masks: list | None = None
    names: list[str] | None = None
    model: str | None = None
    checkpoint: str | None = None
    format: str = ".glb"
    threshold: float | None = None
    resolution: int | None = None
    smooth: int = 10
    texture: str = "auto"
    texture_size: int = 1024
    symmetry: bool = True
    delight: bool = False
    post: str | None = None
    faces: int | None = None
    lod: str | None = None
    size: str | None = None
    units: str = "m"
    up: str = "y"
    frame: str = "ground"
    close: bool = True

    @property
    def ext(self) -> str:
        return "." + self.format.lower().lstrip(".")


@dataclass
class Result:
    """A finished reconstruction: the model's :class:`Reconstruction`, one :class:`Asset` per level of detail (mesh
    formats; empty for voxels and points), the request's extension and seconds per stage."""

    reconstruction: Reconstruction
    assets: list[Asset]
    ext: str
    timings: dict[str, float] = field(default_factory=dict)

    def write(self, stage: Callable[[Path], Path], path: Path) -> list[Path]:
        """Write every output for ``path`` through ``stage`` (:func:`lift3d.io.atomic.all_or_nothing`'s)."""
        from lift3d.reconstruct.outputs import write_reconstruction

        if not self.assets:
            write_reconstruction(self.reconstruction, stage(path))
            return [path]
        outs = lod_paths(path, [0] * len(self.assets))
        for out, asset in zip(outs, self.assets, strict=True):
            write_reconstruction(self.reconstruction, stage(out), mesh=asset.mesh)
        return outs

    def to_bytes(self, fmt: str | None = None, lod: int = 0) -> tuple[bytes, str]:
        """The result as one file's bytes -> ``(data, extension)``, in ``fmt`` (default: the request's).

        Mesh formats take level of detail ``lod``'s mesh (a format that cannot hold the texture drops it); voxel
        and point formats come from the model's structure. A textured OBJ needs side files, so it comes as a ZIP
        (``.zip``: ``model.obj``, ``model.mtl``, ``model_material_0.png``).
        """
        import tempfile

        import trimesh

        from lift3d.io import kind_of
        from lift3d.reconstruct.outputs import write_reconstruction

        ext = self.ext if fmt is None else "." + fmt.lower().lstrip(".")
        kind = kind_of(Path("model" + ext), for_output=True)
        mesh = None
        if kind == "mesh" and self.reconstruction.mesh is not None:
            if not 0 <= lod < max(len(self.assets), 1):
                raise InputError(f"level of detail {lod} does not exist (this result has {len(self.assets)})")
            mesh = self.assets[lod].mesh if self.assets else self.reconstruction.mesh
        if ext == ".obj" and mesh is not None and isinstance(mesh.visual, trimesh.visual.TextureVisuals):
            with tempfile.TemporaryDirectory() as tmp:
                write_reconstruction(self.reconstruction, Path(tmp) / "model.obj", mesh=mesh)
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                    for f in sorted(Path(tmp).iterdir()):
                        z.write(f, f.name)
                return buf.getvalue(), ".zip"
        buf = io.BytesIO()
        write_reconstruction(self.reconstruction, buf, mesh=mesh, fmt=ext)
        return buf.getvalue(), ext

    def view_bytes(self, kind: str) -> bytes:
        """A GLB that shows the model's ``points`` (small spheres) or ``voxels`` (cubes for the surface cells), for a
        viewer that reads only glTF; placed like the mesh files (same size, ground, up axis)."""
        from lift3d.io.voxels import VoxelGrid
        from lift3d.reconstruct.placement import placement_matrix
        from lift3d.render.renderable import points_mesh, voxels_mesh

        rec = self.reconstruction
        if kind == "points":
            shown = points_mesh(rec.points(4096)[0])
        elif kind == "voxels":
            shown = voxels_mesh(VoxelGrid(occupancy=rec.occupancy, translate=np.full(3, -0.5), scale=1.0))
        else:
            raise InputError(f"unknown view {kind!r}; use points or voxels")
        if self.assets and rec.mesh is not None:  # placed like the mesh files: the same matrix from the same bounds
            shown.apply_transform(placement_matrix(rec.mesh.bounds, self.assets[0].placement))
        return shown.export(file_type="glb")

    def summary(self, path: Path | str = "model") -> list[str]:
        """One line per written file, as ``lift3d reconstruct`` prints them (with ``lift3d check``'s verdict)."""
        from lift3d.quality import check_mesh_quality

        rec = self.reconstruction
        ms = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in self.timings.items())
        head = f"{len(rec.masks)} view(s), {rec.summary()}"
        if not self.assets:
            return [f"{path}: {head} ({ms})"]
        lines = []
        for out, asset in zip(lod_paths(Path(path), [0] * len(self.assets)), self.assets, strict=True):
            colour = "" if asset.texturing is None else f", {asset.texturing.summary()}"
            extra = "".join(f"; {n}" for n in asset.notes)
            units = "m" if self.ext in METRE_FORMATS else asset.placement.units
            verdict = check_mesh_quality(asset.mesh, units=units).verdict()
            lines.append(f"{out}: {head}{colour}, {asset.placement.describe()}{extra} ({ms})\n  check: {verdict}")
        return lines


class Service:
    """Reconstructions with models loaded once and reused (safe to share between threads).

    Args:
        threads: torch intra-op threads for the models (None: torch's default).
    """

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self._models: dict[str, Reconstructor] = {}
        self._lock = threading.Lock()

    def model(self, name: str | None = None, checkpoint: str | Path | None = None) -> Reconstructor:
        """The loaded model for a shipped ``name`` or a ``checkpoint`` path (loaded on first use, then cached)."""
        if checkpoint is not None and name is not None:
            raise InputError("give --model or --checkpoint, not both")
        path = Path(checkpoint) if checkpoint is not None else shipped_checkpoint(name)
        key = str(path.resolve())
        with self._lock:
            if key not in self._models:
                self._models[key] = Reconstructor(path, threads=self.threads)
            return self._models[key]

    @staticmethod
    def shipped_models() -> list[str]:
        return list(SHIPPED)

    def options(self, request: Request) -> AssetOptions:
        """Check every option of ``request`` that needs no model -> the asset options (one-line errors)."""
        from lift3d.io import kind_of
        from lift3d.limits import check_number
        from lift3d.postprocess.pipeline import parse_post

        if not request.images:
            raise InputError("no input image given")
        if request.masks is not None and len(request.masks) != len(request.images):
            raise InputError(f"{len(request.masks)} masks given for {len(request.images)} images")
        check_number(request.smooth, "--smooth", 0, 1000)
        check_number(request.texture_size, "--texture-size", 16, 8192)
        ext = request.ext
        kind = kind_of(Path("model" + ext), for_output=True)
        placement = Placement(None if request.size is None else parse_size(request.size), request.units.lower(),
                              request.up.lower(), request.frame.lower())
        budgets = parse_lods(request.lod, request.faces)
        if kind == "mesh":
            check_placement(placement, "model" + ext)
        elif budgets or placement != Placement(frame=placement.frame):
            raise InputError(f"--faces, --lod, --size, --units and --up apply to mesh files, not {ext}")
        return AssetOptions(texture=mode_for("model" + ext, request.texture), texture_size=request.texture_size,
                            symmetry=request.symmetry, delight=request.delight,
                            post=parse_post(request.post) if request.post else [],
                            faces=budgets, placement=placement, close=request.close)

    def check(self, request: Request) -> Reconstructor:
        """Refuse a bad request before any heavy work; returns the (loaded) model it will use."""
        self.options(request)
        return self._model_for(request)

    def _model_for(self, request: Request) -> Reconstructor:
        """The request's model, with its model-specific options (resolution, threshold) checked."""
        model = self.model(request.model, request.checkpoint)
        options = {} if request.resolution is None else {"resolution": request.resolution}
        model.task.check_options(options)
        model.check_threshold(request.threshold)
        return model

    def run(self, request: Request, progress: Progress | None = None) -> Result:
        """Reconstruct the request's object -> :class:`Result` (nothing is written)."""
        from lift3d.io import kind_of
        from lift3d.io.images import load_image, load_mask

        def step(stage: str, done: float) -> None:
            if progress is not None:
                progress(stage, done)

        step("load", 0.0)
        options = self.options(request)
        model = self._model_for(request)
        names = request.names or [None] * len(request.images)
        rgbas = [im if isinstance(im, np.ndarray) else load_image(im, name)
                 for im, name in zip(request.images, names, strict=True)]
        masks = None
        if request.masks:
            masks = [m if m is None or isinstance(m, np.ndarray) else load_mask(m, im.shape[:2])
                     for m, im in zip(request.masks, rgbas, strict=True)]
        step("reconstruct", 0.1)
        model_options = {} if request.resolution is None else {"resolution": request.resolution}
        rec = model.reconstruct(rgbas, masks, threshold=request.threshold, smooth_iterations=request.smooth,
                                **model_options)
        step("assets", 0.5)
        t0 = time.perf_counter()
        assets: list[Asset] = []
        if rec.mesh is not None and kind_of(Path("model" + request.ext), for_output=True) == "mesh":
            assets = build_assets(rec.mesh, Path("model" + request.ext), rgbas, rec.masks, options)
        timings = {**rec.timings, "assets": time.perf_counter() - t0}
        step("done", 1.0)
        return Result(rec, assets, request.ext, timings)

