"""``lift3d convert`` and ``lift3d info``."""

from __future__ import annotations

from pathlib import Path

import typer

from lift3d.errors import InputError


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
    app.command("info")(info)


def convert(
    src: Path = typer.Argument(..., help="Input file: mesh (.obj .ply .stl .off .glb .gltf .usdz .usda .usdc), "
                                         "points (.ply .pcd .xyz) or voxels (.binvox .npz)."),
    dst: Path = typer.Argument(..., help="Output file; its extension picks the format (.ply: a mesh, or a point "
                                         "cloud when the input is one)."),
    res: int = typer.Option(32, "--res", help="Voxel resolution for mesh/points -> voxels."),
    points: int = typer.Option(16384, "--points", help="Number of surface samples for mesh -> points."),
    normalize: bool = typer.Option(True, "--normalize/--keep-frame",
                                   help="mesh -> voxels: fit the mesh into the canonical cube [-0.5, 0.5]^3 first "
                                        "(the grid covers that cube). Other conversions keep coordinates."),
    level: float = typer.Option(0.5, "--level", help="Iso-level for voxels -> mesh (marching cubes)."),
) -> None:
    """Convert between mesh, point cloud and voxel formats (input sizes within docs/limits.md)."""
    from lift3d import limits
    from lift3d.io import extensions, kind_of, read_any, write_any
    from lift3d.io.paths import check_outputs

    out_kind = kind_of(dst, for_output=True)
    limits.check_number(res, "--res", 1, limits.VOXEL_RESOLUTION)
    limits.check_number(points, "--points", 1, limits.POINTS)
    limits.check_number(level, "--level", 0, 1, lo_open=True, hi_open=True)
    check_outputs([dst], [src])
    kind, obj = read_any(src)
    if kind == "image":
        raise InputError(f"{src} is an image; `lift3d reconstruct` makes a 3D model from images")
    if dst.suffix.lower() in extensions(kind, writable=True):
        out_kind = kind  # a format holding both (.ply) keeps the input's kind (pick .obj, .glb... for a Poisson mesh)
    if out_kind == "mesh":
        data = _to_mesh(kind, obj, level)
    elif out_kind == "points":
        data = _to_points(kind, obj, points, level)
    else:
        data = _to_voxels(kind, obj, res, normalize)
    write_any(data, dst)
    typer.echo(f"wrote {dst}")


def _to_mesh(kind: str, obj, level: float):
    if kind == "mesh":
        return obj
    if kind == "voxels":
        from lift3d.geometry.voxels import voxels_to_mesh

        g = obj
        mesh = voxels_to_mesh(g.occupancy.astype("float32"), level=level, lo=0.0, hi=1.0)
        mesh.apply_scale(g.scale)
        mesh.apply_translation(g.translate)
        return mesh
    from lift3d.geometry.surface import points_to_mesh

    _check_spread(obj[0])
    return points_to_mesh(obj[0], obj[1])


def _check_spread(points) -> None:
    """Refuse points ``(N, 3)`` that span no volume (all on one line or one plane): no surface goes through them."""
    import numpy as np

    pts = np.asarray(points, np.float64)
    if len(pts) < 10:
        raise InputError(f"need at least 10 points to build a surface, got {len(pts)}")
    centred = pts - pts.mean(axis=0)
    spread = np.linalg.eigvalsh(centred.T @ centred)  # ascending; coordinates are within limits.COORDINATE
    if spread[-1] <= 0 or spread[0] <= 1e-10 * spread[-1]:
        shape = "one point" if spread[-1] <= 0 else "one line" if spread[1] <= 1e-10 * spread[-1] else "one plane"
        raise InputError(f"the {len(pts)} points all lie on {shape}: no surface can be built through them")


def _to_points(kind: str, obj, n: int, level: float) -> tuple:
    if kind == "points":
        return obj[0], obj[1]
    from lift3d.geometry.sampling import sample_surface

    return sample_surface(_to_mesh(kind, obj, level), n, seed=0)


def _to_voxels(kind: str, obj, res: int, normalize: bool):
    import numpy as np

    from lift3d.geometry.normalize import normalize_mesh
    from lift3d.geometry.voxels import mesh_to_voxels
    from lift3d.io.voxels import VoxelGrid

    if kind == "voxels":
        return obj
    mesh = _to_mesh(kind, obj, 0.5)
    if normalize:
        mesh = normalize_mesh(mesh)
    return VoxelGrid(mesh_to_voxels(mesh, res), np.full(3, -0.5), 1.0)


def info(file: Path = typer.Argument(..., help="A mesh, point cloud, voxel or image file.")) -> None:
    """Describe a file: counts, bounds, watertightness or occupancy."""
    import numpy as np

    from lift3d.io import read_any

    kind, obj = read_any(file)
    fmt = lambda a: "[" + ", ".join(f"{x:.4g}" for x in a) + "]"  # noqa: E731
    typer.echo(f"file: {file}\nkind: {kind}")
    if kind == "mesh":
        from lift3d.quality import weld

        solid = weld(obj)  # by position: a textured mesh's UV seams are not holes
        typer.echo(f"vertices: {len(obj.vertices)}\nfaces: {len(obj.faces)}\nwatertight: {solid.is_watertight}")
        if solid.is_watertight:
            typer.echo(f"volume: {solid.volume:.6g}")
        typer.echo(f"area: {obj.area:.6g}\nbounds: {fmt(obj.bounds[0])} .. {fmt(obj.bounds[1])}")
        typer.echo(f"colors: {obj.visual.kind or 'none'}")
    elif kind == "points":
        pts, normals, colors = obj
        typer.echo(f"points: {len(pts)}\nnormals: {normals is not None}\ncolors: {colors is not None}")
        typer.echo(f"bounds: {fmt(pts.min(0))} .. {fmt(pts.max(0))}")
    elif kind == "image":
        from lift3d.io.images import image_size

        w, h = image_size(file)
        scaled = "" if (w, h) == (obj.shape[1], obj.shape[0]) else f" (working size {obj.shape[1]}x{obj.shape[0]})"
        typer.echo(f"size: {w}x{h}{scaled}\ntransparent: {bool((obj[..., 3] < 255).any())}")
    else:
        occ = obj.occupancy
        typer.echo(f"dims: {'x'.join(map(str, occ.shape))}\noccupied: {int(occ.sum())} "
                   f"({100 * occ.mean():.2f}%)\ntranslate: {fmt(obj.translate)}\nscale: {obj.scale:.6g}")
        if occ.any():
            idx = np.argwhere(occ)
            cell = obj.scale / np.array(occ.shape)
            typer.echo(f"occupied bounds: {fmt(obj.translate + idx.min(0) * cell)} .. "
                       f"{fmt(obj.translate + (idx.max(0) + 1) * cell)}")
