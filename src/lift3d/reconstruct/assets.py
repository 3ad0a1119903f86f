"""From a reconstruction to the mesh each output file gets: refinement steps, face budget (levels of detail),
texture from the photos, then real-world scale and placement. The CLI and the server call this one function.

Order matters: decimation runs before the texture is baked (a texture baked on the final mesh loses nothing to
the decimation), and placement runs last (the camera fit and the projection work in the model's own frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from lift3d.errors import InputError
from lift3d.geometry.camera_fit import fit_camera
from lift3d.geometry.cameras import Camera
from lift3d.reconstruct.placement import Placement, place
from lift3d.reconstruct.texturing import Texturing, texture_mesh

MAX_LODS = 8


@dataclass
class AssetOptions:
    """What to do to the model's mesh: ``texture`` mode (resolved, see
    :func:`lift3d.reconstruct.texturing.mode_for`), ``texture_size``, ``symmetry`` fill, ``post`` refinement steps
    (:func:`lift3d.postprocess.pipeline.parse_post`), ``faces`` budgets (one per level of detail, most detailed
    first; empty = keep the mesh as is), ``placement`` and ``close`` (make an open surface watertight, see
    :func:`build_assets`)."""

    texture: str = "image"
    texture_size: int = 1024
    symmetry: bool = True
    delight: bool = False
    post: list = field(default_factory=list)
    faces: list[int] = field(default_factory=list)
    placement: Placement = field(default_factory=Placement)
    close: bool = True


@dataclass
class Asset:
    """One output: its ``path``, the final ``mesh``, how it was coloured, its ``placement`` and one-line
    ``notes``."""

    path: Path
    mesh: trimesh.Trimesh
    texturing: Texturing | None
    placement: Placement = field(default_factory=Placement)
    notes: list[str] = field(default_factory=list)


def parse_lods(spec: str | None, faces: int | None) -> list[int]:
    """``--faces N`` or ``--lod 50000,5000,500`` -> face budgets, most detailed first (LOD0 = the finest)."""
    from lift3d.limits import MESH_FACES, check_number

    if spec is not None and faces is not None:
        raise InputError("give --faces or --lod, not both")
    if faces is not None:
        budgets = [faces]
    elif spec:
        try:
            budgets = [int(float(s)) for s in spec.split(",") if s.strip()]
        except ValueError:
            raise InputError(f"--lod takes face counts separated by commas, e.g. 50000,5000,500; got {spec!r}") \
                from None
        if not 2 <= len(budgets) <= MAX_LODS:
            raise InputError(f"--lod needs 2 to {MAX_LODS} face counts, got {len(budgets)}")
        if len(set(budgets)) != len(budgets):
            raise InputError(f"--lod face counts must differ, got {spec!r}")
    else:
        return []
    for n in budgets:
        check_number(n, "--faces" if faces is not None else "--lod face count", 4, MESH_FACES.value)
    return sorted(budgets, reverse=True)


def lod_paths(path: Path, budgets: list[int]) -> list[Path]:
    """One output, or ``NAME_lod0.ext``, ``NAME_lod1.ext``... (most detailed first) for several levels of detail."""
    if len(budgets) <= 1:
        return [path]
    return [path.with_name(f"{path.stem}_lod{i}{path.suffix}") for i in range(len(budgets))]


def _closed(mesh: trimesh.Trimesh) -> tuple[trimesh.Trimesh, str]:
    """``mesh`` if it is a closed, consistently wound solid, else a watertight repair and a note saying how."""
    from lift3d.postprocess.repair import remove_small_components, repair_watertight
    from lift3d.quality import weld

    solid = weld(mesh)
    if solid.is_watertight and solid.is_winding_consistent:
        return mesh, ""
    out, how = repair_watertight(mesh)
    again = weld(out)
    if not (again.is_watertight and again.is_winding_consistent):
        # manifold3d accepts two solids touching along an edge; a file checker does not: remesh those too.
        from lift3d.postprocess.repair import voxel_remesh

        out, how = voxel_remesh(out), "voxel"
    if how == "voxel":
        out = remove_small_components(out)  # a remesh can leave crumbs where sheets were thin
    text = {"closed": "cleaned", "filled": "holes filled", "voxel": "voxel remesh at 64^3"}[how]
    return out, f"the surface was open: closed ({text})"


def build_assets(mesh: trimesh.Trimesh, path: Path, views: list[np.ndarray], masks: list[np.ndarray],
                 options: AssetOptions, cameras: list[Camera] | None = None) -> list[Asset]:
    """The reconstruction's mesh (canonical frame) -> one :class:`Asset` per level of detail.

    A surface that is not closed (the point model's trimmed Poisson surface) is made watertight first when
    ``options.close`` (hole filling, else a voxel remesh at 64^3), so every asset is a closed solid.

    Args:
        mesh: the model's refined mesh, vertices ``(V, 3)``, faces ``(F, 3)``.
        path: the output file (levels of detail get ``_lod<i>`` names, :func:`lod_paths`).
        views: the RGBA uint8 ``(H, W, 4)`` photos the mesh came from; masks: their bool ``(H, W)`` foregrounds.
        options: :class:`AssetOptions`.
        cameras: the photos' cameras in the mesh's frame; ``None`` fits them once, on the finest mesh, so every
            level of detail is coloured from the same cameras.
    """
    from lift3d.postprocess.pipeline import run_post
    from lift3d.postprocess.simplify import decimate

    notes = []
    if options.post:
        result = run_post(mesh, options.post)
        mesh = result.mesh
        notes += result.notes
    if options.close:
        mesh, note = _closed(mesh)
        notes += [note] if note else []
    fits = []
    if cameras is None and options.texture in ("image", "vertex"):
        fits = [fit_camera(mesh, m) for m in masks]
        cameras = [f.camera for f in fits]
    assets = []
    for out, budget in zip(lod_paths(path, options.faces), options.faces or [None], strict=True):
        lod, lod_notes = mesh, list(notes)
        if budget is not None:
            lod = decimate(mesh, target_faces=budget)
            if len(lod.faces) == len(mesh.faces) and budget > len(mesh.faces):
                lod_notes.append(f"the mesh has only {len(mesh.faces)} faces (asked {budget}): kept as is")
            if mesh.is_watertight and not lod.is_watertight:
                lod_notes.append(f"decimation to {budget} faces opened the surface")
        tex = None
        if options.texture != "none":
            tex = texture_mesh(lod, views, masks, options.texture, cameras=cameras,
                               texture_size=options.texture_size, symmetry=options.symmetry,
                               delight=options.delight)
            tex.fits = fits
        final = place(tex.mesh if tex is not None else lod, options.placement)
        assets.append(Asset(out, final, tex, options.placement, lod_notes))
    return assets
