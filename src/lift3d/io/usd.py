"""USD files through Pixar's ``usd-core`` (``pxr``): ``.usdz`` (AR Quick Look), ``.usda`` (text), ``.usdc`` (binary).

A mesh is written as a stage whose default prim ``/Root`` (an Xform) holds ``/Root/Mesh`` (a ``UsdGeom.Mesh``:
points, triangles, extent, vertex normals when the mesh has them, ``primvars:st`` per vertex) and
``/Root/Materials/Material``: a ``UsdPreviewSurface`` whose ``diffuseColor`` comes from a ``UsdUVTexture`` (the
texture, read through a ``UsdPrimvarReader_float2`` of ``st``), from the vertex or face colours
(``primvars:displayColor`` through a ``UsdPrimvarReader_float3``) or is a plain grey; roughness and metallic from the
mesh's PBR material, else 0.8 and 0.0. The stage states its up axis (``Y`` by default, lift3d's and glTF's frame;
``Z`` turns the geometry +Y -> +Z) and ``metersPerUnit`` (1.0 by default); a mesh placed by
:mod:`lift3d.reconstruct.placement` carries both in its metadata, and they are used as they are.

``.usdz`` packs the layer (binary) and the texture PNG into one file; ``.usda`` / ``.usdc`` refer to the texture as
a side file ``<stem>_texture.png`` written beside them, all or nothing. A ``.usdz`` or an untextured ``.usda`` /
``.usdc`` can go to a binary stream (built in a temporary folder, then copied); a textured ``.usda`` / ``.usdc``
cannot (it needs its side file). ``pxr`` is imported only when a USD file is read or written.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lift3d.errors import InputError
from lift3d.io.atomic import Target, all_or_nothing, atomic_output, is_stream
from lift3d.io.formats import FORMATS, FileFormat, target_ext

if TYPE_CHECKING:
    import trimesh
    from PIL import Image

USD_FORMATS = (".usdz", ".usda", ".usdc")
UP_AXES = ("y", "z")
DEFAULT_ROUGHNESS, DEFAULT_METALLIC = 0.8, 0.0
PLAIN_GREY = (0.7, 0.7, 0.7)
PACKAGE_TIME = 946684800  # 2000-01-01 UTC: the time of every member of a .usdz, so the same mesh gives the same bytes
# +Y up -> +Z up: a quarter turn about +X ((x, y, z) -> (x, -z, y)); the front (+Z in glTF) then faces -Y.
Y_TO_Z = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def import_usd() -> Any:
    """``pxr.Usd``, imported on first use (``import lift3d`` stays light); a missing usd-core is one line."""
    try:
        import pxr  # noqa: F401
    except ImportError as exc:  # a dependency of lift3d: only a broken environment lacks it
        raise InputError(f"USD files need Pixar's usd-core (pip install usd-core): {exc}") from exc
    from pxr import Usd

    return Usd


def _texture(mesh: trimesh.Trimesh) -> tuple[Image.Image | None, Any]:
    """-> (the base-colour image or None, the PBR material or None) of a mesh with UVs."""
    import trimesh

    visual = mesh.visual
    if not isinstance(visual, trimesh.visual.TextureVisuals) or visual.uv is None or visual.material is None:
        return None, None
    material = visual.material
    pbr = material if isinstance(material, trimesh.visual.material.PBRMaterial) else None
    image = pbr.baseColorTexture if pbr is not None else getattr(material, "image", None)
    return image, pbr


def _colours(mesh: trimesh.Trimesh) -> tuple[np.ndarray, str] | None:
    """-> (RGB in [0, 1] ``(N, 3)``, USD interpolation) for vertex or face colours, else None."""
    kind = mesh.visual.kind  # "texture" for TextureVisuals, None for a mesh without colours
    if kind == "vertex":
        return np.asarray(mesh.visual.vertex_colors, np.float32)[:, :3] / 255.0, "vertex"
    if kind == "face":
        return np.asarray(mesh.visual.face_colors, np.float32)[:, :3] / 255.0, "uniform"
    return None


def build_stage(mesh: trimesh.Trimesh, texture_file: str | None, up: str = "y",
                meters_per_unit: float = 1.0) -> Any:
    """An in-memory ``Usd.Stage`` holding ``mesh`` (vertices ``(V, 3)``, faces ``(F, 3)``) and its material.

    ``texture_file`` is the asset path the ``UsdUVTexture`` reads (relative to the layer), used when the mesh has a
    texture; ``up`` (``"y"`` | ``"z"``) and ``meters_per_unit`` as in :func:`save_usd`.
    """
    Usd = import_usd()
    from pxr import UsdGeom, Vt

    stage = Usd.Stage.CreateInMemory("model.usda")
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z if up == "z" else UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, meters_per_unit)
    root = UsdGeom.Xform.Define(stage, "/Root")
    stage.SetDefaultPrim(root.GetPrim())
    Usd.ModelAPI(root).SetKind("component")
    stage.SetMetadata("comment", "written by lift3d")

    have = _up_of(mesh)
    turn = np.eye(3) if have == up else Y_TO_Z if up == "z" else Y_TO_Z.T
    points = Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(np.asarray(mesh.vertices) @ turn.T, np.float32))
    geom = UsdGeom.Mesh.Define(stage, "/Root/Mesh")
    geom.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)  # a polygon mesh, not a subdivision cage
    geom.CreatePointsAttr(points)
    geom.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(mesh.faces), 3, np.int32)))
    geom.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(np.asarray(mesh.faces, np.int32).ravel()))
    geom.CreateExtentAttr(UsdGeom.PointBased.ComputeExtent(points))
    geom.CreateDoubleSidedAttr(False)
    if "vertex_normals" in mesh._cache.cache:  # as trimesh's glTF exporter: normals the mesh has, none made up
        normals = np.asarray(mesh.vertex_normals) @ turn.T
        geom.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(normals, np.float32)))
        geom.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
    _add_material(stage, geom, mesh, texture_file)
    return stage


def _add_material(stage: Any, geom: Any, mesh: trimesh.Trimesh, texture_file: str | None) -> None:
    """``/Root/Materials/Material`` (a ``UsdPreviewSurface`` fed by the texture, the colours or a grey), bound to
    ``geom``; the ``st`` or ``displayColor`` primvar it reads is added to ``geom``."""
    from pxr import Gf, Sdf, UsdGeom, UsdShade, Vt

    UsdGeom.Scope.Define(stage, "/Root/Materials")
    shader_path = Sdf.Path("/Root/Materials/Material")
    material = UsdShade.Material.Define(stage, shader_path)
    surface = UsdShade.Shader.Define(stage, shader_path.AppendChild("PreviewSurface"))
    surface.CreateIdAttr("UsdPreviewSurface")
    material.CreateSurfaceOutput().ConnectToSource(surface.ConnectableAPI(), "surface")
    diffuse = surface.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f)
    image, pbr = _texture(mesh)
    colours = _colours(mesh)

    def reader(name: str, kind: str, varname: str) -> Any:
        node = UsdShade.Shader.Define(stage, shader_path.AppendChild(name))
        node.CreateIdAttr(f"UsdPrimvarReader_{kind}")
        node.CreateInput("varname", Sdf.ValueTypeNames.String).Set(varname)
        return node

    if image is not None and texture_file is not None:
        st = UsdGeom.PrimvarsAPI(geom).CreatePrimvar("st", Sdf.ValueTypeNames.TexCoord2fArray,
                                                     UsdGeom.Tokens.vertex)
        st.Set(Vt.Vec2fArray.FromNumpy(np.ascontiguousarray(mesh.visual.uv, np.float32)))
        st_reader = reader("StReader", "float2", "st")
        st_reader.CreateOutput("result", Sdf.ValueTypeNames.Float2)
        tex = UsdShade.Shader.Define(stage, shader_path.AppendChild("DiffuseTexture"))
        tex.CreateIdAttr("UsdUVTexture")
        tex.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(texture_file)
        tex.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set("sRGB")
        tex.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(st_reader.ConnectableAPI(), "result")
        for wrap in ("wrapS", "wrapT"):
            tex.CreateInput(wrap, Sdf.ValueTypeNames.Token).Set("repeat")
        # trimesh keeps a PBR factor as RGBA uint8; a SimpleMaterial's diffuse tint (0.4 grey by default) is not
        # a factor a viewer should apply to a photo texture, so it is left out.
        factor = np.asarray([255] * 4 if pbr is None or pbr.baseColorFactor is None else pbr.baseColorFactor) / 255
        if not np.allclose(factor, 1.0):
            tex.CreateInput("scale", Sdf.ValueTypeNames.Float4).Set(Gf.Vec4f(*map(float, factor[:4])))
        tex.CreateOutput("rgb", Sdf.ValueTypeNames.Float3)
        diffuse.ConnectToSource(tex.ConnectableAPI(), "rgb")
    elif colours is not None:
        rgb, interpolation = colours
        display = UsdGeom.PrimvarsAPI(geom).CreatePrimvar("displayColor", Sdf.ValueTypeNames.Color3fArray,
                                                          interpolation)
        display.Set(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(rgb)))
        colour_reader = reader("ColorReader", "float3", "displayColor")
        colour_reader.CreateInput("fallback", Sdf.ValueTypeNames.Float3).Set(Gf.Vec3f(*PLAIN_GREY))
        colour_reader.CreateOutput("result", Sdf.ValueTypeNames.Float3)
        diffuse.ConnectToSource(colour_reader.ConnectableAPI(), "result")
    else:
        diffuse.Set(Gf.Vec3f(*PLAIN_GREY))
    rough = DEFAULT_ROUGHNESS if pbr is None or pbr.roughnessFactor is None else float(pbr.roughnessFactor)
    metal = DEFAULT_METALLIC if pbr is None or pbr.metallicFactor is None else float(pbr.metallicFactor)
    surface.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(rough)
    surface.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(metal)
    UsdShade.MaterialBindingAPI.Apply(geom.GetPrim()).Bind(material)


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGBA" if "A" in image.getbands() else "RGB").save(buf, format="PNG")
    return buf.getvalue()


def _export(mesh: trimesh.Trimesh, texture_file: str | None, up: str, meters_per_unit: float,
            path: str | os.PathLike) -> None:
    stage = build_stage(mesh, texture_file, up, meters_per_unit)  # held: its root layer lives as long as it does
    if not stage.GetRootLayer().Export(str(path)):
        raise InputError(f"usd-core could not write {path}")


def _up_of(mesh: trimesh.Trimesh) -> str:
    """The up axis the mesh's coordinates are in: ``mesh.metadata["up_axis"]`` (set by
    :func:`lift3d.reconstruct.placement.place` and by :func:`load_usd`), else lift3d's ``"y"``."""
    up = str(mesh.metadata.get("up_axis", "y")).lower()
    return up if up in UP_AXES else "y"


def _options(mesh: trimesh.Trimesh, up: str | None, meters_per_unit: float | None) -> tuple[str, float]:
    up = _up_of(mesh) if up is None else str(up).lower()
    if up not in UP_AXES:
        raise InputError(f"USD up axis must be 'y' or 'z', got {up!r}")
    mpu = mesh.metadata.get("meters_per_unit", 1.0) if meters_per_unit is None else meters_per_unit
    try:
        mpu = float(mpu)
    except (TypeError, ValueError):
        mpu = float("nan")
    if not (np.isfinite(mpu) and mpu > 0):
        raise InputError(f"USD metersPerUnit must be a positive number, got {mpu!r}")
    return up, mpu


def save_usd(mesh: trimesh.Trimesh, target: Target, fmt: str | None = None, up: str | None = None,
             meters_per_unit: float | None = None) -> Path | None:
    """Write ``mesh`` (vertices ``(V, 3)``, faces ``(F, 3)``, optional texture or colours) as ``.usdz``,
    ``.usda`` or ``.usdc`` (by ``fmt`` or the path's extension).

    Args:
        mesh: the mesh; a ``TextureVisuals`` image becomes the material's diffuse texture (PNG), vertex or face
            colours ``primvars:displayColor``; roughness / metallic come from a ``PBRMaterial`` (else 0.8 / 0.0).
        target: a path (written atomically; a ``.usda``/``.usdc`` texture goes beside it as ``<stem>_texture.png``,
            all or nothing) or a binary file object (``fmt`` required; not a textured ``.usda``/``.usdc``).
        up: the stage's ``upAxis``: ``"y"`` (lift3d's and glTF's frame) or ``"z"``. The geometry is in
            ``mesh.metadata["up_axis"]`` (placement sets it) or else +Y up, and is turned when that differs from
            ``up`` (+Y -> +Z turns the front, +Z, to -Y). None: the mesh's own up axis, so nothing is turned.
        meters_per_unit: the stage's ``metersPerUnit``: how many metres one unit of the coordinates is (coordinates
            are written as they are). None: ``mesh.metadata["meters_per_unit"]``, else 1.0.

    Returns the path, or None for a stream.
    """
    ext = target_ext(target, fmt)
    if ext not in USD_FORMATS:
        raise InputError(f"not a USD format: {ext!r}; use one of {', '.join(USD_FORMATS)}")
    up, meters_per_unit = _options(mesh, up, meters_per_unit)
    if len(mesh.faces) == 0:
        raise InputError("refusing to write an empty mesh")
    image, _ = _texture(mesh)
    if ext == ".usdz":
        _save_usdz(mesh, image, target, up, meters_per_unit)
    elif image is not None and is_stream(target):
        raise InputError(f"a textured {ext} needs a side file (the texture PNG): write it to a path, or stream .usdz")
    elif image is None:
        with atomic_output(target, ext) as tmp:
            _export(mesh, None, up, meters_per_unit, tmp)
    else:
        path = Path(target)  # type: ignore[arg-type]
        side = f"{path.stem}_texture.png"
        with all_or_nothing() as stage_file:
            tmp = stage_file(path)
            (tmp.parent / side).write_bytes(_png(image))
            _export(mesh, f"./{side}", up, meters_per_unit, tmp)
    return None if is_stream(target) else Path(target)  # type: ignore[arg-type]


def _save_usdz(mesh: trimesh.Trimesh, image: Image.Image | None, target: Target, up: str,
               meters_per_unit: float) -> None:
    """The layer (binary, first) and the texture PNG, written to a private temporary folder and stored in the
    package by ``Sdf.ZipFileWriter`` (uncompressed, 64-byte aligned, as USDZ requires). ``UsdUtils``'s
    ``CreateNew[ARKit]UsdzPackage`` would rewrite the layer and stamp it with the current time; here every member
    gets :data:`PACKAGE_TIME`, so the same mesh always gives the same bytes."""
    import_usd()
    from pxr import Sdf

    with tempfile.TemporaryDirectory(prefix="lift3d-usdz.") as folder:
        members = ["model.usdc"] + (["texture.png"] if image is not None else [])
        if image is not None:
            Path(folder, "texture.png").write_bytes(_png(image))
        _export(mesh, "texture.png" if image is not None else None, up, meters_per_unit, Path(folder, members[0]))
        with atomic_output(target, ".usdz") as tmp:
            writer = Sdf.ZipFileWriter.CreateNew(str(tmp))
            for name in members:
                os.utime(os.path.join(folder, name), (PACKAGE_TIME, PACKAGE_TIME))
                if not writer.AddFile(os.path.join(folder, name), name):
                    writer.Discard()
                    raise InputError(f"usd-core could not add {name} to {'<stream>' if is_stream(target) else target}")
            writer.Save()


def load_usd(path: str | os.PathLike) -> trimesh.Trimesh:
    """Read the meshes of a ``.usdz`` / ``.usda`` / ``.usdc`` stage -> one ``trimesh.Trimesh`` (``(V, 3)``,
    triangles ``(F, 3)``), each ``UsdGeom.Mesh`` in world space, polygons fanned into triangles.

    A Z-up stage is turned to lift3d's +Y up (the inverse of ``save_usd(up="z")``); coordinates keep the stage's
    units (``metersPerUnit`` is not applied, but kept in ``mesh.metadata["meters_per_unit"]``; ``up_axis`` is
    ``"Y"``). ``primvars:st`` become UVs and a ``UsdUVTexture`` feeding the bound
    ``UsdPreviewSurface``'s diffuseColor becomes the texture of a ``PBRMaterial`` (with its roughness and
    metallic); else a vertex ``displayColor`` becomes vertex colours. Raises :class:`FormatError` naming the file
    for bytes USD cannot open, a stage without a mesh, counts over the limits or absurd coordinates.
    """
    from lift3d.io.usd_read import read_usd

    return read_usd(path)


FORMATS.names()  # the built-in formats first (this module imported on its own included): a stable table order
for _ext, _desc in ((".usdz", "USDZ package (AR Quick Look): USD mesh + texture"),
                    (".usda", "USD text layer (+ texture PNG beside it)"),
                    (".usdc", "USD binary layer (+ texture PNG beside it)")):
    FORMATS.register(_ext, FileFormat(_desc, readers={"mesh": load_usd}, writers={"mesh": save_usd}))
