"""Write a paired 2D/3D dataset: rendered views + cameras + ground truth (voxels, points, occupancy, mesh).

Layout (``docs/datasets.md``)::

    DIR/manifest.json                  categories, shapes with their split, generation settings (written last)
    DIR/generation.json                the settings that change the files (RESUME_KEYS), written first
    DIR/shapes/<id>/view_XX.png        RGBA renders, alpha = foreground
    DIR/shapes/<id>/geometry.npz       depth (V, H, W) float32 camera z (0 = background), normals (V, H, W, 3) int8
    DIR/shapes/<id>/cameras.json       K, R, t, width, height, azimuth, elevation, distance per view
    DIR/shapes/<id>/gt.npz             voxels32 (32^3 bool) [voxels64], points/normals (P, 3), occ_points/occ_labels
    DIR/shapes/<id>/mesh.ply           canonical-frame watertight mesh

Each shape folder is written to a temporary folder and renamed when complete, so an interrupted (even SIGKILLed)
run leaves only whole shapes, and a re-run with the same settings skips them (resumable) and ends with the same bytes
as an uninterrupted run; a re-run with settings that change the files is refused, naming them. Per-shape seeds
depend only on (seed, category, index), so the bytes are the same whatever the number of workers. A worker process
that dies ends the run at once (no waiting forever on a lost result).
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lift3d import limits
from lift3d.data.appearance import check_appearance
from lift3d.errors import DatasetError, InputError, Lift3DError
from lift3d.geometry.voxels import check_voxel_mode
from lift3d.io import extensions
from lift3d.io.atomic import atomic_dir, write_text_atomic
from lift3d.limits import check_number

# Camera ranges per appearance: ``plain`` keeps the original fixed 40 degree lens; the photo-like looks cover
# product photography (wide to long lenses, a little roll, the object off-centre and at varied size).
CAMERAS: dict[str, dict] = {
    "plain": {},
    "random": {"fov_deg": (15.0, 60.0), "roll_deg": 5.0, "offset": 0.06, "zoom": (1.05, 1.3)},
    "shift": {"fov_deg": (15.0, 60.0), "roll_deg": 5.0, "offset": 0.06, "zoom": (1.05, 1.3)},
}
ELEVATION: dict[str, tuple[float, float]] = {"plain": (-10.0, 40.0), "random": (-10.0, 50.0),
                                             "shift": (-10.0, 50.0)}
# Every setting that changes the bytes of a shape folder: a resumed run must use the same ones. (Categories, the number
# of shapes per category, the split fractions and --only-split only choose WHICH shapes are written, so a resume may
# change them, e.g. to grow a dataset.)
RESUME_KEYS = ("seed", "views", "image_size", "voxel_res", "voxel_mode", "points", "occ_samples", "appearance",
               "elevation", "up", "source")
SETTINGS_FILE = "generation.json"  # RESUME_KEYS of the run, written before the first shape
MAX_VIEWS = 100  # views per shape: view_00.png .. view_99.png keep two-digit names (and sorted order)


@dataclass(frozen=True)
class ShapeTask:
    """Everything one worker needs to write one shape folder."""

    shape_id: str
    category: str
    seed: int
    source: str | None  # a mesh file, or None for a procedural shape
    out: str
    views: int
    image_size: int
    voxel_res: tuple[int, ...]
    voxel_mode: str
    points: int
    occ_samples: int
    elevation: tuple[float, float]
    up: str
    appearance: str = "plain"


def _load_source(task: ShapeTask):
    import trimesh

    from lift3d.data.shapes import make_shape
    from lift3d.geometry.normalize import normalize_mesh

    if task.source is None:
        return make_shape(task.category, task.seed)
    from lift3d.errors import Lift3DError
    from lift3d.io import read_any

    try:  # every mesh format lift3d reads (USD included), with its checks and limits
        kind, mesh = read_any(task.source)
    except Lift3DError as exc:
        raise DatasetError(f"cannot read mesh {task.source}: {exc}") from exc
    if kind != "mesh" or not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise DatasetError(f"{task.source} contains no triangles")
    return normalize_mesh(mesh, up=task.up)


def write_shape(task: ShapeTask) -> str:
    """Render and write one shape folder (atomically). Returns the shape id."""
    from PIL import Image

    from lift3d.data.render import random_cameras, render_views
    from lift3d.geometry.sampling import sample_surface
    from lift3d.geometry.voxels import mesh_to_voxels, points_inside, raycasting_scene
    from lift3d.io.npz import save_npz

    rng = np.random.default_rng(task.seed)
    mesh = _load_source(task)
    cams = random_cameras(rng, task.views, task.image_size, elevation=task.elevation,
                          **CAMERAS[task.appearance])
    views = render_views(mesh, cams, rng, appearance=task.appearance)
    gt = {f"voxels{r}": mesh_to_voxels(mesh, r, mode=task.voxel_mode) for r in task.voxel_res}
    gt["points"], gt["normals"] = sample_surface(mesh, task.points, seed=task.seed)
    n_near = task.occ_samples // 2
    idx = rng.integers(0, len(gt["points"]), n_near)
    near = gt["points"][idx] + rng.normal(0, 0.02, (n_near, 3)).astype(np.float32)
    uniform = rng.uniform(-0.55, 0.55, (task.occ_samples - n_near, 3)).astype(np.float32)
    occ = np.concatenate([near, uniform])
    gt["occ_points"] = occ.astype(np.float16)
    gt["occ_labels"] = points_inside(mesh, occ, scene=raycasting_scene(mesh))
    cam_json = {"views": [{**v.camera.to_dict(), "azimuth": v.azimuth, "elevation": v.elevation,
                           "distance": v.distance} for v in views]}
    with atomic_dir(Path(task.out) / "shapes" / task.shape_id) as tmp:
        for i, v in enumerate(views):
            Image.fromarray(v.rgba, "RGBA").save(tmp / f"view_{i:02d}.png", optimize=False, compress_level=6)
        save_npz(tmp / "geometry.npz", depth=np.stack([v.depth for v in views]),
                 normals=np.round(np.stack([v.normals for v in views]) * 127).astype(np.int8))
        save_npz(tmp / "gt.npz", **gt)
        (tmp / "cameras.json").write_text(json.dumps(cam_json, indent=1))
        mesh.export(tmp / "mesh.ply", encoding="binary")
    return task.shape_id


def _worker_init(parent: int | None = None) -> None:
    import torch

    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"
    _die_with(parent)


def _die_with(parent: int | None) -> None:
    """Linux: have the kernel kill this worker when the main process ``parent`` dies, so a run that is SIGKILLed (or
    OOM-killed) leaves no idle workers behind, blocked forever on a queue nobody writes to."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end with the process group as before
        return
    if parent is not None and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _run(task: ShapeTask) -> tuple[str, str | None]:
    try:
        return write_shape(task), None
    except Lift3DError as exc:
        return task.shape_id, str(exc)
    except Exception as exc:  # noqa: BLE001 - a library failure on one shape is reported with its id, not a traceback
        return task.shape_id, f"{type(exc).__name__}: {exc}"


def split_ids(ids_by_category: dict[str, list[str]], splits=(0.8, 0.1, 0.1), seed: int = 0) -> dict[str, list[str]]:
    """Split shape ids into train/val/test per category (by shape, never by view), seeded."""
    if len(splits) != 3 or abs(sum(splits) - 1.0) > 1e-6 or min(splits) < 0:
        raise InputError(f"splits must be three non-negative fractions summing to 1, got {splits}")
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for cat, ids in sorted(ids_by_category.items()):
        # keyed by the category's name, so adding a family never moves another family's shapes between splits
        order = np.random.default_rng([seed, zlib.crc32(cat.encode()), 7]).permutation(len(ids))
        n_val = int(round(splits[1] * len(ids)))
        n_test = int(round(splits[2] * len(ids)))
        if len(ids) >= 3:  # a category of >= 3 shapes gets at least one val/test shape unless its fraction is 0
            n_val = max(n_val, 1) if splits[1] > 0 else 0
            n_test = max(n_test, 1) if splits[2] > 0 else 0
        n_train = len(ids) - n_val - n_test
        picked = [ids[i] for i in order]
        out["train"] += picked[:n_train]
        out["val"] += picked[n_train:n_train + n_val]
        out["test"] += picked[n_train + n_val:]
    return out


def _mesh_sources(root: Path) -> dict[str, list[Path]]:
    if not root.is_dir():
        raise InputError(f"mesh folder not found: {root}")
    suffixes = extensions("mesh", readable=True)
    found: dict[str, list[Path]] = {}
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() in suffixes and p.is_file():
            rel = p.relative_to(root).parts  # category = first sub-folder (ModelNet: <class>/train/x.off)
            cat = rel[0] if len(rel) > 1 else "default"
            found.setdefault(cat, []).append(p)
    if not found:
        raise InputError(f"no mesh files ({', '.join(suffixes)}) under {root}")
    return found


def _check_resume(out: Path, settings: dict) -> None:
    """Refuse to resume a dataset written with other settings (:data:`RESUME_KEYS`), naming every one that differs:
    it would mix both in one dataset. The settings are recorded in ``generation.json`` before the first shape is
    written, so even a run killed before its manifest is checked; datasets written before that file existed are
    checked against their manifest."""
    from lift3d.data.dataset import read_manifest

    path = out / SETTINGS_FILE
    if path.is_file():
        try:
            old = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetError(f"corrupt {path}: {exc}") from exc
        if not isinstance(old, dict):
            raise DatasetError(f"corrupt {path}: expected a JSON object")
    elif (out / "manifest.json").is_file():
        old = {"appearance": "plain", **read_manifest(out)}  # datasets written before the option were plain
    else:
        old = {}
    new = json.loads(json.dumps(settings))  # tuples as lists, as stored
    diffs = [f"{k} {old[k]!r}, not {new[k]!r}" for k in RESUME_KEYS if k in old and old[k] != new[k]]
    if diffs:
        raise InputError(f"{out} was generated with {'; '.join(diffs)}; resume with the same settings or generate "
                         "into a new folder")
    for stale in [*out.glob(".*.tmp*"), *(out / "shapes").glob(".*.tmp*")]:  # left by a killed run
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    write_text_atomic(path, json.dumps(new, indent=1))


def _build_tasks(categories, shapes_per_category: int, seed: int, mesh_source, common: dict
                 ) -> tuple[list[str], list[ShapeTask]]:
    """The categories and one :class:`ShapeTask` per shape (procedural or from a mesh folder)."""
    from lift3d.data.shapes import CATEGORIES

    tasks: list[ShapeTask] = []
    if mesh_source is None:
        cats = categories or CATEGORIES
        unknown = sorted(set(cats) - set(CATEGORIES))
        if unknown:
            raise InputError(f"unknown categories {unknown}; valid: {', '.join(CATEGORIES)}")
        for cat in cats:
            for i in range(shapes_per_category):
                shape_seed = int(np.random.default_rng([seed, CATEGORIES.index(cat), i]).integers(2**31))
                tasks.append(ShapeTask(f"{cat}_{i:04d}", cat, shape_seed, None, **common))
        return list(cats), tasks
    sources = _mesh_sources(Path(mesh_source))
    cats = sorted(sources)
    for ci, cat in enumerate(cats):
        for i, p in enumerate(sources[cat]):
            tasks.append(ShapeTask(f"{cat}_{i:04d}", cat, seed * 100003 + ci * 1009 + i, str(p), **common))
    return cats, tasks


def _run_all(todo: list[ShapeTask], total: int, workers: int, quiet: bool) -> dict[str, str]:
    """Write the shapes of ``todo`` (in ``workers`` processes) -> ``{shape_id: error}`` of the failed ones.

    A worker process that dies (killed, out of memory, a crash in a native library) ends the run at once with a
    :class:`DatasetError`; the shapes finished so far stay, and re-running the command resumes after them.
    """
    from tqdm import tqdm

    failed: dict[str, str] = {}
    bar = tqdm(total=total, initial=total - len(todo), desc="shapes", unit="shape", disable=quiet)
    try:
        if workers > 1 and len(todo) > 1:
            _run_pool(todo, workers, failed, bar)
        else:
            for t in todo:
                sid, err = _run(t)
                bar.update()
                if err:
                    failed[sid] = err
    finally:
        bar.close()
    return {t.shape_id: failed[t.shape_id] for t in todo if t.shape_id in failed}  # in task order, not finish order


def _run_pool(todo: list[ShapeTask], workers: int, failed: dict[str, str], bar) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(min(workers, len(todo)), mp_context=mp.get_context("fork"), initializer=_worker_init,
                               initargs=(os.getpid(),))
    try:
        for fut in as_completed([pool.submit(_run, t) for t in todo]):
            sid, err = fut.result()  # BrokenProcessPool when a worker died
            bar.update()
            if err:
                failed[sid] = err
    except BrokenProcessPool as exc:
        finished = sum(1 for t in todo if (Path(t.out) / "shapes" / t.shape_id).is_dir())
        raise DatasetError(f"a data generation worker process died (killed, out of memory or crashed) while "
                           f"writing shapes; {finished} of the {len(todo)} shapes to write are done and kept, re-run "
                           "the same command to resume") from exc
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def check_settings(shapes_per_category: int, views: int, image_size: int, seed: int, workers: int,
                   voxel_res: tuple[int, ...], points: int, occ_samples: int, up: str) -> None:
    """Refuse, before anything is written, generation settings out of range (one :class:`InputError` line naming
    the setting): views in ``[1, MAX_VIEWS]``, image size in ``[8, IMAGE_SIDE]``, each voxel resolution in
    ``[2, VOXEL_RESOLUTION]``, points and occupancy samples in ``[1, POINTS]``, at least one shape per category and
    one worker, a seed >= 0 and a known up axis."""
    from lift3d.geometry.normalize import up_axis_rotation

    for value, name, lo in ((shapes_per_category, "shapes per category (-n)", 1), (workers, "workers (--workers)", 1),
                            (seed, "seed (--seed)", 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < lo:
            raise InputError(f"{name} must be an integer >= {lo}, got {value!r}")
    check_number(views, "views (--views)", 1, MAX_VIEWS)
    check_number(image_size, "image size (--image-size)", 8, limits.IMAGE_SIDE)
    if not voxel_res:
        raise InputError("voxel resolution (--voxel-res): give at least one")
    for res in voxel_res:
        check_number(res, "voxel resolution (--voxel-res)", 2, limits.VOXEL_RESOLUTION)
    check_number(points, "points", 1, limits.POINTS)
    check_number(occ_samples, "occupancy samples", 1, limits.POINTS)
    up_axis_rotation(up)  # an unknown axis is refused here, not in the first worker


def generate_dataset(out: str | os.PathLike, categories: list[str] | None = None, shapes_per_category: int = 10,
                     views: int = 12, image_size: int = 128, seed: int = 0, workers: int = 2,
                     voxel_res: tuple[int, ...] = (32,), points: int = 16384, occ_samples: int = 16384,
                     splits=(0.8, 0.1, 0.1), elevation=None, quiet: bool = False, skip_bad: bool = False,
                     mesh_source: str | os.PathLike | None = None, up: str = "+y",
                     voxel_mode: str = "tight", appearance: str = "random", only_split: str | None = None) -> dict:
    """Generate (or resume) a dataset; returns the manifest dict. See the module docstring for the layout.

    ``appearance`` is ``random`` (textured, photo-like lighting and lenses; the training default), ``plain``
    (flat colours, one light, one lens: the original look) or ``shift`` (a held-out look for the
    appearance-shift test). ``elevation`` defaults to the appearance's range. ``only_split`` (train | val |
    test) writes only the shapes of that split: the split is drawn over all shapes first, so e.g. the test
    shapes of a ``shift`` dataset are exactly the test shapes of a ``random`` one with the same seed.
    """
    out = Path(out)
    check_settings(shapes_per_category, views, image_size, seed, workers, voxel_res, points, occ_samples, up)
    check_appearance(appearance)
    if only_split is not None and only_split not in ("train", "val", "test"):
        raise InputError(f"only_split must be train, val or test, got {only_split!r}")
    check_voxel_mode(voxel_mode)  # before any worker starts
    elevation = ELEVATION[appearance] if elevation is None else elevation
    source = "procedural" if mesh_source is None else str(mesh_source)
    settings = {"seed": seed, "views": views, "image_size": image_size, "voxel_res": list(voxel_res),
                "voxel_mode": voxel_mode, "points": points, "occ_samples": occ_samples, "appearance": appearance,
                "elevation": list(elevation), "up": up, "source": source}
    common = dict(out=str(out), views=views, image_size=image_size, voxel_res=tuple(voxel_res),
                  voxel_mode=voxel_mode, points=points, occ_samples=occ_samples, elevation=tuple(elevation),
                  up=up, appearance=appearance)
    cats, tasks = _build_tasks(categories, shapes_per_category, seed, mesh_source, common)
    _check_resume(out, settings)
    by_cat: dict[str, list[str]] = {}
    for t in tasks:
        by_cat.setdefault(t.category, []).append(t.shape_id)
    split = split_ids(by_cat, splits, seed)  # over all shapes, so a failing shape never reshuffles the others
    which = {sid: name for name, ids in split.items() for sid in ids}
    if only_split is not None:
        tasks = [t for t in tasks if which[t.shape_id] == only_split]
    todo = [t for t in tasks if not (out / "shapes" / t.shape_id).is_dir()]
    failed = _run_all(todo, len(tasks), workers, quiet)
    if failed:
        if not skip_bad:
            sid, err = next(iter(failed.items()))
            raise DatasetError(f"{len(failed)} shape(s) failed, first {sid}: {err} (use --skip-bad to skip them)")
        for sid, err in failed.items():
            warnings.warn(f"skipped {sid}: {err}", stacklevel=2)
    kept = [t for t in tasks if t.shape_id not in failed]
    kept_ids = {t.shape_id for t in kept}
    manifest = {
        "format": "lift3d-dataset", "version": 1, **settings, "only_split": only_split, "categories": list(cats),
        "shapes": [{"id": t.shape_id, "category": t.category, "split": which[t.shape_id]} for t in kept],
        "splits": {name: [i for i in ids if i in kept_ids] for name, ids in split.items()},
    }
    write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=1))
    return manifest
