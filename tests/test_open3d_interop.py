"""lift3d.interop: trimesh / points / VoxelGrid <-> open3d.geometry and open3d.t.geometry, with numbers."""

import numpy as np
import open3d as o3d
import pytest
import trimesh
from PIL import Image

from lift3d.errors import InputError
from lift3d.interop import from_open3d, to_open3d
from lift3d.io import read_any
from lift3d.io.voxels import VoxelGrid


@pytest.fixture
def coloured(sphere) -> trimesh.Trimesh:
    rng = np.random.default_rng(0)
    sphere.visual.vertex_colors = np.concatenate(
        [rng.integers(0, 256, (len(sphere.vertices), 3)), np.full((len(sphere.vertices), 1), 255)], axis=1)
    return sphere


@pytest.fixture
def textured() -> trimesh.Trimesh:
    """A box with one vertex per face corner, random UVs and a random 16 x 32 texture (float32-exact numbers)."""
    rng = np.random.default_rng(1)
    box = trimesh.creation.box()
    mesh = trimesh.Trimesh(box.vertices[box.faces].reshape(-1, 3), np.arange(36).reshape(-1, 3), process=False)
    uv = rng.integers(0, 1024, (36, 2)) / 1024.0
    image = Image.fromarray(rng.integers(0, 256, (16, 32, 3)).astype(np.uint8))
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=trimesh.visual.material.PBRMaterial(
        baseColorTexture=image, baseColorFactor=[255, 255, 255, 255]))
    return mesh


def texture_of(mesh: trimesh.Trimesh) -> np.ndarray:
    material = mesh.visual.material
    image = getattr(material, "baseColorTexture", None) or material.image
    return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("tensor", [False, True])
def test_coloured_mesh_round_trip(coloured, tensor):
    geom = to_open3d(coloured, tensor=tensor)
    assert isinstance(geom, o3d.t.geometry.TriangleMesh if tensor else o3d.geometry.TriangleMesh)
    back = from_open3d(geom)
    atol = 1e-7 if tensor else 0.0  # tensor meshes hold Float32
    np.testing.assert_allclose(back.vertices, coloured.vertices, atol=atol)
    np.testing.assert_array_equal(back.faces, coloured.faces)
    assert np.abs(back.visual.vertex_colors.astype(int) - coloured.visual.vertex_colors).max() <= 1  # within 1/255
    np.testing.assert_allclose(back.vertex_normals, coloured.vertex_normals, atol=1e-6)


def test_legacy_mesh_arrays(coloured):
    geom = to_open3d(coloured)
    np.testing.assert_array_equal(np.asarray(geom.vertices), coloured.vertices)
    np.testing.assert_array_equal(np.asarray(geom.triangles), coloured.faces)
    np.testing.assert_allclose(np.asarray(geom.vertex_colors), coloured.visual.vertex_colors[:, :3] / 255.0)


@pytest.mark.parametrize("tensor", [False, True])
def test_textured_mesh_round_trip(textured, tensor):
    back = from_open3d(to_open3d(textured, tensor=tensor))
    np.testing.assert_array_equal(back.vertices, textured.vertices)
    np.testing.assert_array_equal(back.faces, textured.faces)
    np.testing.assert_array_equal(back.visual.uv, textured.visual.uv)
    np.testing.assert_array_equal(texture_of(back), texture_of(textured))


@pytest.mark.parametrize("tensor", [False, True])
def test_open3d_writes_our_textures_the_right_way_up(tmp_path, textured, tensor):
    """Open3D's own OBJ writer, fed our conversion, gives back the same texture and UVs (so the legacy texture
    flip and the tensor albedo map follow Open3D's conventions)."""
    path = tmp_path / "o3d.obj"
    if tensor:
        assert o3d.t.io.write_triangle_mesh(str(path), to_open3d(textured, tensor=True))
    else:
        assert o3d.io.write_triangle_mesh(str(path), to_open3d(textured))
    mesh = read_any(path)[1]
    np.testing.assert_array_equal(texture_of(mesh), texture_of(textured))
    corners = np.round(mesh.visual.uv[mesh.faces].reshape(-1, 2) * 1024)  # compare as corner UVs, by position
    want = np.round(textured.visual.uv[textured.faces].reshape(-1, 2) * 1024)
    order = lambda a, b: np.lexsort(np.concatenate([np.round(a * 1e4), b], axis=1).T)  # noqa: E731
    got_key = order(mesh.vertices[mesh.faces].reshape(-1, 3), corners)
    want_key = order(textured.vertices[textured.faces].reshape(-1, 3), want)
    np.testing.assert_array_equal(corners[got_key], want[want_key])


def test_uv_seams_split_vertices():
    verts = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], float)
    geom = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(verts), o3d.utility.Vector3iVector([[0, 1, 2],
                                                                                                     [0, 2, 3]]))
    corner_uv = np.array([[0, 0], [1, 0], [1, 1], [0.5, 0.5], [1, 1], [0, 1]], float)  # vertex 0 has two UVs
    geom.triangle_uvs = o3d.utility.Vector2dVector(corner_uv)
    geom.textures = [o3d.geometry.Image(np.zeros((4, 4, 3), np.uint8))]
    geom.triangle_material_ids = o3d.utility.IntVector([0, 0])
    back = from_open3d(geom)
    assert len(back.vertices) == 5
    np.testing.assert_array_equal(back.vertices[back.faces], verts[[[0, 1, 2], [0, 2, 3]]])
    np.testing.assert_array_equal(back.visual.uv[back.faces].reshape(-1, 2), corner_uv)


def test_face_colours_stay_exact(box_mesh):
    colours = np.random.default_rng(2).integers(0, 256, (12, 4)).astype(np.uint8)
    colours[:, 3] = 255
    box_mesh.visual.face_colors = colours
    back = from_open3d(to_open3d(box_mesh))
    assert len(back.faces) == 12 and len(back.vertices) == 36
    np.testing.assert_array_equal(back.visual.vertex_colors[back.faces][:, 0, :3], colours[:, :3])
    np.testing.assert_array_equal(back.vertices[back.faces], box_mesh.vertices[box_mesh.faces])


@pytest.mark.parametrize("tensor", [False, True])
@pytest.mark.parametrize("extras", [(), ("normals",), ("normals", "colors")])
def test_points_round_trip(tensor, extras):
    rng = np.random.default_rng(4)
    pts = rng.normal(size=(200, 3)).astype(np.float32)
    normals = rng.normal(size=(200, 3)).astype(np.float32) if "normals" in extras else None
    colors = rng.uniform(size=(200, 3)).astype(np.float32) if "colors" in extras else None
    geom = to_open3d((pts, normals, colors), tensor=tensor)
    assert isinstance(geom, o3d.t.geometry.PointCloud if tensor else o3d.geometry.PointCloud)
    back = from_open3d(geom)
    assert len(back) == 3 and all(a is None or a.dtype == np.float32 for a in back)
    for got, want in zip(back, (pts, normals, colors), strict=True):
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(got, want)


def test_points_other_inputs():
    pts = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.testing.assert_array_equal(np.asarray(to_open3d(pts).points), pts)
    cloud = trimesh.PointCloud(pts, colors=np.tile([255, 0, 0, 255], (4, 1)))
    np.testing.assert_allclose(np.asarray(to_open3d(cloud).colors), np.tile([1.0, 0, 0], (4, 1)))
    with pytest.raises(InputError, match=r"\(N, 3\)"):
        to_open3d(np.zeros((4, 2)))
    with pytest.raises(InputError, match="colors"):
        to_open3d((pts, None, np.zeros((3, 3))))


def test_voxel_grid_round_trip():
    rng = np.random.default_rng(5)
    occ = rng.random((12, 12, 12)) < 0.3
    occ[11, 11, 11] = True
    grid = VoxelGrid(occ, np.array([0.1, -0.2, 0.3]), 2.4)
    geom = to_open3d(grid)
    assert isinstance(geom, o3d.geometry.VoxelGrid) and len(geom.get_voxels()) == occ.sum()
    assert geom.voxel_size == pytest.approx(0.2) and np.allclose(geom.origin, grid.translate)
    i = np.argwhere(occ)[7]
    np.testing.assert_allclose(geom.get_voxel_center_coordinate(i), grid.translate + (i + 0.5) * 0.2)
    back = from_open3d(geom)
    np.testing.assert_array_equal(back.occupancy, occ)
    np.testing.assert_allclose(back.translate, grid.translate)
    assert back.scale == pytest.approx(grid.scale)


def test_voxel_grid_sizes():
    occ = np.zeros((8, 8, 8), bool)
    occ[1:3, 2, 4] = True
    geom = to_open3d(VoxelGrid(occ))
    assert from_open3d(geom).occupancy.shape == (5, 5, 5)  # just big enough without a resolution
    assert from_open3d(geom, resolution=8).occupancy.sum() == 2
    with pytest.raises(InputError, match="resolution"):
        from_open3d(geom, resolution=4)
    with pytest.raises(InputError, match="cubic"):
        to_open3d(VoxelGrid(np.ones((2, 3, 4), bool)))
    with pytest.raises(InputError, match="tensor"):
        to_open3d(VoxelGrid(occ), tensor=True)


def test_unknown_types_are_refused():
    with pytest.raises(InputError, match="cannot convert"):
        to_open3d("mesh.glb")
    with pytest.raises(InputError, match="cannot convert"):
        from_open3d(o3d.geometry.LineSet())
