"""Render a few product-photo-like test images for the real-photo panel -> benchmarks/photos/*.jpg.

Shapes no dataset contains (seeds far outside any generated range) stand on a white floor, lit by the photo-like
light rig with ray-cast soft shadows, so the floor carries a soft shadow under the object; saved as JPEG (quality
80). They stand in for the cases users reported: a wooden dresser, a white table with thin legs, a bench with metal
legs, a textured car. Not a score: pictures for `benchmarks/photo_panel.py`.

    python scripts/make_photos.py
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import trimesh
from PIL import Image

from lift3d.data.appearance import Material, sample_appearance, sample_lighting
from lift3d.data.render import fit_distance, render_view_styled
from lift3d.data.shapes import make_shape
from lift3d.geometry.cameras import orbit_camera
from lift3d.geometry.voxels import raycasting_scene
from lift3d.io.atomic import atomic_path

OUT = Path(__file__).resolve().parent.parent / "benchmarks" / "photos"
# (file, family, seed, texture override of every part or None, azimuth, elevation)
PHOTOS = [
    ("dresser.jpg", "cabinet", 100_001, "wood", 25.0, 15.0),
    ("white_table.jpg", "table", 100_010, "white", -30.0, 25.0),
    ("metal_bench.jpg", "bench", 100_005, None, 35.0, 20.0),
    ("textured_car.jpg", "car", 100_004, "noise", 40.0, 15.0),
    ("speaker.jpg", "loudspeaker", 100_003, None, -20.0, 10.0),
]


def photo(family: str, seed: int, texture: str | None, azimuth: float, elevation: float, size: int = 256
          ) -> np.ndarray:
    """RGB uint8 ``(size, size, 3)``: the shape on a white floor with its soft shadow, white backdrop."""
    rng = np.random.default_rng(seed)
    mesh = make_shape(family, seed)
    parts = np.asarray(mesh.metadata["part_ids"], np.int64)
    floor = trimesh.creation.box((8.0, 0.01, 8.0))
    floor.apply_translation((0.0, mesh.bounds[0, 1] - 0.006, 0.0))
    scene_mesh = trimesh.util.concatenate([mesh, floor])
    n_parts = int(parts.max()) + 1
    look = sample_appearance(rng, n_parts + 1, "random")
    white = Material("flat", np.full((2, 3), 0.93, np.float32), 1.0, np.array([0.0, 1.0, 0.0]), np.zeros(3))
    look.materials[n_parts] = white  # the floor
    if texture == "white":
        look.materials[:n_parts] = [white] * n_parts
    elif texture is not None:
        for m in look.materials[:n_parts]:
            m.texture = texture
            if texture == "wood":  # brown, and grain along the boards
                m.colors = np.array([[0.55, 0.36, 0.2], [0.33, 0.2, 0.1]], np.float32)
    big = 2 * size  # rendered at twice the size and reduced: smoother soft shadows
    cam = orbit_camera(azimuth, elevation, fit_distance(35.0) * 1.25, big, big, 35.0)
    lighting = sample_lighting(rng, "random", cam.center / np.linalg.norm(cam.center))
    lighting.shadows = True
    lighting.lights[0].direction = np.array([0.3, 1.0, 0.4]) / np.linalg.norm([0.3, 1.0, 0.4])
    lighting.lights[0].softness = 0.12
    lighting.sky = np.array([0.45, 0.45, 0.47])
    lighting.ground = np.array([0.3, 0.3, 0.3])
    all_parts = np.concatenate([parts, np.full(len(floor.faces), n_parts)])
    view = render_view_styled(scene_mesh, cam, look, lighting, all_parts, rng, np.ones(3, np.float32), 3,
                              raycasting_scene(scene_mesh))
    rgb = view.rgba[..., :3].astype(np.float32)
    floor_level = np.median(rgb[-8:], axis=(0, 1))  # make the lit floor read as the white backdrop
    rgb = np.clip(rgb * (0.96 * 255 / np.maximum(floor_level, 1)), 0, 255).astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.LANCZOS))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, family, seed, texture, az, el in PHOTOS:
        img = photo(family, seed, texture, az, el)
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=80)
        with atomic_path(OUT / name) as tmp:
            tmp.write_bytes(buf.getvalue())
        print(f"wrote {OUT / name}")


if __name__ == "__main__":
    main()
