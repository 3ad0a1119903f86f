"""Tiny fixtures in the on-disk layouts of real datasets (ShapeNet-R2N2, Pix3D, ModelNet), built by the tests.

No third-party data is stored: each builder renders simple geometry into a temporary folder. The cameras are
written with an *independent* forward model of each dataset's convention (for R2N2 a re-enactment of the
Blender scene graph of R2N2's render script; for Pix3D the projection formula of Pix3D's Blender demo), so
the readers' closed-form cameras are checked against a second derivation rather than against themselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from lift3d.data.render import render_views
from lift3d.geometry.cameras import Camera
from lift3d.io.voxels import VoxelGrid, save_voxels

CHAIR = "03001627"
R2N2_META = [(30.0, 25.0, 0.0, 0.8, 25.0), (200.0, 28.0, 0.0, 0.75, 25.0), (300.0, 10.0, 15.0, 0.9, 25.0)]
# binvox header of the fixture grids: the grid spans translate + [0, scale]^3 in model coordinates
R2N2_TRANSLATE, R2N2_SCALE = np.array([-0.42, -0.38, -0.40]), 0.8


def l_grid(d: int = 32) -> np.ndarray:
    """An asymmetric L-shaped solid ``(d, d, d)`` bool (x, y, z): no flip or axis swap maps it onto itself.

    Arms: 24 voxels along +x, 26 along +y, 14 along +z from the corner block at (4..8, 4..8, 10..14).
    """
    g = np.zeros((d, d, d), bool)
    g[4:28, 4:8, 10:14] = True
    g[4:8, 4:30, 10:14] = True
    g[4:8, 4:8, 10:24] = True
    return g


def grid_mesh(grid: np.ndarray, translate=(-0.5, -0.5, -0.5), scale: float = 1.0) -> trimesh.Trimesh:
    """The occupied cells of ``grid[x, y, z]`` as one box mesh spanning ``translate + [0, scale]^3``."""
    d = grid.shape[0]
    boxes = []
    for x, y, z in np.argwhere(grid):
        b = trimesh.creation.box(extents=np.full(3, scale / d))
        b.apply_translation(np.asarray(translate) + scale * (np.array([x, y, z]) + 0.5) / d)
        boxes.append(b)
    return trimesh.util.concatenate(boxes)


# --- 3D-R2N2 -------------------------------------------------------------------------------------------------

def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def blender_r2n2_camera(azimuth, elevation, in_plane, distance_ratio, size=137) -> Camera:
    """The R2N2 render camera, by re-enacting ``lib/blender_renderer.py`` of 3D-R2N2 step by step.

    Scene: the camera sits at (d, 0, 0) with Euler 'ZXY' rotation (0, 90, 90) deg, parented to an empty whose
    Euler 'XYZ' rotation is (-in_plane, -elevation, -azimuth); Blender's default lens is 35 mm on a 32 mm sensor;
    the OBJ importer maps model coordinates (+Y up) to Blender's (+Z up) by (x, y, z) -> (x, -z, y).
    Blender cameras look down their local -Z with +Y up; OpenCV's axes are (x, -y, -z) of that.
    """
    d = distance_ratio * 1.75
    cam_local = _ry(np.radians(90)) @ _rx(0.0) @ _rz(np.radians(90))  # 'ZXY': Z first, then X, then Y
    parent = _rz(np.radians(-azimuth)) @ _ry(np.radians(-elevation)) @ _rx(np.radians(-in_plane))  # 'XYZ'
    blender_from_model = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])
    centre = blender_from_model.T @ parent @ np.array([d, 0.0, 0.0])
    cam_to_model = blender_from_model.T @ parent @ cam_local @ np.diag([1.0, -1.0, -1.0])
    R = cam_to_model.T
    f = 35.0 / 32.0 * size
    K = np.array([[f, 0, size / 2], [0, f, size / 2], [0, 0, 1.0]])
    return Camera(K, R, -R @ centre, size, size)


def make_r2n2(root: Path, models=("m1", "m2"), synset: str = CHAIR, meta=R2N2_META, grid=None) -> Path:
    """Write ``root/ShapeNetRendering`` + ``root/ShapeNetVox32`` for ``models``: renders of ``grid`` (default
    :func:`l_grid`) placed in model coordinates by the binvox header, with cameras from ``meta`` rows."""
    grid = l_grid() if grid is None else grid
    mesh = grid_mesh(grid, R2N2_TRANSLATE, R2N2_SCALE)
    cams = [blender_r2n2_camera(a, e, r, d) for a, e, r, d, _ in meta]
    views = render_views(mesh, cams, 0, colors=np.array([[0.8, 0.4, 0.2]]))
    for mid in models:
        rdir = root / "ShapeNetRendering" / synset / mid / "rendering"
        rdir.mkdir(parents=True)
        (rdir / "rendering_metadata.txt").write_text("".join(" ".join(f"{x:g}" for x in m) + "\n" for m in meta))
        (rdir / "renderings.txt").write_text("".join(f"{v:02d}.png\n" for v in range(len(meta))))
        for v, view in enumerate(views):
            Image.fromarray(view.rgba, "RGBA").save(rdir / f"{v:02d}.png")
        vdir = root / "ShapeNetVox32" / synset / mid
        vdir.mkdir(parents=True)
        save_voxels(vdir / "model.binvox", VoxelGrid(grid, R2N2_TRANSLATE, R2N2_SCALE))
    return root


# --- Pix3D ---------------------------------------------------------------------------------------------------

PIX3D_SIZE = (96, 80)  # img_size [w, h]
PIX3D_MODEL_CENTRE = np.array([3.0, 1.0, -2.0])


def pix3d_record(name: str, category: str = "chair", angle: float = 0.4, focal: float = 35.0,
                 model: str | None = None) -> dict:
    """A pix3d.json record of photo ``name`` showing CAD model ``model`` (default: one named like the photo)."""
    return {"img": f"img/{category}/{name}.png", "mask": f"mask/{category}/{name}.png",
            "model": f"model/{category}/{model or name}/model.obj", "category": category,
            "img_size": list(PIX3D_SIZE),
            "focal_length": focal, "rot_mat": _ry(angle).tolist(),
            "trans_mat": (-_ry(angle) @ PIX3D_MODEL_CENTRE + [0.1, 0.05, 3.0]).tolist()}  # model ~3 units ahead


def pix3d_mask(mesh: trimesh.Trimesh, rec: dict) -> np.ndarray:
    """Silhouette ``(h, w)`` uint8 by splatting dense surface samples with Pix3D's projection (its Blender demo:
    object at ``rot_mat @ X + trans_mat``, camera at the origin looking down +Z with +Y up and image +x to the
    world's -X): ``u = w/2 - f x/z``, ``v = h/2 - f y/z``, ``f = focal_length / 32 * w``."""
    w, h = rec["img_size"]
    pts = trimesh.sample.sample_surface(mesh, 40000, seed=0)[0]
    xc = pts @ np.asarray(rec["rot_mat"]).T + rec["trans_mat"]
    f = rec["focal_length"] / 32.0 * w
    u = np.floor(w / 2 - f * xc[:, 0] / xc[:, 2]).astype(int)
    v = np.floor(h / 2 - f * xc[:, 1] / xc[:, 2]).astype(int)
    ok = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    mask = np.zeros((h, w), np.uint8)
    mask[v[ok], u[ok]] = 255
    return mask


def pix3d_mesh(i: int = 0) -> trimesh.Trimesh:
    """An off-centre box (Pix3D models are not centred; the reader normalises them)."""
    mesh = trimesh.creation.box(extents=(0.4, 0.6 + 0.1 * i, 0.2))
    mesh.apply_translation(PIX3D_MODEL_CENTRE)
    return mesh


def make_pix3d(root: Path, names=("0001", "0002"), models=None) -> list[dict]:
    """Write ``root/pix3d.json`` and the image/mask/model files of one record per name; ``models[i]`` names the CAD
    model of photo ``i`` (photos may share one, as in Pix3D; default: one model per photo, named like it)."""
    models = list(names) if models is None else list(models)
    recs = []
    for i, name in enumerate(names):
        rec = pix3d_record(name, angle=0.4 + 0.3 * i, model=models[i])
        mesh = pix3d_mesh(list(dict.fromkeys(models)).index(models[i]))
        for key in ("img", "mask", "model"):
            (root / rec[key]).parent.mkdir(parents=True, exist_ok=True)
        mesh.export(root / rec["model"])
        mask = pix3d_mask(mesh, rec)
        Image.fromarray(np.dstack([mask, mask // 2, mask // 3])).save(root / rec["img"])
        Image.fromarray(mask).save(root / rec["mask"])
        recs.append(rec)
    (root / "pix3d.json").write_text(json.dumps(recs))
    return recs


# --- ModelNet ------------------------------------------------------------------------------------------------

def off_text(verts: np.ndarray, faces: list, glued: bool = False) -> str:
    """OFF file text; ``glued`` writes ModelNet's broken first line ``OFF<nv> <nf> 0``."""
    counts = f"{len(verts)} {len(faces)} 0"
    head = f"OFF{counts}\n" if glued else f"OFF\n{counts}\n"
    body = "".join(f"{x} {y} {z}\n" for x, y, z in verts)
    return head + body + "".join(f"{len(f)} " + " ".join(map(str, f)) + "\n" for f in faces)


def quad_box(extents) -> tuple[np.ndarray, list]:
    """An axis-aligned box centred at the origin as 8 vertices and 6 quads (outward winding)."""
    v = (np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)]) - 0.5) * np.asarray(extents)
    quads = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
    return v, quads


def make_modelnet(root: Path, classes=("chair", "desk"), split: str = "train", count: int = 1,
                  first: int = 1) -> Path:
    """``root/<class>/<split>/<class>_NNNN.off`` for NNNN = ``first .. first + count - 1``: tall (+Z up) boxes,
    chair with the glued header and quads."""
    for cls in classes:
        d = root / cls / split
        d.mkdir(parents=True, exist_ok=True)
        for n in range(first, first + count):
            if cls == "chair":
                v, quads = quad_box((0.2, 0.4, 1.0))
                (d / f"{cls}_{n:04d}.off").write_text(off_text(v, quads, glued=True))
            else:
                box = trimesh.creation.box(extents=(1.0, 0.5, 0.3))
                (d / f"{cls}_{n:04d}.off").write_text(off_text(box.vertices, box.faces.tolist()))
    return root
