"""Reading USD stages (``.usdz``, ``.usda``, ``.usdc``) into one ``trimesh.Trimesh``: the reader behind
:func:`lift3d.io.usd.load_usd`, which the format table calls. Imported (with ``pxr``) only when a USD file is read."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lift3d import limits
from lift3d.errors import FormatError, InputError
from lift3d.io.checks import check_mesh, reason
from lift3d.io.usd import DEFAULT_METALLIC, DEFAULT_ROUGHNESS, Y_TO_Z, import_usd

if TYPE_CHECKING:
    import trimesh
    from PIL import Image


def read_usd(path: str | os.PathLike) -> trimesh.Trimesh:
    """The reader behind :func:`lift3d.io.usd.load_usd` (see there)."""
    import trimesh

    p = Path(path)
    if not p.is_file():
        raise InputError(f"file not found: {p}")
    Usd = import_usd()
    from pxr import Tf, UsdGeom, UsdUtils

    quiet = UsdUtils.CoalescingDiagnosticDelegate()  # noqa: F841  USD's warnings on a damaged file: kept, not printed
    try:
        stage = Usd.Stage.Open(str(p))
        if stage is None:
            raise FormatError(f"{p} is not a readable USD file")
        cache = UsdGeom.XformCache()
        parts = [_read_mesh(UsdGeom.Mesh(prim), cache, p) for prim in stage.Traverse() if prim.IsA(UsdGeom.Mesh)]
    except (Tf.ErrorException, UnicodeError, ValueError) as exc:  # damaged bytes: USD's errors, text not UTF-8
        raise FormatError(f"{p} is not a readable USD file: {_why(exc)}") from exc
    parts = [m for m in parts if len(m.faces)]
    if not parts:
        raise FormatError(f"{p} contains no triangles (no UsdGeom.Mesh with faces)")
    mesh = parts[0] if len(parts) == 1 else trimesh.util.concatenate(parts)
    if UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z:
        turn = np.eye(4)
        turn[:3, :3] = Y_TO_Z.T
        mesh.apply_transform(turn)
    check_mesh(mesh, str(p))
    mesh.metadata.update(up_axis="Y", meters_per_unit=float(UsdGeom.GetStageMetersPerUnit(stage)))
    return mesh


def _why(exc: BaseException) -> str:
    """A USD error's own words (a ``Tf.Error``'s commentary, without the C++ function and line), in one clause; its
    type when the text cannot be decoded (a damaged file's bytes may be quoted in it)."""
    for err in getattr(exc, "args", ()):
        try:
            text = str(getattr(err, "commentary", "") or err)
        except UnicodeError:
            continue
        if text.strip():
            return reason(ValueError(text))
    return type(exc).__name__


def _fan(counts: np.ndarray) -> np.ndarray:
    """Face-vertex counts ``(P,)`` -> corner indices ``(T, 3)`` of the polygons fanned into triangles (polygons
    with fewer than 3 corners dropped)."""
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    tris = np.maximum(counts - 2, 0)
    first = np.repeat(starts, tris)
    step = np.arange(tris.sum()) - np.repeat(np.cumsum(tris) - tris, tris) + 1
    return np.stack([first, first + step, first + step + 1], axis=1)


def _read_mesh(geom: Any, cache: Any, p: Path) -> trimesh.Trimesh:
    import trimesh
    from pxr import UsdGeom

    points = np.asarray(geom.GetPointsAttr().Get() or [], np.float64).reshape(-1, 3)
    counts = np.asarray(geom.GetFaceVertexCountsAttr().Get() or [], np.int64)
    indices = np.asarray(geom.GetFaceVertexIndicesAttr().Get() or [], np.int64)
    limits.MESH_VERTICES.check(len(points), str(p), FormatError)
    limits.MESH_FACES.check(int(np.maximum(counts - 2, 0).sum()), str(p), FormatError)
    if counts.sum() != len(indices) or (len(indices) and not 0 <= indices.min() <= indices.max() < len(points)):
        raise FormatError(f"{p}: mesh {geom.GetPath()} has face indices that do not match its points")
    corners = _fan(counts)
    primvars = UsdGeom.PrimvarsAPI(geom)
    uv = _primvar(primvars, "st", 2, len(points), len(indices))
    rgb = _primvar(primvars, "displayColor", 3, len(points), len(indices))
    per_corner = any(a is not None and len(a) == len(indices) != len(points) for a in (uv, rgb))
    if per_corner:  # faceVarying values: one vertex per face corner (UV seams kept), merged again below
        mesh = trimesh.Trimesh(points[indices], corners, process=False)
        uv, rgb = (None if a is None else a[indices] if len(a) == len(points) else a for a in (uv, rgb))
    else:
        mesh = trimesh.Trimesh(points, indices[corners], process=False)
    world = np.asarray(cache.GetLocalToWorldTransform(geom.GetPrim()), np.float64).T  # USD: row vectors
    if not np.allclose(world, np.eye(4)):
        mesh.apply_transform(world)
    image, rough, metal = _material(geom)
    if uv is not None and (image is not None or rgb is None):  # the texture first, then colours, then bare UVs
        from trimesh.visual.material import PBRMaterial

        material = None if image is None else PBRMaterial(
            baseColorTexture=image, baseColorFactor=[255, 255, 255, 255], roughnessFactor=rough, metallicFactor=metal)
        mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    elif rgb is not None:
        mesh.visual.vertex_colors = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    if per_corner:
        mesh.merge_vertices()  # corners with the same position (and UV) become one vertex again
    return mesh


def _primvar(primvars: Any, name: str, width: int, n_points: int, n_corners: int) -> np.ndarray | None:
    """A primvar's values ``(N, width)`` per point (vertex/varying) or per face corner (faceVarying); None when
    missing or of another interpolation (constant, uniform) or length."""
    from pxr import UsdGeom

    pv = primvars.GetPrimvar(name)
    if not pv or not pv.HasValue():
        return None
    values = np.asarray(pv.ComputeFlattened() or [], np.float64)
    if values.size == 0 or values.size % width:
        return None
    values = values.reshape(-1, width)
    interpolation = pv.GetInterpolation()
    if interpolation in (UsdGeom.Tokens.vertex, UsdGeom.Tokens.varying) and len(values) == n_points:
        return values
    if interpolation == UsdGeom.Tokens.faceVarying and len(values) == n_corners:
        return values
    return None


def _material(geom: Any) -> tuple[Image.Image | None, float, float]:
    """-> (the diffuse texture image or None, roughness, metallic) of the ``UsdPreviewSurface`` bound to ``geom``."""
    from PIL import Image
    from pxr import Ar, UsdShade

    material, _ = UsdShade.MaterialBindingAPI(geom.GetPrim()).ComputeBoundMaterial()
    surface = material.ComputeSurfaceSource()[0] if material else None
    if not surface:
        return None, DEFAULT_ROUGHNESS, DEFAULT_METALLIC

    def value(name: str, default: float) -> float:
        inp = surface.GetInput(name)
        got = inp.Get() if inp and not inp.HasConnectedSource() else None
        return float(got) if got is not None else default

    rough, metal = value("roughness", DEFAULT_ROUGHNESS), value("metallic", DEFAULT_METALLIC)
    diffuse = surface.GetInput("diffuseColor")
    sources = diffuse.GetConnectedSources()[0] if diffuse else []
    for source in sources:
        shader = UsdShade.Shader(source.source.GetPrim())
        asset = shader.GetInput("file").Get() if shader.GetShaderId() == "UsdUVTexture" else None
        if asset is None or not asset.resolvedPath:
            continue
        data = Ar.GetResolver().OpenAsset(Ar.ResolvedPath(asset.resolvedPath))
        if data is None:
            continue
        try:
            image = Image.open(io.BytesIO(bytes(data.GetBuffer())))
            image.load()
        except (OSError, ValueError):  # a texture PIL cannot read: the mesh keeps its UVs without an image
            continue
        return image, rough, metal
    return None, rough, metal
