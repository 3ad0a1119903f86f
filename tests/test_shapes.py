import numpy as np
import pytest

from lift3d.data.shapes import CATEGORIES, make_shape
from lift3d.errors import InputError
from lift3d.geometry.voxels import mesh_to_voxels
from lift3d.metrics import voxel_iou


@pytest.mark.parametrize("category", CATEGORIES)
def test_family_is_watertight_canonical_and_deterministic(category):
    for seed in (0, 1, 2):
        m = make_shape(category, seed)
        assert m.is_watertight and m.is_volume and m.volume > 0
        assert np.isclose(m.extents.max(), 1.0)
        assert np.all(m.bounds[0] >= -0.5 - 1e-9) and np.all(m.bounds[1] <= 0.5 + 1e-9)
        assert len(m.metadata["part_ids"]) == len(m.faces)
    a, b = make_shape(category, 7), make_shape(category, 7)
    assert a.vertices.tobytes() == b.vertices.tobytes() and a.faces.tobytes() == b.faces.tobytes()


@pytest.mark.parametrize("category", CATEGORIES)
def test_family_has_intra_class_variation(category):
    grids = [mesh_to_voxels(make_shape(category, s), 32) for s in range(4)]
    ious = [voxel_iou(grids[i], grids[j]) for i in range(4) for j in range(i + 1, 4)]
    assert np.mean(ious) < 0.9


def test_families_have_several_parts():
    assert len(CATEGORIES) >= 10
    assert len(np.unique(make_shape("chair", 0).metadata["part_ids"])) >= 3


def test_unknown_category():
    with pytest.raises(InputError, match="chair"):
        make_shape("spaceship", 0)


# --- budgets, seeds and part ids ------------------------------------------------------------------

SEEDS = range(5)


@pytest.mark.parametrize("category", CATEGORIES)
def test_face_budget_dtypes_and_part_ids(category):
    for seed in SEEDS:
        m = make_shape(category, seed)
        assert 0 < len(m.faces) <= 20_000
        assert m.faces.dtype == np.int64 and np.isfinite(m.vertices).all()
        ids = m.metadata["part_ids"]
        assert ids.dtype == np.int64 and ids.shape == (len(m.faces),)
        assert ids.min() >= 0 and ids.max() < 32  # indices into the family's part list (+1 for CSG cuts)


@pytest.mark.parametrize("category", CATEGORIES)
def test_no_two_seeds_give_the_same_shape(category):
    meshes = [make_shape(category, s) for s in range(4)]
    assert len({m.vertices.tobytes() for m in meshes}) == 4
    grids = [mesh_to_voxels(m, 32) for m in meshes]
    ious = [voxel_iou(grids[i], grids[j]) for i in range(4) for j in range(i + 1, 4)]
    assert max(ious) < 0.95


def test_large_seeds_are_valid():
    for seed in (2**31 - 1, 10**12):
        m = make_shape("chair", seed)
        assert m.is_watertight and np.isclose(m.extents.max(), 1.0)
    a, b = make_shape("table", 10**12), make_shape("table", 10**12)
    assert a.vertices.tobytes() == b.vertices.tobytes()


# --- canonical orientation (+Y up, fronts to +Z) and part meaning --------------------------------


def _faces_touching(m, axis: int, value: float, every_vertex: bool = True) -> np.ndarray:
    """Indices of faces whose vertices (all, or any) lie on the plane ``coordinate[axis] == value``."""
    on = np.abs(m.vertices[m.faces][:, :, axis] - value) < 1e-6
    return np.where(on.all(axis=1) if every_vertex else on.any(axis=1))[0]


def test_chair_is_tall_and_faces_plus_z():
    for seed in SEEDS:
        m = make_shape("chair", seed)
        assert int(np.argmax(m.extents)) == 1  # taller than wide or deep
        top = m.vertices[:, 1] > m.bounds[1, 1] - 0.1  # top 10 %: only the back rest
        assert m.vertices[top, 2].max() < 0.0  # the back is behind the seat, so the front is +Z


def test_table_top_is_part_zero_and_widest():
    for seed in SEEDS:
        m = make_shape("table", seed)
        ids = m.metadata["part_ids"]
        top = _faces_touching(m, 1, m.bounds[1, 1])
        assert len(top) > 0 and np.all(ids[top] == 0)
        tv = m.vertices[m.faces[top]].reshape(-1, 3)
        np.testing.assert_allclose(tv.min(0)[[0, 2]], m.bounds[0, [0, 2]], atol=1e-6)
        np.testing.assert_allclose(tv.max(0)[[0, 2]], m.bounds[1, [0, 2]], atol=1e-6)


def test_sofa_is_widest_along_x():
    for seed in SEEDS:
        assert int(np.argmax(make_shape("sofa", seed).extents)) == 0


def test_car_points_along_z_and_stands_on_its_wheels():
    for seed in SEEDS:
        m = make_shape("car", seed)
        ids = m.metadata["part_ids"]
        assert int(np.argmax(m.extents)) == 2
        assert set(range(2, 6)) <= set(ids.tolist())  # body 0, cabin 1, wheels 2-5
        ground = _faces_touching(m, 1, m.bounds[0, 1], every_vertex=False)
        assert len(ground) > 0 and np.all((ids[ground] >= 2) & (ids[ground] <= 5))


def test_airplane_is_flat_symmetric_with_tail_at_minus_z():
    for seed in SEEDS:
        m = make_shape("airplane", seed)
        ids = m.metadata["part_ids"]
        assert m.extents[1] < min(m.extents[0], m.extents[2])
        assert np.isclose(m.bounds[0, 0], -m.bounds[1, 0], atol=1e-6)  # mirror-symmetric in x
        assert m.vertices[np.argmax(m.vertices[:, 1]), 2] < 0.0  # fin top is at the back
        assert ids[np.argmax(m.triangles_center[:, 2])] == 0  # the nose (+Z) belongs to the fuselage


def test_bottle_is_a_solid_of_revolution_about_y():
    for seed in SEEDS:
        m = make_shape("bottle", seed)
        assert np.isclose(m.extents[0], m.extents[2], rtol=1e-6)
        np.testing.assert_allclose(m.bounds[0, [0, 2]], -m.bounds[1, [0, 2]], atol=1e-6)


def test_mug_is_hollow_with_handle_to_plus_x():
    from lift3d.geometry.voxels import points_inside

    for seed in SEEDS:
        m = make_shape("mug", seed)
        ids = m.metadata["part_ids"]  # body 0, handle 1, faces cut by the cavity 2
        body = m.vertices[m.faces[ids == 0]].reshape(-1, 3)
        cavity = m.vertices[m.faces[ids == 2]].reshape(-1, 3)
        axis_x = (body[:, 0].min() + body[:, 0].max()) / 2
        in_cup = [axis_x, (cavity[:, 1].min() + cavity[:, 1].max()) / 2, 0.0]
        in_floor = [axis_x, body[:, 1].min() + 1e-3, 0.0]
        assert points_inside(m, np.array([in_cup, in_floor])).tolist() == [False, True]
        assert m.vertices[m.faces[ids == 1]].reshape(-1, 3)[:, 0].mean() > axis_x
        assert m.volume < 0.6 * m.convex_hull.volume


def test_cabinet_back_panel_spans_the_width_at_minus_z():
    for seed in SEEDS:
        m = make_shape("cabinet", seed)
        back = m.vertices[m.faces[_faces_touching(m, 2, m.bounds[0, 2])]].reshape(-1, 3)
        assert np.isclose(np.ptp(back[:, 0]), m.extents[0], atol=1e-6)


# --- known defects of the frozen generators (strict xfail: remove the marker once fixed) ----------


def _solid_pieces(m) -> int:
    """Number of separate positive-volume solids (inner cavity shells have negative volume)."""
    return sum(b.volume > 0 for b in m.split(only_watertight=False))


@pytest.mark.xfail(strict=True, reason="parts that only touch (legs under a seat or top, arm posts) are not "
                   "fused by the union, and the car spoiler floats: overlap parts by a small epsilon")
@pytest.mark.parametrize(("category", "seed"), [("chair", 0), ("table", 0), ("car", 0)])
def test_family_is_one_solid_piece(category, seed):
    assert _solid_pieces(make_shape(category, seed)) == 1


@pytest.mark.xfail(strict=True, reason="the desk-lamp arm starts at y = base thickness with a ball of the stem "
                   "radius, which pokes below the base when stem_r > base_t")
def test_lamp_stands_on_its_base():
    m = make_shape("lamp", 12)
    ids = m.metadata["part_ids"]
    assert ids[np.argmin(m.triangles_center[:, 1])] == 0


def test_negative_seed_is_a_user_error_or_valid():
    try:
        m = make_shape("chair", -1)
    except InputError:
        return
    assert m.is_watertight


# --- the six families added for the 13 ShapeNet classes (appended after composite) ---------------

NEW_FAMILIES = ["bench", "display", "loudspeaker", "rifle", "telephone", "watercraft"]


def test_new_families_are_appended_after_the_original_ten():
    assert CATEGORIES[:10] == ["chair", "table", "sofa", "lamp", "mug", "bottle", "airplane", "car", "cabinet",
                               "composite"]
    assert CATEGORIES[10:16] == NEW_FAMILIES


def test_original_families_are_unchanged():
    """Seed 0 of the original families: vertex count and volume measured before the new families existed."""
    expected = {"chair": (110, 0.036942721), "table": (40, 0.0152697693), "car": (240, 0.0896055752),
                "mug": (214, 0.1025610503), "composite": (455, 0.108577424)}
    for category, (n_vertices, volume) in expected.items():
        m = make_shape(category, 0)
        assert len(m.vertices) == n_vertices and np.isclose(m.volume, volume, rtol=1e-6)


@pytest.mark.parametrize("category", NEW_FAMILIES)
def test_new_family_is_valid_over_50_seeds(category):
    extents = []
    for seed in range(50):
        m = make_shape(category, seed)
        assert m.is_watertight and m.is_volume and m.volume > 0, seed
        assert np.all(m.bounds[0] >= -0.5 - 1e-9) and np.all(m.bounds[1] <= 0.5 + 1e-9), seed
        assert np.isclose(m.extents.max(), 1.0)
        assert len(m.metadata["part_ids"]) == len(m.faces)
        assert _solid_pieces(m) == 1, seed  # touching parts overlap, so every shape is one solid
        extents.append(m.extents)
    e = np.array(extents[:20])
    # real variety: bounding-box proportions spread over the first 20 seeds
    ratios = np.sort(e, axis=1)
    assert np.ptp(ratios[:, 0]) > 0.1 and np.ptp(ratios[:, 1]) > 0.1
    a, b = make_shape(category, 3), make_shape(category, 3)
    assert a.vertices.tobytes() == b.vertices.tobytes() and a.faces.tobytes() == b.faces.tobytes()


def test_new_families_orientation():
    for seed in range(10):
        assert int(np.argmax(make_shape("bench", seed).extents)) == 0  # length along X
        assert int(np.argmax(make_shape("rifle", seed).extents)) == 2  # long axis along Z
        assert int(np.argmax(make_shape("watercraft", seed).extents[[0, 2]])) == 1  # longer than wide
        d = make_shape("display", seed)
        assert d.extents[0] > 0.9  # the screen is the widest part
