"""USD(Z) and PBR GLB for AR viewers and engines (issue 19): lift3d.io.usd through the format table, checked by
opening the files with Pixar's own pxr.Usd (stage metadata, mesh counts, the material's texture inside the
package, USD's validators), and the baked-texture GLB opened by trimesh and by Open3D."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from conftest import run_cli as run
from lift3d.errors import FormatError, InputError
from lift3d.io import read_any, write_any

Usd = pytest.importorskip("pxr.Usd", reason="usd-core (a lift3d dependency) is not installed")
from pxr import Ar, Sdf, UsdGeom, UsdShade  # noqa: E402


@pytest.fixture(scope="module")
def baked() -> trimesh.Trimesh:
    """lift3d's textured mesh: a subdivided box through :func:`bake_texture` from one 64 px photo (a colour
    gradient), so a PBRMaterial with a white base colour factor, metallic 0, roughness 0.8."""
    from lift3d.geometry.cameras import orbit_camera
    from lift3d.postprocess import bake_texture

    box = trimesh.creation.box(extents=(0.6, 0.4, 0.8)).subdivide()
    yy, xx = np.mgrid[:64, :64]
    photo = np.stack([xx * 4, yy * 4, np.full_like(xx, 128)], axis=-1).astype(np.uint8)
    return bake_texture(box, [photo], [orbit_camera(30, 20, 2.2, 64, 64)], texture_size=64)


def surface_of(stage) -> tuple:
    """-> (the mesh prim, the UsdPreviewSurface shader bound to it)."""
    mesh = UsdGeom.Mesh(stage.GetPrimAtPath("/Root/Mesh"))
    material, _ = UsdShade.MaterialBindingAPI(mesh.GetPrim()).ComputeBoundMaterial()
    return mesh, material.ComputeSurfaceSource()[0]


def validation_errors(stage) -> list[str]:
    """Every validator usd-core registers (stage metadata, shader Sdr types, USDZ package layout and
    encapsulation, material bindings...). usd-core 26 has no UsdUtils.ComplianceChecker: UsdValidation replaced it."""
    from pxr import UsdValidation

    ctx = UsdValidation.ValidationContext(UsdValidation.ValidationRegistry().GetOrLoadAllValidators())
    return [f"{e.GetValidator().GetMetadata().name}: {e.GetMessage()}" for e in ctx.Validate(stage)
            if e.GetType() == UsdValidation.ValidationErrorType.Error]


# --- USDZ ----------------------------------------------------------------------------------------------------------

def test_usdz_holds_the_mesh_and_its_texture(tmp_path, baked):
    path = write_any(baked, tmp_path / "model.usdz")
    assert [p.name for p in tmp_path.iterdir()] == ["model.usdz"]  # no temporary or side file left
    stage = Usd.Stage.Open(str(path))
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y and UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert stage.GetDefaultPrim().GetPath() == Sdf.Path("/Root")
    mesh, surface = surface_of(stage)
    assert len(mesh.GetPointsAttr().Get()) == len(baked.vertices)
    counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get())
    assert len(counts) == len(baked.faces) and (counts == 3).all()
    st = UsdGeom.PrimvarsAPI(mesh).GetPrimvar("st")
    assert st.GetInterpolation() == UsdGeom.Tokens.vertex and np.allclose(st.Get(), baked.visual.uv, atol=1e-6)
    assert np.allclose(mesh.GetExtentAttr().Get(), baked.bounds, atol=1e-6)

    assert surface.GetShaderId() == "UsdPreviewSurface"
    assert surface.GetInput("roughness").Get() == pytest.approx(0.8) and surface.GetInput("metallic").Get() == 0.0
    (source,) = surface.GetInput("diffuseColor").GetConnectedSources()[0]
    texture = UsdShade.Shader(source.source.GetPrim())
    assert texture.GetShaderId() == "UsdUVTexture" and source.sourceName == "rgb"
    asset = texture.GetInput("file").Get()
    assert asset.resolvedPath == f"{path}[texture.png]"  # resolves inside the package
    png = Ar.GetResolver().OpenAsset(Ar.ResolvedPath(asset.resolvedPath)).GetBuffer()
    texture_image = np.asarray(baked.visual.material.baseColorTexture)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(bytes(png)))), texture_image)
    (st_source,) = texture.GetInput("st").GetConnectedSources()[0]
    assert UsdShade.Shader(st_source.source.GetPrim()).GetShaderId() == "UsdPrimvarReader_float2"
    assert validation_errors(stage) == []


def test_base_colour_factor_scales_the_texture(tmp_path, baked):
    tinted = baked.copy()
    tinted.visual.material.baseColorFactor = [255, 128, 0, 255]
    stage = Usd.Stage.Open(str(write_any(tinted, tmp_path / "t.usdz")))
    (source,) = surface_of(stage)[1].GetInput("diffuseColor").GetConnectedSources()[0]
    scale = UsdShade.Shader(source.source.GetPrim()).GetInput("scale").Get()
    assert tuple(scale) == pytest.approx((1.0, 128 / 255, 0.0, 1.0))
    assert not UsdShade.Shader(Usd.Stage.Open(str(write_any(baked, tmp_path / "w.usdz"))).GetPrimAtPath(
        "/Root/Materials/Material/DiffuseTexture")).GetInput("scale")  # white: no scale authored


def test_usdz_package_layout(tmp_path, baked):
    """What AR Quick Look needs (the rules of the old ComplianceChecker(arkit=True)): the binary layer first and
    alone (no sublayers or references), PNG/JPEG textures, members stored uncompressed at 64-byte offsets, only
    plain geometry prim types and only the UsdPreviewSurface family of shaders."""
    path = write_any(baked, tmp_path / "m.usdz")
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        assert [i.filename for i in infos] == ["model.usdc", "texture.png"]
        assert z.read("model.usdc")[:8] == b"PXR-USDC"
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED
            assert (info.header_offset + 30 + len(info.filename) + len(info.extra)) % 64 == 0
    stage = Usd.Stage.Open(str(path))
    assert len(stage.GetUsedLayers()) == 2 and not stage.GetRootLayer().subLayerPaths  # root + session layer
    prims = list(stage.Traverse())
    assert {p.GetTypeName() for p in prims} == {"Xform", "Mesh", "Scope", "Material", "Shader"}
    assert {UsdShade.Shader(p).GetShaderId() for p in prims if p.GetTypeName() == "Shader"} == {
        "UsdPreviewSurface", "UsdUVTexture", "UsdPrimvarReader_float2"}
    assert not any(p.HasAuthoredReferences() or p.HasAuthoredPayloads() for p in prims)


def test_up_axis_and_units(tmp_path, baked):
    path = tmp_path / "z.usdz"
    from lift3d.io.usd import save_usd

    save_usd(baked, path, up="z", meters_per_unit=0.01)
    stage = Usd.Stage.Open(str(path))
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert UsdGeom.GetStageMetersPerUnit(stage) == pytest.approx(0.01)
    points = np.asarray(surface_of(stage)[0].GetPointsAttr().Get())
    assert np.allclose(points.max(0) - points.min(0), [0.6, 0.8, 0.4], atol=1e-6)  # height 0.4 (y) is now z
    assert validation_errors(stage) == []
    back = read_any(path)[1]  # turned back to +Y up, units kept as written
    assert np.allclose(back.bounds, baked.bounds, atol=1e-6) and back.metadata["meters_per_unit"] == 0.01


def test_placed_mesh_is_not_turned_twice(tmp_path, box_mesh):
    """A mesh placed with --up z (lift3d.reconstruct.placement) is +Z up already and says so in its metadata."""
    from lift3d.reconstruct.placement import Placement, place

    placed = place(box_mesh, Placement(up="z"))
    stage = Usd.Stage.Open(str(write_any(placed, tmp_path / "p.usda")))
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert np.allclose(np.asarray(surface_of(stage)[0].GetPointsAttr().Get()), placed.vertices, atol=1e-6)


def test_colours_and_plain_material(tmp_path, box_mesh):
    coloured = box_mesh.copy()
    coloured.visual.vertex_colors = np.c_[np.round((box_mesh.vertices + 0.5) * 255), np.full(8, 255)]
    stage = Usd.Stage.Open(str(write_any(coloured, tmp_path / "c.usdz")))
    mesh, surface = surface_of(stage)
    display = UsdGeom.PrimvarsAPI(mesh).GetPrimvar("displayColor")
    assert display.GetInterpolation() == UsdGeom.Tokens.vertex
    assert np.allclose(np.asarray(display.Get()) * 255, coloured.visual.vertex_colors[:, :3], atol=0.01)
    (source,) = surface.GetInput("diffuseColor").GetConnectedSources()[0]
    assert UsdShade.Shader(source.source.GetPrim()).GetShaderId() == "UsdPrimvarReader_float3"
    assert validation_errors(stage) == []
    assert np.array_equal(read_any(tmp_path / "c.usdz")[1].visual.vertex_colors, coloured.visual.vertex_colors)

    stage = Usd.Stage.Open(str(write_any(box_mesh, tmp_path / "plain.usdc")))
    surface = surface_of(stage)[1]
    assert not surface.GetInput("diffuseColor").HasConnectedSource()
    assert tuple(surface.GetInput("diffuseColor").Get()) == pytest.approx((0.7, 0.7, 0.7))


def test_usda_texture_is_a_side_file_and_round_trips(tmp_path, baked):
    path = write_any(baked, tmp_path / "m.usda")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.usda", "m_texture.png"]
    assert "@./m_texture.png@" in path.read_text()
    for p in (path, write_any(baked, tmp_path / "m.usdz")):
        kind, back = read_any(p)
        assert kind == "mesh" and len(back.faces) == len(baked.faces)
        assert np.allclose(back.vertices, baked.vertices, atol=1e-6)
        assert np.allclose(back.visual.uv, baked.visual.uv, atol=1e-6)
        material = back.visual.material
        assert np.array_equal(np.asarray(material.baseColorTexture), np.asarray(baked.visual.material.baseColorTexture))
        assert (material.roughnessFactor, material.metallicFactor) == pytest.approx((0.8, 0.0))


def test_streams(tmp_path, baked):
    buf = io.BytesIO()
    write_any(baked, buf, fmt="usdz")
    assert buf.getvalue() == write_any(baked, tmp_path / "s.usdz").read_bytes()  # same mesh, same bytes
    refused = io.BytesIO()
    with pytest.raises(InputError, match="side file"):
        write_any(baked, refused, fmt="usda")
    assert refused.getvalue() == b""


def test_bad_options_and_files(tmp_path, box_mesh, monkeypatch):
    from lift3d.io.usd import save_usd

    with pytest.raises(InputError, match="up axis"):
        save_usd(box_mesh, tmp_path / "a.usdz", up="x")
    with pytest.raises(InputError, match="metersPerUnit"):
        save_usd(box_mesh, tmp_path / "a.usdz", meters_per_unit=0)
    (tmp_path / "bad.usdz").write_bytes(b"PK\x03\x04 not a package")
    (tmp_path / "empty.usda").write_text('#usda 1.0\n(\n    defaultPrim = "Root"\n)\ndef Xform "Root" {}\n')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.usdz", "empty.usda"]
    with pytest.raises(FormatError, match="bad.usdz is not a readable USD file"):
        read_any(tmp_path / "bad.usdz")
    with pytest.raises(FormatError, match="no triangles"):
        read_any(tmp_path / "empty.usda")
    write_any(box_mesh, tmp_path / "box.usdc")
    monkeypatch.setenv("LIFT3D_MAX_MESH_VERTICES", "4")
    with pytest.raises(FormatError, match="box.usdc has 8 vertices, over the limit of 4"):
        read_any(tmp_path / "box.usdc")


def test_cli_convert_info_and_reconstruct(tmp_path, capsys, baked, tiny_checkpoint):
    baked.export(tmp_path / "a.glb")
    code, _, err = run(capsys, "convert", tmp_path / "a.glb", tmp_path / "b.usdz")
    assert code == 0, err
    code, out, err = run(capsys, "info", tmp_path / "b.usdz")
    assert code == 0 and f"faces: {len(baked.faces)}" in out and "colors: texture" in out, err
    code, _, err = run(capsys, "info", tmp_path / "nope.usdz")
    assert code == 2 and "file not found" in err

    photo = tmp_path / "photo.png"
    img = np.full((64, 64, 3), 200, np.uint8)
    img[16:48, 16:48] = (180, 30, 30)
    Image.fromarray(img).save(photo)
    out = tmp_path / "model.usdz"
    code, _, err = run(capsys, "reconstruct", photo, "-o", out, "--checkpoint", tiny_checkpoint, "--texture-size",
                       64)
    assert code == 0, err
    with zipfile.ZipFile(out) as z:
        assert z.namelist() == ["model.usdc", "texture.png"]  # textured by default, like .glb
    assert validation_errors(Usd.Stage.Open(str(out))) == []


# --- GLB with a PBR material -------------------------------------------------------------------------------------

def test_glb_pbr_opens_in_trimesh_and_open3d(tmp_path, baked):
    o3d = pytest.importorskip("open3d")
    path: Path = write_any(baked, tmp_path / "model.glb")
    loaded = trimesh.load(path, force="mesh")
    material = loaded.visual.material
    assert isinstance(material, trimesh.visual.material.PBRMaterial)
    assert material.baseColorTexture.size == (64, 64)
    assert (material.metallicFactor, material.roughnessFactor) == pytest.approx((0.0, 0.8))
    assert np.array_equal(np.asarray(material.baseColorFactor), [255, 255, 255, 255])

    model = o3d.io.read_triangle_model(str(path))
    assert len(model.meshes) == 1 and len(model.materials) == 1
    mat = model.materials[model.meshes[0].material_idx]
    assert mat.shader == "defaultLit" and mat.albedo_img is not None
    albedo = np.asarray(mat.albedo_img)
    assert np.array_equal(albedo, np.asarray(material.baseColorTexture.convert("RGB")))
    assert (mat.base_metallic, mat.base_roughness) == pytest.approx((0.0, 0.8))
    assert np.allclose(mat.base_color, 1.0)
    assert len(model.meshes[0].mesh.triangles) == len(baked.faces)


def test_reads_other_tools_usd(tmp_path):
    """USD as other tools write it: Z up, a scaled parent Xform, a quad and a triangle, faceVarying UVs."""
    (tmp_path / "other.usda").write_text('''#usda 1.0
(
    upAxis = "Z"
    metersPerUnit = 0.01
)
def Xform "World" { double3 xformOp:scale = (2, 2, 2)
    uniform token[] xformOpOrder = ["xformOp:scale"]
    def Mesh "Quad" {
        point3f[] points = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1)]
        int[] faceVertexCounts = [4, 3]
        int[] faceVertexIndices = [0, 1, 2, 3, 0, 1, 4]
        texCoord2f[] primvars:st = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0), (1, 0), (0.5, 1)] (
            interpolation = "faceVarying"
        )
    }
}
''')
    kind, mesh = read_any(tmp_path / "other.usda")
    assert kind == "mesh" and len(mesh.faces) == 3  # the quad fanned into two triangles
    assert np.allclose(mesh.bounds, [[0, 0, -2], [2, 2, 0]])  # scaled by 2, then Z up -> Y up
    assert mesh.metadata["meters_per_unit"] == 0.01
    assert mesh.visual.uv.shape == (len(mesh.vertices), 2)  # no texture: the UVs are kept all the same
    assert len(mesh.vertices) == 5  # the corners shared by the quad and the triangle have the same UVs: merged
