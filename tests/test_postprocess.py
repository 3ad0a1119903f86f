import numpy as np
import open3d as o3d
import trimesh

from lift3d.geometry.sampling import sample_surface
from lift3d.geometry.voxels import mesh_to_voxels, raycasting_scene, voxels_to_mesh
from lift3d.postprocess import decimate, make_watertight, refine, remove_small_components, taubin_smooth


def _blocky_sphere():
    return voxels_to_mesh(mesh_to_voxels(trimesh.creation.icosphere(4, radius=0.4), 32).astype(np.float32))


def test_taubin_keeps_volume_and_smooths():
    raw = _blocky_sphere()
    smooth = taubin_smooth(raw, 10)
    assert abs(smooth.volume - raw.volume) / raw.volume < 0.02
    dev = lambda m: np.abs(np.linalg.norm(m.vertices, axis=1) - np.median(np.linalg.norm(m.vertices, axis=1))).mean()  # noqa: E731
    assert dev(smooth) < 0.8 * dev(raw)


def test_decimate_keeps_shape():
    m = taubin_smooth(_blocky_sphere(), 5)
    small = decimate(m, target_faces=800)
    assert len(small.faces) <= 850
    b, _ = sample_surface(small, 5000)
    dist = raycasting_scene(m).compute_distance(o3d.core.Tensor(b)).numpy()  # decimated surface -> original
    assert dist.mean() < 0.003 and dist.max() < 0.02


def test_watertight_repair_of_a_box_with_a_hole():
    box = trimesh.creation.box()
    box.update_faces(np.arange(len(box.faces)) > 1)  # remove one side's two triangles
    assert not box.is_watertight
    fixed = make_watertight(box)
    assert fixed.is_watertight and abs(fixed.volume - 1.0) < 0.05


def test_refine_drops_specks():
    big = trimesh.creation.icosphere(3, radius=0.4)
    speck = trimesh.creation.icosphere(0, radius=0.01)
    speck.apply_translation([0.45, 0.45, 0.45])
    both = trimesh.util.concatenate([big, speck])
    assert len(remove_small_components(both, 0.05).faces) == len(big.faces)
    out = refine(both, smooth_iters=3)
    assert out.is_watertight and len(out.split()) == 1
