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
