"""lift3d Blender scene script: a 3D model -> a lit, framed, textured Blender scene (.blend) or an FBX file for game
engines, and a preview render.

Runs inside Blender's own Python (only ``bpy``, ``mathutils`` and the standard library; Blender 3.4 to 5.x):

    blender -b --factory-startup --python-exit-code 1 -P scene_script.py -- MODEL --blend scene.blend \\
        [--render preview.png] [--size 512] [--samples 32] [--smooth-angle 30]
    python scene_script.py -- MODEL --blend scene.blend ...      (a Python with the ``bpy`` module from PyPI)
    ... -- MODEL --fbx model.fbx ...                              (FBX instead of .blend: the texture embedded)

MODEL is a .glb, .gltf, .obj, .ply or .stl file. Steps: empty the scene; import MODEL; shade smooth (edges sharper
than --smooth-angle stay sharp); make every material a Principled BSDF whose Base Color comes from the model's
texture image (or its vertex colours), with roughness 0.6 and metallic 0 where the model gives no such values; a
camera looking at the bounding box from a 3/4 view above; a sun and a soft world light; Cycles on the CPU with few
samples and a transparent background; pack the images into the .blend and save it (or, with --fbx, export the
meshes to FBX: +Y up, front +Z, 1 unit = 1 m, the packed texture embedded); render the preview if asked.

The last line it prints starts with ``LIFT3D_SUMMARY`` and holds a JSON summary (objects, materials, where each
Base Color comes from, the image sizes, timings); a failure prints one ``LIFT3D_ERROR`` line and exits with 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys
import time

import bpy
from mathutils import Matrix, Vector

SUMMARY = "LIFT3D_SUMMARY "
ERROR = "LIFT3D_ERROR "
FORMATS = (".glb", ".gltf", ".obj", ".ply", ".stl")
# Importer operators by extension, newest first (Blender 3.x had Python add-ons, 4.x has C++ importers).
IMPORTERS = {
    ".glb": [("import_scene", "gltf")], ".gltf": [("import_scene", "gltf")],
    ".obj": [("wm", "obj_import"), ("import_scene", "obj")],
    ".ply": [("wm", "ply_import"), ("import_mesh", "ply")],
    ".stl": [("wm", "stl_import"), ("import_mesh", "stl")],
}
ADDONS = ("io_scene_gltf2", "io_scene_obj", "io_mesh_ply", "io_mesh_stl", "io_scene_fbx", "cycles")
VIEW = Vector((1.0, -1.3, 0.9)).normalized()  # camera: front (-Y) right, above
SUN = Vector((0.6, -0.8, 1.2)).normalized()


class SceneError(Exception):
    """A problem with the model or the arguments, reported as one line."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    args = argv[argv.index("--") + 1:] if "--" in argv else argv[1:]
    p = argparse.ArgumentParser(prog="scene_script.py", description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="the model: " + " ".join(FORMATS))
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--blend", help="the .blend file to write")
    out.add_argument("--fbx", help="write this FBX file (meshes, materials, texture embedded) instead of a .blend")
    p.add_argument("--render", help="also render a preview PNG here")
    p.add_argument("--size", type=int, default=512, help="preview width and height in pixels")
    p.add_argument("--samples", type=int, default=32, help="Cycles samples per pixel")
    p.add_argument("--smooth-angle", type=float, default=30.0, help="edges sharper than this (degrees) stay sharp")
    p.add_argument("--up", choices=("Y", "Z"), default="Y",
                   help="the up axis of a .ply or .stl model (glTF is +Y up by definition; OBJ is read as +Y up)")
    return p.parse_args(args)


def find_op(module: str, name: str):
    """``bpy.ops.<module>.<name>`` when this Blender has that operator, else None."""
    op = getattr(getattr(bpy.ops, module), name)
    try:
        op.get_rna_type()
    except (KeyError, AttributeError):
        return None
    return op


def last_error(text: str) -> str:
    """The line of a Blender operator error naming the exception (``ValueError: ...``), else its first line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    named = [ln for ln in lines if ln.split(":")[0].endswith(("Error", "Exception"))]
    return (named or lines or ["unknown error"])[-1 if named else 0]


def enable_addons() -> None:
    import addon_utils

    for name in ADDONS:
        try:
            addon_utils.enable(name, default_set=True)
        except Exception:  # an add-on this Blender version does not ship
            pass


def numpy_aliases() -> None:
    """Debian 12's Blender 3.4 glTF importer uses ``numpy.bool``, which numpy 1.24 (Debian 12's) removed: put the
    removed aliases back, in Blender's process only, where they are missing."""
    try:
        import numpy
    except ImportError as exc:
        raise SceneError(f"this Blender's Python has no numpy, which its importers need (Debian: apt install "
                         f"python3-numpy): {exc}") from exc
    for name, value in (("bool", bool), ("int", int), ("float", float), ("object", object)):
        if name not in numpy.__dict__:
            setattr(numpy, name, value)


def import_model(path: str, up: str = "Y") -> list:
    numpy_aliases()
    ext = os.path.splitext(path)[1].lower()
    for module, name in IMPORTERS[ext]:
        op = find_op(module, name)
        if op is not None:
            break
    else:
        raise SceneError(f"this Blender ({bpy.app.version_string}) has no importer for {ext} files")
    try:
        result = op(filepath=path)
    except RuntimeError as exc:
        raise SceneError(f"Blender could not import {path}: {last_error(str(exc))}") from exc
    if "FINISHED" not in result:
        raise SceneError(f"Blender could not import {path}")
    meshes = [o for o in bpy.context.scene.objects if o.type == "MESH" and len(o.data.polygons) > 0]
    if not meshes:
        raise SceneError(f"{path} holds no mesh with faces")
    if ext in (".ply", ".stl") and up == "Y":  # their importers keep the file's axes; Blender is +Z up
        turn = Matrix.Rotation(math.radians(90.0), 4, "X")  # +Y -> +Z and +Z -> -Y: the front faces -Y, as glTF
        for me in {o.data for o in meshes}:
            me.transform(turn)
            me.update()
        bpy.context.view_layer.update()
    return meshes


def gltf_materials(path: str) -> list[dict]:
    """The ``materials`` of a .glb or .gltf file's JSON (an empty list for other formats)."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in (".glb", ".gltf"):
        return []
    try:
        with open(path, "rb") as f:
            data = f.read()
        if ext == ".glb":
            (length,) = struct.unpack_from("<I", data, 12)
            data = data[20:20 + length]
        materials = json.loads(data).get("materials", [])
    except (OSError, ValueError, struct.error, AttributeError):  # the importer read it: keep its defaults
        return []
    return [m for m in materials if isinstance(m, dict)] if isinstance(materials, list) else []


def pbr_given(materials: list[dict]) -> tuple[bool, bool]:
    """-> whether any glTF material states its (metallic, roughness): a factor or a metallic-roughness texture.
    glTF's defaults are metallic 1 and roughness 1 (a dark mirror), which few reconstructed models mean."""
    pbr = [m.get("pbrMetallicRoughness", {}) for m in materials]
    texture = any("metallicRoughnessTexture" in m for m in pbr)
    return texture or any("metallicFactor" in m for m in pbr), texture or any("roughnessFactor" in m for m in pbr)


def shade_smooth(meshes: list, angle_deg: float) -> None:
    angle = math.radians(angle_deg)
    for obj in meshes:
        me = obj.data
        me.polygons.foreach_set("use_smooth", [True] * len(me.polygons))
        if hasattr(me, "set_sharp_from_angle"):  # Blender 4.1+
            me.set_sharp_from_angle(angle=angle)
        elif hasattr(me, "use_auto_smooth"):  # up to 4.0
            me.use_auto_smooth = True
            me.auto_smooth_angle = angle
        me.update()


def upstream(socket, kind: str, depth: int = 8) -> list:
    """Nodes of type ``kind`` (e.g. ``"TEX_IMAGE"``) feeding ``socket``, through any nodes between."""
    found = []
    for link in socket.links if depth > 0 else []:
        node = link.from_node
        if node.type == kind:
            found.append(node)
        for inp in node.inputs:
            found += upstream(inp, kind, depth - 1)
    return found


def principled(mat) -> object:
    """The Principled BSDF feeding ``mat``'s output, made (and wired to the texture image, if any) when missing."""
    if mat.node_tree is None:  # Blender 5 always has a node tree (use_nodes is deprecated there)
        mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    outputs = [n for n in nodes if n.type == "OUTPUT_MATERIAL"]
    out = next((n for n in outputs if n.is_active_output), outputs[0] if outputs else None)
    if out is None:
        out = nodes.new("ShaderNodeOutputMaterial")
    surface = out.inputs["Surface"]
    bsdfs = upstream(surface, "BSDF_PRINCIPLED", depth=1)
    if bsdfs:
        return bsdfs[0]
    bsdf = nodes.new("ShaderNodeBsdfPrincipled")  # e.g. an unlit glTF material (emission): replace it
    links.new(bsdf.outputs["BSDF"], surface)
    return bsdf


def colour_attribute(me) -> str | None:
    attrs = getattr(me, "color_attributes", None)
    if attrs is not None and len(attrs):
        return attrs[0].name
    return me.vertex_colors[0].name if getattr(me, "vertex_colors", None) else None


def fix_materials(meshes: list, metallic_given: bool, roughness_given: bool) -> list[dict]:
    """Every material a Principled BSDF with its Base Color linked to a texture image or vertex colours."""
    report, done = [], set()
    for obj in meshes:
        if not obj.data.materials:
            obj.data.materials.append(bpy.data.materials.new(f"{obj.name}_material"))
            metallic_given = roughness_given = False
        for slot, mat in enumerate(obj.data.materials):
            if mat is None:
                mat = obj.data.materials[slot] = bpy.data.materials.new(f"{obj.name}_material")
            if mat.name in done:
                continue
            done.add(mat.name)
            report.append(_fix_material(obj, mat, metallic_given, roughness_given))
    return report


def _fix_material(obj, mat, metallic_given: bool, roughness_given: bool) -> dict:
    bsdf = principled(mat)
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    base = bsdf.inputs["Base Color"]
    if not base.is_linked:
        images = [n for n in nodes if n.type == "TEX_IMAGE" and n.image is not None]
        layer = colour_attribute(obj.data)
        if images:
            links.new(images[0].outputs["Color"], base)
        elif layer is not None:
            node = nodes.new("ShaderNodeVertexColor")
            node.layer_name = layer
            links.new(node.outputs["Color"], base)
    if not metallic_given and not bsdf.inputs["Metallic"].is_linked:
        bsdf.inputs["Metallic"].default_value = 0.0
    if not roughness_given and not bsdf.inputs["Roughness"].is_linked:
        bsdf.inputs["Roughness"].default_value = 0.6
    images = [n.image for n in upstream(base, "TEX_IMAGE") if n.image is not None]
    source = "image" if images else "color_attribute" if upstream(base, "VERTEX_COLOR") else "value"
    return {"name": mat.name, "principled": True, "base_color": source,
            "image": images[0].name if images else None,
            "image_size": list(images[0].size) if images else None,
            "metallic": round(bsdf.inputs["Metallic"].default_value, 3),
            "roughness": round(bsdf.inputs["Roughness"].default_value, 3)}


def bounds(meshes: list) -> tuple[Vector, Vector]:
    pts = [o.matrix_world @ Vector(c) for o in meshes for c in o.bound_box]
    lo = Vector([min(p[i] for p in pts) for i in range(3)])
    hi = Vector([max(p[i] for p in pts) for i in range(3)])
    return lo, hi


def fit_distance(lo: Vector, hi: Vector, angle: float, margin: float = 1.1) -> float:
    """Distance from the box centre along :data:`VIEW` at which all 8 corners of the box ``lo``..``hi`` fall
    inside a square view of field ``angle`` (radians), with ``margin`` around them."""
    centre = (lo + hi) / 2
    right = VIEW.cross(Vector((0.0, 0.0, 1.0))).normalized()
    up = right.cross(VIEW).normalized()
    tan = math.tan(angle / 2) / margin
    corners = [Vector((x, y, z)) - centre for x in (lo.x, hi.x) for y in (lo.y, hi.y) for z in (lo.z, hi.z)]
    return max(max(c.dot(VIEW) + max(abs(c.dot(right)), abs(c.dot(up))) / tan for c in corners), 1e-6)


def add_camera_and_lights(scene, lo: Vector, hi: Vector) -> None:
    centre = (lo + hi) / 2
    cam = bpy.data.cameras.new("Camera")
    cam.sensor_fit = "AUTO"
    cam.angle = math.radians(40.0)
    distance = fit_distance(lo, hi, cam.angle)
    cam.clip_start, cam.clip_end = distance * 0.01, distance * 10
    cam_obj = bpy.data.objects.new("Camera", cam)
    cam_obj.location = centre + VIEW * distance
    cam_obj.rotation_euler = (-VIEW).to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(cam_obj)
    scene.camera = cam_obj

    sun = bpy.data.lights.new("Sun", "SUN")
    sun.energy = 2.5
    sun.angle = math.radians(15.0)
    sun_obj = bpy.data.objects.new("Sun", sun)
    sun_obj.location = centre + SUN * distance
    sun_obj.rotation_euler = (-SUN).to_track_quat("-Z", "Y").to_euler()
    scene.collection.objects.link(sun_obj)

    world = bpy.data.worlds.new("World")
    scene.world = world
    if world.node_tree is None:
        world.use_nodes = True
    background = next(n for n in world.node_tree.nodes if n.type == "BACKGROUND")
    background.inputs["Color"].default_value = (0.8, 0.85, 0.9, 1.0)
    background.inputs["Strength"].default_value = 0.35


def denoiser_available() -> bool:
    try:
        import _cycles
    except ImportError:
        return False
    return bool(getattr(_cycles, "with_openimagedenoise", False))


def setup_render(scene, size: int, samples: int) -> bool:
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    denoise = denoiser_available()
    scene.cycles.use_denoising = denoise
    if hasattr(scene.cycles, "denoising_use_gpu"):
        scene.cycles.denoising_use_gpu = False
    scene.cycles.max_bounces = 4
    scene.render.resolution_x = scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.film_transparent = True
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "RGBA"
    scene.view_settings.view_transform = "Standard"
    return denoise


def pack_images() -> None:
    for img in bpy.data.images:
        if img.packed_file is None and img.source == "FILE" and img.filepath:
            try:
                img.pack()
            except RuntimeError:  # a missing side file: Blender shows it pink, the summary names no size
                pass


def texture_straight_to_base_color(meshes: list) -> None:
    """Wire each material's texture image straight to its Principled BSDF's Base Color: Blender's FBX exporter
    only follows a direct link, so a texture behind a Mix node (a glTF base-colour factor other than white, e.g.
    trimesh's 0.4 grey default) would be left out of the file. The factor's tint is dropped."""
    for mat in {m for o in meshes for m in o.data.materials if m is not None and m.node_tree is not None}:
        for bsdf in [n for n in mat.node_tree.nodes if n.type == "BSDF_PRINCIPLED"]:
            base = bsdf.inputs["Base Color"]
            if base.is_linked and base.links[0].from_node.type == "TEX_IMAGE":
                continue
            images = [n for n in upstream(base, "TEX_IMAGE") if n.image is not None]
            if images:
                mat.node_tree.links.new(images[0].outputs["Color"], base)


def export_fbx(path: str) -> None:
    """The meshes (and any empties above them) to FBX for game engines: +Y up, front +Z (as glTF), the FBX unit
    scale saying 1 unit = 1 m, the space transform baked into the meshes (no -90 degree root rotation in Y-up
    engines), face smoothing, the packed texture images embedded in the file."""
    try:
        result = bpy.ops.export_scene.fbx(
            filepath=path, object_types={"MESH", "EMPTY"}, path_mode="COPY", embed_textures=True,
            axis_forward="-Z", axis_up="Y", apply_unit_scale=True, apply_scale_options="FBX_SCALE_UNITS",
            bake_space_transform=True, mesh_smooth_type="FACE", use_mesh_modifiers=True, bake_anim=False)
    except (RuntimeError, AttributeError, TypeError) as exc:  # no FBX add-on, or one with other options
        raise SceneError(f"Blender could not export {path}: {last_error(str(exc))}") from exc
    if "FINISHED" not in result:
        raise SceneError(f"Blender could not export {path}")


def build(args: argparse.Namespace) -> dict:
    model = os.path.abspath(args.model)
    if os.path.splitext(model)[1].lower() not in FORMATS:
        raise SceneError(f"{args.model}: not a model file ({' '.join(FORMATS)})")
    if not os.path.isfile(model):
        raise SceneError(f"file not found: {args.model}")
    t0 = time.perf_counter()
    bpy.ops.wm.read_factory_settings(use_empty=True)
    enable_addons()
    scene = bpy.context.scene
    meshes = import_model(model, args.up)
    t_import = time.perf_counter() - t0
    shade_smooth(meshes, args.smooth_angle)
    gltf = gltf_materials(model)
    materials = fix_materials(meshes, *pbr_given(gltf))
    lo, hi = bounds(meshes)
    add_camera_and_lights(scene, lo, hi)
    denoise = setup_render(scene, args.size, args.samples)
    pack_images()

    t1 = time.perf_counter()
    blend = os.path.abspath(args.blend) if args.blend else None
    fbx = os.path.abspath(args.fbx) if args.fbx else None
    if fbx:
        texture_straight_to_base_color(meshes)
        export_fbx(fbx)
    else:
        scene.render.filepath = "//" + os.path.splitext(os.path.basename(blend))[0] + ".png"
        bpy.context.preferences.filepaths.save_version = 0  # no .blend1 backup beside the output
        bpy.ops.wm.save_as_mainfile(filepath=blend, compress=False)
    t_save = time.perf_counter() - t1

    t_render = None
    if args.render:
        t2 = time.perf_counter()
        final = os.path.abspath(args.render)
        part = os.path.join(os.path.dirname(final), "." + os.path.basename(final) + ".part.png")
        scene.render.filepath = part
        try:
            bpy.ops.render.render(write_still=True)
            os.replace(part, final)
        finally:
            if os.path.exists(part):
                os.remove(part)
        t_render = time.perf_counter() - t2
    return {
        "blender": bpy.app.version_string, "model": model, "blend": blend, "fbx": fbx,
        "render": os.path.abspath(args.render) if args.render else None,
        "objects": len(meshes), "vertices": sum(len(o.data.vertices) for o in meshes),
        "faces": sum(len(o.data.polygons) for o in meshes), "materials": materials,
        "texture_linked": any(m["base_color"] == "image" for m in materials),
        "gltf_base_color_factors": [m.get("pbrMetallicRoughness", {}).get("baseColorFactor") for m in gltf],
        "bounds": [list(lo), list(hi)], "size": args.size, "samples": args.samples, "denoise": denoise,
        "seconds": {"import": round(t_import, 3), "save": round(t_save, 3),
                    "render": None if t_render is None else round(t_render, 3)},
    }


def main() -> None:
    args = parse_args(sys.argv)
    try:
        summary = build(args)
    except SceneError as exc:
        print(ERROR + str(exc), flush=True)
        sys.exit(1)
    print(SUMMARY + json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
