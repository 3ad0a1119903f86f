import os

import numpy as np
import pytest
import trimesh

from lift3d.errors import FormatError, InputError
from lift3d.io import kind_of, read_any, write_any
from lift3d.io.atomic import atomic_dir, write_text_atomic
from lift3d.io.meshes import load_mesh, save_mesh
from lift3d.io.points import load_points, save_points
from lift3d.io.voxels import VoxelGrid, load_voxels, save_voxels


def _l_shape() -> np.ndarray:
    """An asymmetric grid: any axis swap or flip changes it."""
    g = np.zeros((6, 7, 8), bool)
    g[0, :, 0] = True  # a column along y
    g[:, 0, 0] = True  # a row along x
    g[5, 6, 7] = True
    g[1, 2, 3] = True
    return g


@pytest.mark.parametrize("ext", [".obj", ".ply", ".stl", ".off", ".glb"])
def test_mesh_round_trip(tmp_path, box_mesh, ext):
    box_mesh.visual.vertex_colors = np.tile([200, 10, 10, 255], (len(box_mesh.vertices), 1))
    path = save_mesh(box_mesh, tmp_path / f"m{ext}")
    back = load_mesh(path)
    assert len(back.faces) == len(box_mesh.faces)
    uniq = lambda v: np.unique(np.round(v, 5), axis=0)  # noqa: E731  (STL stores three corners per face)
    assert np.allclose(uniq(back.vertices), uniq(box_mesh.vertices), atol=1e-5)
    assert back.volume == pytest.approx(box_mesh.volume, rel=1e-5)
    if ext in (".glb", ".ply"):
        assert np.allclose(back.visual.vertex_colors[:, :3], [200, 10, 10])
    assert not list(tmp_path.glob("*.tmp*"))


@pytest.mark.parametrize("ext", [".ply", ".pcd", ".xyz"])
def test_points_round_trip(tmp_path, rng, ext):
    pts = rng.random((500, 3)).astype(np.float32)
    normals = rng.normal(size=(500, 3)).astype(np.float32)
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    save_points(tmp_path / f"p{ext}", pts, normals)
    back, n_back, _ = load_points(tmp_path / f"p{ext}")
    assert np.allclose(back, pts, atol=1e-6)
    assert np.allclose(n_back, normals, atol=1e-6)


@pytest.mark.parametrize("ext", [".binvox", ".npz"])
def test_voxel_round_trip_keeps_axes_and_placement(tmp_path, ext):
    g = _l_shape()
    save_voxels(tmp_path / f"v{ext}", VoxelGrid(g, [0.1, -0.2, 0.3], 2.5))
    back = load_voxels(tmp_path / f"v{ext}")
    assert np.array_equal(back.occupancy, g)
    assert np.allclose(back.translate, [0.1, -0.2, 0.3]) and back.scale == pytest.approx(2.5)


def test_binvox_byte_layout(tmp_path):
    """binvox stores x slowest, then z, then y fastest."""
    g = np.zeros((2, 2, 2), bool)
    g[0, 1, 0] = True  # (x=0, y=1, z=0) -> flat index x*4 + z*2 + y = 1
    save_voxels(tmp_path / "v.binvox", g)
    data = (tmp_path / "v.binvox").read_bytes().split(b"data\n", 1)[1]
    assert data == bytes([0, 1, 1, 1, 0, 6])


def test_truncated_binvox_is_a_format_error(tmp_path):
    save_voxels(tmp_path / "v.binvox", _l_shape())
    raw = (tmp_path / "v.binvox").read_bytes()
    (tmp_path / "cut.binvox").write_bytes(raw[: len(raw) - 3])
    with pytest.raises(FormatError, match="cut.binvox"):
        load_voxels(tmp_path / "cut.binvox")
    (tmp_path / "bad.binvox").write_bytes(b"hello world\n")
    with pytest.raises(FormatError, match="not a binvox"):
        load_voxels(tmp_path / "bad.binvox")


def test_bad_meshes(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_mesh(tmp_path / "missing.obj")
    (tmp_path / "junk.stl").write_bytes(b"\x00\x01 not a mesh at all" * 3)
    with pytest.raises(FormatError):
        load_mesh(tmp_path / "junk.stl")
    (tmp_path / "empty.obj").write_text("# nothing\n")
    with pytest.raises(FormatError, match="no triangles"):
        load_mesh(tmp_path / "empty.obj")
    (tmp_path / "nan.obj").write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    with pytest.raises(FormatError, match="NaN"):
        load_mesh(tmp_path / "nan.obj")
    with pytest.raises(InputError, match="unknown"):
        kind_of(tmp_path / "x.docx")


def test_ply_kind_is_sniffed(tmp_path, box_mesh, rng):
    save_mesh(box_mesh, tmp_path / "mesh.ply")
    save_points(tmp_path / "cloud.ply", rng.random((50, 3)))
    assert read_any(tmp_path / "mesh.ply")[0] == "mesh"
    assert read_any(tmp_path / "cloud.ply")[0] == "points"


def test_textured_glb_round_trip(tmp_path):
    from PIL import Image

    mesh = trimesh.creation.box()
    uv = np.random.default_rng(0).random((len(mesh.vertices), 2))
    tex = Image.fromarray(np.full((8, 8, 3), [0, 128, 255], np.uint8))
    mesh.visual = trimesh.visual.TextureVisuals(uv=uv, image=tex)
    save_mesh(mesh, tmp_path / "t.glb")
    back = trimesh.load(tmp_path / "t.glb", force="mesh")
    assert isinstance(back.visual, trimesh.visual.TextureVisuals)
    assert back.visual.material is not None


def test_gltf_is_one_self_contained_file(tmp_path, box_mesh):
    save_mesh(box_mesh, tmp_path / "a.gltf")
    save_mesh(box_mesh.copy().apply_scale(2.0), tmp_path / "b.gltf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gltf", "b.gltf"]  # no shared gltf_buffer_*.bin
    assert load_mesh(tmp_path / "a.gltf").volume == pytest.approx(0.6 * 0.4 * 0.8, rel=1e-5)
    assert load_mesh(tmp_path / "b.gltf").volume == pytest.approx(8 * 0.6 * 0.4 * 0.8, rel=1e-5)


def test_two_textured_objs_in_one_folder_keep_their_own_images(tmp_path):
    from PIL import Image

    for stem, colour in (("a", [0, 128, 255]), ("b", [255, 0, 0])):
        mesh = trimesh.creation.box()
        mesh.visual = trimesh.visual.TextureVisuals(uv=np.random.default_rng(0).random((8, 2)),
                                                    image=Image.fromarray(np.full((4, 4, 3), colour, np.uint8)))
        save_mesh(mesh, tmp_path / f"{stem}.obj")
    for stem, colour in (("a", [0, 128, 255]), ("b", [255, 0, 0])):
        back = trimesh.load(tmp_path / f"{stem}.obj", force="mesh")
        assert np.array_equal(np.asarray(back.visual.material.image.convert("RGB"))[0, 0], colour)


@pytest.mark.parametrize("ext", [".ply", ".pcd"])
def test_point_colours_round_trip(tmp_path, rng, ext):
    pts = rng.random((100, 3))
    colors = rng.integers(0, 256, (100, 3)) / 255.0  # PLY stores 8-bit colours: exact on this grid
    save_points(tmp_path / f"c{ext}", pts, colors=colors)
    back, normals, c_back = load_points(tmp_path / f"c{ext}")
    assert normals is None and np.allclose(c_back, colors, atol=1e-6) and np.allclose(back, pts, atol=1e-6)


def test_write_any_read_any_round_trip_every_kind(tmp_path, box_mesh, rng):
    write_any(box_mesh, tmp_path / "m.off")
    kind, mesh = read_any(tmp_path / "m.off")
    assert kind == "mesh" and mesh.volume == pytest.approx(0.192, rel=1e-6)
    pts = rng.random((64, 3)).astype(np.float32)
    write_any((pts, None, None), tmp_path / "p.ply")  # .ply: a point tuple is written as a point cloud
    kind, (back, _, _) = read_any(tmp_path / "p.ply")
    assert kind == "points" and np.array_equal(back, pts)
    write_any(pts, tmp_path / "p.xyz")
    assert np.allclose(read_any(tmp_path / "p.xyz")[1][0], pts, atol=1e-6)
    write_any(_l_shape(), tmp_path / "v.binvox")
    kind, grid = read_any(tmp_path / "v.binvox")
    assert kind == "voxels" and np.array_equal(grid.occupancy, _l_shape())
    assert np.allclose(grid.translate, -0.5) and grid.scale == 1.0  # a bare array is the canonical cube
    with pytest.raises(InputError, match="lift3d convert"):
        write_any(box_mesh, tmp_path / "x.binvox")
    assert not (tmp_path / "x.binvox").exists()


def test_binvox_exact_for_random_and_long_runs(tmp_path, rng):
    """Random bits (runs of 1) and a full 32^3 block (runs longer than 255, split into several pairs)."""
    noisy = rng.random((32, 32, 32)) < 0.5
    full = np.zeros((32, 32, 32), bool)
    full[4:28, 2:30, 8:24] = True
    for g in (noisy, full, np.ones((32, 32, 32), bool), np.zeros((8, 8, 8), bool)):
        save_voxels(tmp_path / "g.binvox", g)
        assert np.array_equal(load_voxels(tmp_path / "g.binvox").occupancy, g)
    raw = (tmp_path / "g.binvox").read_bytes()  # 512 empty voxels: (0, 255), (0, 255), (0, 2)
    assert raw.endswith(b"data\n" + bytes([0, 255, 0, 255, 0, 2]))


def test_binvox_header_problems(tmp_path):
    (tmp_path / "blank.binvox").write_bytes(b"#binvox 1\ndim 2 2 2\n\ntranslate 0 0 0\nscale 1\ndata\n\x01\x08")
    assert load_voxels(tmp_path / "blank.binvox").occupancy.all()  # a blank header line is tolerated
    for name, raw, msg in (("nodim.binvox", b"#binvox 1\nscale 1\ndata\n\x01\x08", "bad binvox header"),
                           ("baddim.binvox", b"#binvox 1\ndim 2 x 2\ndata\n\x01\x08", "bad binvox header"),
                           ("zero.binvox", b"#binvox 1\ndim 0 2 2\ndata\n", "dimensions"),
                           ("long.binvox", b"#binvox 1\ndim 2 2 2\ndata\n\x01\x08\x00\x01", "header says 8"),
                           ("nodata.binvox", b"#binvox 1\ndim 2 2 2\n", "truncated binvox header")):
        (tmp_path / name).write_bytes(raw)
        with pytest.raises(FormatError, match=msg) as err:
            load_voxels(tmp_path / name)
        assert name in str(err.value)


def test_bundled_sample_mesh():
    from importlib.resources import files

    mesh = load_mesh(files("lift3d") / "samples" / "chair.obj")
    assert (len(mesh.vertices), len(mesh.faces)) == (134, 264) and mesh.is_watertight
    assert mesh.volume == pytest.approx(0.035244, rel=1e-4)
    assert np.isclose(mesh.extents.max(), 1.0) and np.all(np.abs(mesh.bounds) <= 0.5 + 1e-6)


def test_atomic_file_and_dir_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    os.umask(old)
    write_text_atomic(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~old
    with atomic_dir(tmp_path / "d") as d:
        (d / "f").write_text("y")
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o777 & ~old
