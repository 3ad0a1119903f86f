"""lift3d.render: textures, vertex/face colours, silhouettes, shading, turntables and their files."""

import sys

import numpy as np
import pytest
import trimesh
from PIL import Image
from scipy import ndimage
from scipy.spatial import ConvexHull
from skimage.draw import polygon2mask

from lift3d.errors import InputError
from lift3d.geometry.cameras import orbit_camera, project, unproject
from lift3d.io import read_any, write_any
from lift3d.render import (
    check_turntable_output,
    points_mesh,
    render_mesh,
    render_turntable_frames,
    voxels_mesh,
    write_frames,
)
from lift3d.render.surface import sample_texture
from lift3d.render.turntable import grid_columns

CELLS, TEXELS = 8, 8  # an 8 x 8 checker of random colours, 8 texels per cell: a 64 x 64 texture
DIST = 2.0


@pytest.fixture(scope="module")
def checker() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (CELLS, CELLS, 3)).astype(np.uint8)


def textured_quad(cells: np.ndarray, factor=(255, 255, 255, 255)) -> trimesh.Trimesh:
    """The square [-0.5, 0.5]^2 in the plane z = 0, u = x + 0.5, v = y + 0.5 (v up), a checker texture."""
    verts = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], float)
    quad = trimesh.Trimesh(verts, [[0, 1, 2], [0, 2, 3]], process=False)
    image = Image.fromarray(np.kron(cells, np.ones((TEXELS, TEXELS, 1), np.uint8)))
    material = trimesh.visual.material.PBRMaterial(baseColorTexture=image, baseColorFactor=factor)
    quad.visual = trimesh.visual.TextureVisuals(uv=verts[:, :2] + 0.5, material=material)
    return quad


def front_camera(size: int = 96):
    return orbit_camera(0.0, 0.0, DIST, size, size)  # on +Z looking at the origin: image x = +x, image y = -y


def expected_checker(cam, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell colour at each pixel centre's point on the quad, and pixels >= 1 texel from any cell border."""
    u, v = np.meshgrid(np.arange(cam.width) + 0.5, np.arange(cam.height) + 0.5)
    world = unproject(np.stack([u.ravel(), v.ravel()], 1), np.full(u.size, DIST), cam).reshape(*u.shape, 3)
    col, row = (world[..., 0] + 0.5) * CELLS * TEXELS, (0.5 - world[..., 1]) * CELLS * TEXELS  # row 0 = top (v = 1)
    inside = (col > 0) & (col < CELLS * TEXELS) & (row > 0) & (row < CELLS * TEXELS)
    off = np.minimum(np.minimum(col % TEXELS, TEXELS - col % TEXELS), np.minimum(row % TEXELS, TEXELS - row % TEXELS))
    ci = np.clip((col // TEXELS).astype(int), 0, CELLS - 1)
    ri = np.clip((row // TEXELS).astype(int), 0, CELLS - 1)
    return cells[ri, ci].astype(np.float64) / 255.0, inside & (off >= 1.0)


def test_sample_texture_convention():
    tex = np.zeros((2, 4, 1), np.float32)
    tex[0, 0] = 1.0  # top-left texel
    assert sample_texture(tex, np.array([[0.125, 0.75]]))[0, 0] == pytest.approx(1.0)  # its centre: u=1/8, v=3/4
    assert sample_texture(tex, np.array([[0.125, 0.25]]))[0, 0] == pytest.approx(0.0)


@pytest.mark.parametrize("source", ["memory", ".glb", ".obj"])
def test_unlit_render_reproduces_the_texture(tmp_path, checker, source):
    mesh = textured_quad(checker)
    if source != "memory":  # through lift3d's writers and readers (PBR baseColorTexture / OBJ map_Kd)
        path = tmp_path / f"quad{source}"
        write_any(mesh, path)
        mesh = read_any(path)[1]
    cam = front_camera()
    res = render_mesh(mesh, cam, "unlit")
    want, interior = expected_checker(cam, checker)
    assert interior.sum() > 2000 and res.mask[interior].all()
    assert np.abs(res.rgb[interior] - want[interior]).max() < 1 / 255
    assert np.abs(res.rgba[interior][:, :3] / 255.0 - want[interior]).max() < 1 / 255
    assert np.allclose(res.depth[res.mask], DIST, atol=1e-4) and not res.depth[~res.mask].any()
    assert (res.rgba[..., 3][~res.mask] == 0).all() and (res.rgba[..., 3][interior] == 255).all()


def test_base_color_factor_multiplies_the_texture(checker):
    cam = front_camera(48)
    plain = render_mesh(textured_quad(checker), cam, "unlit")
    tinted = render_mesh(textured_quad(checker, factor=(255, 128, 0, 255)), cam, "unlit")
    m = plain.mask
    np.testing.assert_allclose(tinted.rgb[m], plain.rgb[m] * [1.0, 128 / 255, 0.0], atol=1e-5)


def test_vertex_colours_are_interpolated_and_face_colours_constant():
    verts = np.array([[-0.6, -0.5, 0], [0.6, -0.5, 0], [0.0, 0.6, 0]], float)
    colours = np.array([[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]], np.uint8)
    tri = trimesh.Trimesh(verts, [[0, 1, 2]], vertex_colors=colours, process=False)
    cam = front_camera(64)
    res = render_mesh(tri, cam, "unlit")
    v, u = np.nonzero(res.mask)
    p = unproject(np.stack([u + 0.5, v + 0.5], 1), np.full(len(u), DIST), cam)
    w = np.linalg.solve(np.vstack([verts[:, :2].T, np.ones(3)]), np.vstack([p[:, :2].T, np.ones(len(p))])).T
    ok = w.min(axis=1) > 0.02
    assert ok.sum() > 500
    np.testing.assert_allclose(res.rgb[v[ok], u[ok]], w[ok] @ (colours[:, :3] / 255.0), atol=1 / 255)

    quad = textured_quad(np.zeros((1, 1, 3), np.uint8))
    quad.visual = trimesh.visual.ColorVisuals(quad, face_colors=[[255, 0, 0, 255], [0, 0, 255, 255]])
    img = render_mesh(quad, cam, "unlit").rgba
    assert tuple(img[40, 30, :3]) == (255, 0, 0) and tuple(img[20, 24, :3]) == (0, 0, 255)  # below / above y = x


def test_mask_matches_the_projected_cube():
    cube = trimesh.creation.box(extents=(0.8, 0.8, 0.8))
    cam = orbit_camera(30.0, 25.0, 2.5, 128, 128)
    res = render_mesh(cube, cam, "unlit")
    uv, _ = project(cube.vertices, cam)
    hull = uv[ConvexHull(uv).vertices]
    truth = polygon2mask((128, 128), np.stack([hull[:, 1] - 0.5, hull[:, 0] - 0.5], 1))  # pixel centres at +0.5
    iou = (truth & res.mask).sum() / (truth | res.mask).sum()
    assert iou > 0.99


def test_shaded_is_darker_at_grazing_angles(sphere):
    cam = front_camera(96)
    res = render_mesh(sphere, cam, "shaded", color=(1.0, 1.0, 1.0))
    lum = res.rgb.mean(axis=-1)
    depth_in = ndimage.distance_transform_edt(res.mask)
    facing, grazing = lum[depth_in > 0.7 * depth_in.max()], lum[(depth_in >= 1) & (depth_in <= 3)]
    assert facing.mean() > grazing.mean() + 0.2 and facing.max() <= 1.0
    unlit = render_mesh(sphere, cam, "unlit", color=(0.2, 0.4, 0.6))
    assert np.abs(unlit.rgb[depth_in >= 2] - [0.2, 0.4, 0.6]).max() < 1e-6  # no lighting at all


def test_background_and_supersampling(sphere):
    cam = front_camera(32)
    opaque = render_mesh(sphere, cam, background=(0.0, 0.0, 1.0), ss=3)
    assert (opaque.rgba[..., 3] == 255).all() and tuple(opaque.rgba[0, 0]) == (0, 0, 255, 255)
    soft = render_mesh(sphere, cam, ss=4)
    edge = (soft.rgba[..., 3] > 0) & (soft.rgba[..., 3] < 255)
    assert edge.sum() > 10  # anti-aliased coverage on the silhouette
    assert (render_mesh(sphere, cam, ss=1).rgba[..., 3] % 255 == 0).all()
    with pytest.raises(InputError, match="lighting"):
        render_mesh(sphere, cam, "glossy")
    with pytest.raises(InputError, match="background"):
        render_mesh(sphere, cam, background=(2, 0, 0))


def l_shape() -> trimesh.Trimesh:
    """Asymmetric about +Y (every turntable frame differs), with vertex colours."""
    mesh = trimesh.util.concatenate([trimesh.creation.box(extents=(0.8, 0.3, 0.3)),
                                     trimesh.creation.box(extents=(0.3, 0.6, 0.3)).apply_translation((0.25, 0.3, 0))])
    mesh.visual.vertex_colors = np.tile([200, 60, 40, 255], (len(mesh.vertices), 1))
    return mesh


def test_turntable_frames_are_framed_and_coloured():
    mesh = l_shape().apply_scale(7.0).apply_translation((10, -3, 2))  # any size, anywhere: still framed
    frames = render_turntable_frames(mesh, 5, 40, ss=1)
    assert len(frames) == 5 and all(f.shape == (40, 40, 3) and f.dtype == np.uint8 for f in frames)
    for f in frames:
        obj = (f != 255).any(axis=-1)
        assert 0.08 < obj.mean() < 0.8 and not obj[0].any() and not obj[-1].any()
        assert (f[obj][:, 0] > f[obj][:, 1]).mean() > 0.9  # the red vertex colours, shaded
    assert not np.array_equal(frames[0], frames[1])


def test_turntable_files(tmp_path):
    frames = render_turntable_frames(l_shape(), 6, 33, ss=1)
    sheet = write_frames(frames, tmp_path / "t.png")
    assert Image.open(sheet).size == (6 * 33, 33)  # up to 8 frames: one strip
    assert grid_columns(24) == 6 and grid_columns(7) == 7 and grid_columns(13) == 4
    gif = Image.open(write_frames(frames, tmp_path / "t.gif", fps=10))
    assert gif.n_frames == 6 and gif.size == (33, 33) and gif.info["loop"] == 0 and gif.info["duration"] == 100
    pytest.importorskip("imageio_ffmpeg")
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(write_frames(frames, tmp_path / "t.mp4", fps=10)))
    meta = next(reader)
    assert tuple(meta["size"]) == (34, 34) and meta["fps"] == 10  # odd sides padded to even for yuv420p
    assert sum(1 for _ in reader) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gif", "t.mp4", "t.png"]  # no temporary files left


def test_missing_mp4_encoder_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails as if not installed
    with pytest.raises(InputError, match="imageio-ffmpeg"):
        check_turntable_output(tmp_path / "spin.mp4")
    with pytest.raises(InputError, match="imageio-ffmpeg"):
        write_frames([np.zeros((16, 16, 3), np.uint8)], tmp_path / "spin.mp4")
    with pytest.raises(InputError, match=".png, .gif, .mp4"):
        check_turntable_output(tmp_path / "spin.avi")
    assert not list(tmp_path.iterdir())


def test_points_and_voxels_become_meshes():
    from lift3d.io.voxels import VoxelGrid

    pts = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32)
    splats = points_mesh(pts, np.tile([0.0, 1.0, 0.0], (500, 1)))
    assert len(splats.faces) == 20 * 500 and (splats.visual.face_colors[:, 1] == 255).all()
    assert len(points_mesh(pts, limit=100).faces) == 20 * 100
    occ = np.zeros((4, 4, 4), bool)
    occ[1:4, 1:4, 1:4] = True  # 27 cells, 26 on the surface
    cubes = voxels_mesh(VoxelGrid(occ, np.zeros(3), 2.0))
    assert len(cubes.faces) == 12 * 26
    np.testing.assert_allclose(cubes.bounds, [[0.5, 0.5, 0.5], [2.0, 2.0, 2.0]])


def test_reconstruct_preview_shows_the_mesh_colours(tmp_path):
    from lift3d.reconstruct.preview import write_turntable

    write_turntable(l_shape(), tmp_path / "own.png", n_views=3, size=24)
    write_turntable(l_shape(), tmp_path / "tint.png", n_views=3, size=24, color=(40, 60, 220))
    own, tint = (np.asarray(Image.open(tmp_path / n)).astype(int) for n in ("own.png", "tint.png"))
    assert own.shape == tint.shape == (24, 72, 3)
    drawn = (own != 255).any(axis=-1)
    assert (own[drawn][:, 0] > own[drawn][:, 2]).mean() > 0.9  # its red vertex colours
    assert (tint[drawn][:, 2] > tint[drawn][:, 0]).mean() > 0.9  # the colour given


def test_frames_stream_and_png_sheets_are_bounded(tmp_path):
    from lift3d.render import iter_turntable_frames

    frames = iter_turntable_frames(l_shape(), 4, 20, ss=1)
    assert not isinstance(frames, list)
    assert Image.open(write_frames(frames, tmp_path / "s.gif")).n_frames == 4  # consumed as rendered
    with pytest.raises(InputError, match="at most 16384 a side"):
        check_turntable_output(tmp_path / "big.png", n=360, size=2048)
    assert check_turntable_output(tmp_path / "ok.png", n=24, size=2048) == ".png"
    with pytest.raises(InputError, match="no frames"):
        write_frames(iter([]), tmp_path / "none.gif")
    assert [p.name for p in tmp_path.iterdir()] == ["s.gif"]
