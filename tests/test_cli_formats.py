"""`lift3d convert` between every pair of kinds and `lift3d info` (complements tests/test_cli.py)."""

from importlib.resources import files

import numpy as np
import pytest
import trimesh

from conftest import run_cli as run
from lift3d.geometry.sampling import sample_surface
from lift3d.io.points import save_points
from lift3d.io.voxels import VoxelGrid, load_voxels, save_voxels

CHAIR = files("lift3d") / "samples" / "chair.obj"


def field(out: str, name: str) -> str:
    return out.split(f"{name}: ")[1].splitlines()[0]


def test_info_mesh_of_the_bundled_chair(capsys):
    code, out, _ = run(capsys, "info", CHAIR)
    assert code == 0
    assert (field(out, "kind"), field(out, "vertices"), field(out, "faces")) == ("mesh", "134", "264")
    assert field(out, "watertight") == "True" and float(field(out, "volume")) == pytest.approx(0.035244, rel=1e-4)
    assert field(out, "bounds") == "[-0.3196, -0.5, -0.356] .. [0.3196, 0.5, 0.356]"


def test_mesh_to_mesh_keeps_geometry(tmp_path, capsys):
    assert run(capsys, "convert", CHAIR, tmp_path / "c.off")[0] == 0
    code, out, _ = run(capsys, "info", tmp_path / "c.off")
    assert code == 0 and field(out, "faces") == "264" and float(field(out, "volume")) == pytest.approx(0.035244, 1e-4)


def test_points_to_mesh_is_poisson(tmp_path, capsys, sphere):
    pts, normals = sample_surface(sphere, 3000, seed=0)
    save_points(tmp_path / "s.xyz", pts, normals)
    code, _, err = run(capsys, "convert", tmp_path / "s.xyz", tmp_path / "s.stl")
    assert code == 0, err
    back = trimesh.load(tmp_path / "s.stl", force="mesh")
    back.merge_vertices()
    assert back.is_watertight and back.volume == pytest.approx(4 / 3 * np.pi * 0.4**3, rel=0.03)


def test_points_to_points_and_mesh_to_points(tmp_path, capsys, rng):
    pts = rng.random((300, 3))
    save_points(tmp_path / "p.xyz", pts)
    assert run(capsys, "convert", tmp_path / "p.xyz", tmp_path / "p.pcd")[0] == 0
    code, out, _ = run(capsys, "info", tmp_path / "p.pcd")
    assert field(out, "points") == "300" and field(out, "normals") == "False"
    assert run(capsys, "convert", CHAIR, tmp_path / "c.xyz", "--points", "500")[0] == 0
    code, out, _ = run(capsys, "info", tmp_path / "c.xyz")
    assert field(out, "kind") == "points" and field(out, "points") == "500" and field(out, "normals") == "True"
    assert run(capsys, "convert", tmp_path / "c.xyz", tmp_path / "c.ply")[0] == 0  # points stay points in .ply
    code, out, _ = run(capsys, "info", tmp_path / "c.ply")  # a .ply without faces reads back as points
    assert field(out, "kind") == "points" and field(out, "points") == "500"


def test_voxels_to_voxels_is_exact_and_keeps_placement(tmp_path, capsys, rng):
    g = VoxelGrid(rng.random((16, 16, 16)) < 0.3, [1.0, 2.0, 3.0], 2.0)
    save_voxels(tmp_path / "g.binvox", g)
    assert run(capsys, "convert", tmp_path / "g.binvox", tmp_path / "g.npz")[0] == 0
    back = load_voxels(tmp_path / "g.npz")
    assert np.array_equal(back.occupancy, g.occupancy) and np.allclose(back.translate, [1, 2, 3]) and back.scale == 2
    code, out, _ = run(capsys, "info", tmp_path / "g.npz")
    assert field(out, "dims") == "16x16x16" and int(field(out, "occupied").split()[0]) == g.occupancy.sum()


def test_voxels_to_mesh_is_placed_through_translate_and_scale(tmp_path, capsys):
    occ = np.zeros((8, 8, 8), bool)
    occ[2:6, 2:6, 2:6] = True  # a cube of side 4 cells = 1.0 world unit at scale 2, from 1.5 to 2.5 (+translate)
    save_voxels(tmp_path / "c.binvox", VoxelGrid(occ, [1.0, 2.0, 3.0], 2.0))
    assert run(capsys, "convert", tmp_path / "c.binvox", tmp_path / "c.glb")[0] == 0
    mesh = trimesh.load(tmp_path / "c.glb", force="mesh")
    centre = mesh.bounds.mean(axis=0)
    assert np.allclose(centre, [2.0, 3.0, 4.0], atol=1e-6)  # translate + scale * 4/8
    # marching cubes at level 0.5 puts the surface half a cell outside the cell centres: side 4 cells = 1.0
    assert np.allclose(mesh.extents, 1.0, atol=1e-6)


def test_mesh_to_voxels_normalises_first(tmp_path, capsys, box_mesh):
    big = box_mesh.copy().apply_scale(10.0).apply_translation([5, 5, 5])  # far outside the canonical cube
    big.export(tmp_path / "b.obj")
    assert run(capsys, "convert", tmp_path / "b.obj", tmp_path / "b.binvox", "--res", "10")[0] == 0
    g = load_voxels(tmp_path / "b.binvox")
    # normalised: extents (0.6, 0.4, 0.8) / 0.8 = (0.75, 0.5, 1) -> 7.5 x 5 x 10 cells (faces on cell borders
    # may add a layer: 8 x 6)
    assert g.occupancy.shape == (10, 10, 10) and 7 * 5 * 10 <= g.occupancy.sum() <= 8 * 6 * 10
    assert g.occupancy[:, :, 0].any() and g.occupancy[:, :, -1].any()
    assert run(capsys, "convert", tmp_path / "b.obj", tmp_path / "k.binvox", "--res", "10", "--keep-frame")[0] == 0
    assert not load_voxels(tmp_path / "k.binvox").occupancy.any()  # the raw box lies outside the grid's cube


@pytest.mark.parametrize("args", [("info", "missing.obj"), ("info", "a.docx"), ("convert", "CHAIR", "o.docx"),
                                  ("convert", "same.obj", "same.obj")])
def test_bad_arguments_exit_2(tmp_path, capsys, args):
    (tmp_path / "a.docx").write_text("not a model")
    (tmp_path / "same.obj").write_text(CHAIR.read_text())
    argv = [str(CHAIR) if a == "CHAIR" else str(tmp_path / a) if "." in a else a for a in args]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.startswith("lift3d: error:") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no temporary left


def test_images_are_described_and_not_converted(tmp_path, capsys):
    from PIL import Image

    Image.new("RGBA", (7, 5), (255, 0, 0, 0)).save(tmp_path / "a.png")
    code, out, _ = run(capsys, "info", tmp_path / "a.png")
    assert code == 0 and (field(out, "kind"), field(out, "size"), field(out, "transparent")) == ("image", "7x5", "True")
    code, _, err = run(capsys, "convert", tmp_path / "a.png", tmp_path / "a.obj")
    assert code == 2 and "lift3d reconstruct" in err and not (tmp_path / "a.obj").exists()
    code, _, err = run(capsys, "convert", CHAIR, tmp_path / "b.png")
    assert code == 2 and "unsupported output extension '.png'" in err
