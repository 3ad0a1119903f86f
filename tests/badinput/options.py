"""Command-line option cases (ranges: NaN, negative, zero, huge) and output path cases, for every command."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .cases import Case, Shared, object_png, out, write
from .geometry import BOX_OBJ, BOX_QUADS

Build = Callable[[Path, Shared], list[str]]


def _box(d: Path) -> str:
    return str(write(d, "box.obj", BOX_OBJ + BOX_QUADS))


def _grid(d: Path) -> str:
    head = b"#binvox 1\ndim 4 4 4\ntranslate 0 0 0\nscale 1\ndata\n"
    return str(write(d, "cube.binvox", head + bytes((0, 21, 1, 22, 0, 21))))


def _image(d: Path) -> str:
    return str(write(d, "object.png", object_png()))


def _convert(src: Callable[[Path], str], dst: str, *opts: str) -> Build:
    return lambda d, s: ["convert", src(d), out(d, dst), *opts]


def _reconstruct(*opts: str, output: str = "model.glb") -> Build:
    return lambda d, s: ["reconstruct", _image(d), "-o", out(d, output), "-q", *opts]


def _evaluate(*opts: str) -> Build:
    return lambda d, s: ["evaluate", str(s.checkpoint), str(s.dataset), "--quiet", *opts]


def _show(*opts: str) -> Build:
    return lambda d, s: ["data", "show", str(s.dataset), "-o", out(d, "sheet.png"), *opts]


def _generate(*opts: str) -> Build:
    base = ["-n", "1", "--categories", "bottle", "--views", "1", "--image-size", "16", "--workers", "1", "--quiet"]
    return lambda d, s: ["data", "generate", "--out", out(d, "ds"), *base, *opts]


def _train(*opts: str) -> Build:
    def build(d: Path, s: Shared) -> list[str]:
        import yaml

        cfg = write(d, "config.yaml", yaml.safe_dump(s.config(d / "out" / "run")))
        return ["train", str(cfg), "--out", out(d, "run"), "--quiet", *opts]
    return build


# name -> (build, message regex (None: a click usage error), pending reason); every option case expects exit 2
OPTIONS: dict[str, tuple[Build, str | None, str | None]] = {
    "convert_res_zero": (_convert(_box, "a.binvox", "--res", "0"), "--res", None),
    "convert_res_negative": (_convert(_box, "a.binvox", "--res", "-1"), "--res", None),
    "convert_res_huge": (_convert(_box, "a.binvox", "--res", "100000"), "--res", None),
    "convert_res_not_a_number": (_convert(_box, "a.binvox", "--res", "abc"), None, None),
    "convert_res_nan": (_convert(_box, "a.binvox", "--res", "nan"), None, None),
    "convert_points_zero": (_convert(_box, "a.xyz", "--points", "0"), "--points", None),
    "convert_points_negative": (_convert(_box, "a.xyz", "--points", "-10"), "--points", None),
    "convert_points_huge": (_convert(_box, "a.xyz", "--points", "10000000000"), "--points", None),
    "convert_level_nan": (_convert(_grid, "a.obj", "--level", "nan"), "--level", None),
    "convert_level_inf": (_convert(_grid, "a.obj", "--level", "inf"), "--level", None),
    "convert_level_negative": (_convert(_grid, "a.obj", "--level", "-1"), "--level", None),
    "convert_level_above_one": (_convert(_grid, "a.obj", "--level", "2"), "--level", None),
    "convert_level_zero": (_convert(_grid, "a.obj", "--level", "0"), "--level", None),
    "reconstruct_threshold_nan": (_reconstruct("--threshold", "nan"), "threshold", None),
    "reconstruct_threshold_negative": (_reconstruct("--threshold", "-1"), "threshold", None),
    "reconstruct_threshold_zero": (_reconstruct("--threshold", "0"), "threshold", None),
    "reconstruct_threshold_one": (_reconstruct("--threshold", "1"), "threshold", None),
    "reconstruct_threshold_inf": (_reconstruct("--threshold", "inf"), "threshold", None),
    "reconstruct_resolution_for_voxel_model": (_reconstruct("--resolution", "128"), "resolution", None),
    "reconstruct_occupancy_resolution_zero": (_reconstruct("--model", "occupancy", "--resolution", "0"),
                                              "resolution", None),
    "reconstruct_occupancy_resolution_negative": (_reconstruct("--model", "occupancy", "--resolution", "-64"),
                                                  "resolution", None),
    "reconstruct_occupancy_resolution_huge": (_reconstruct("--model", "occupancy", "--resolution", "100000"),
                                              "resolution", None),
    "reconstruct_occupancy_resolution_odd": (_reconstruct("--model", "occupancy", "--resolution", "77"),
                                             "resolution", None),
    "reconstruct_smooth_negative": (_reconstruct("--smooth", "-1"), "--smooth", None),
    "reconstruct_smooth_huge": (_reconstruct("--smooth", "1000000000"), "--smooth", None),
    "reconstruct_threads_negative": (_reconstruct("--threads", "-1"), "--threads", None),
    "reconstruct_threads_huge": (_reconstruct("--threads", "1000000"), "--threads", None),
    "reconstruct_unknown_model": (_reconstruct("--model", "voxle"), "voxle", None),
    "reconstruct_model_and_checkpoint": (lambda d, s: _reconstruct("--model", "voxel", "--checkpoint",
                                                                   str(s.checkpoint))(d, s), "checkpoint", None),
    "reconstruct_preview_not_png": (_reconstruct("--preview", "preview.jpg"), "preview", None),
    "reconstruct_folder_format_unknown": (lambda d, s: ["reconstruct", _image(d), str(write(d, "b.png", object_png())),
                                                        "-o", out(d, "models"), "--format", "xyz2", "-q"],
                                          "xyz2", None),
    "reconstruct_no_image": (lambda d, s: ["reconstruct", "-o", out(d, "model.glb")], None, None),
    "reconstruct_unknown_option": (_reconstruct("--bogus"), None, None),
    "train_epochs_zero": (_train("--epochs", "0"), "epochs", None),
    "train_epochs_negative": (_train("--epochs", "-1"), "epochs", None),
    "train_max_minutes_nan": (_train("--max-minutes", "nan"), "max.minutes", None),
    "train_max_minutes_negative": (_train("--max-minutes", "-5"), "max.minutes", None),
    "evaluate_views_zero": (_evaluate("--views", "0"), "views", None),
    "evaluate_views_negative": (_evaluate("--views", "-1"), "views", None),
    "evaluate_views_more_than_rendered": (_evaluate("--views", "100"), "views", None),
    "evaluate_split_unknown": (_evaluate("--split", "tset"), "tset|split", None),
    "evaluate_threshold_nan": (_evaluate("--threshold", "nan"), "threshold", None),
    "evaluate_threshold_above_one": (_evaluate("--threshold", "2"), "threshold", None),
    "show_index_out_of_range": (_show("-i", "99"), "index|99", None),
    "show_index_negative": (_show("-i", "-1"), "index|-1", None),
    "show_views_zero": (_show("--views", "0"), "views", None),
    "show_views_negative": (_show("--views", "-3"), "views", None),
    "show_split_unknown": (_show("--split", "tset"), "tset|split", None),
    "generate_shapes_zero": (_generate("-n", "0"), "shapes|-n", None),
    "generate_shapes_negative": (_generate("-n", "-1"), "shapes|-n", None),
    "generate_views_zero": (_generate("--views", "0"), "views", None),
    "generate_views_huge": (_generate("--views", "100000"), "views", None),
    "generate_image_size_tiny": (_generate("--image-size", "4"), "image.size", None),
    "generate_image_size_huge": (_generate("--image-size", "100000"), "image.size", None),
    "generate_voxel_res_zero": (_generate("--voxel-res", "0"), "voxel.res|resolution", None),
    "generate_voxel_res_huge": (_generate("--voxel-res", "100000"), "voxel.res", None),
    "generate_workers_zero": (_generate("--workers", "0"), "workers", None),
    "generate_workers_negative": (_generate("--workers", "-1"), "workers", None),
    "generate_unknown_category": (_generate("--categories", "dragon"), "dragon", None),
    "generate_unknown_appearance": (_generate("--appearance", "shiny"), "shiny|appearance", None),
    "generate_unknown_split": (_generate("--only-split", "tset"), "tset|split", None),
    "generate_unknown_up_axis": (_generate("--up", "+w"), r"\+w|up", None),
    "generate_unknown_voxel_mode": (_generate("--voxel-mode", "fuzzy"), "fuzzy|voxel.mode", None),
    "generate_meshes_folder_missing": (lambda d, s: _generate("--meshes", str(d / "in" / "nomeshes"))(d, s),
                                       "nomeshes", None),
}


# ------------------------------------------------------------------------------------------------------- outputs
def _png_named_glb(d: Path, s: Shared) -> list[str]:
    src = str(write(d, "photo.glb", object_png()))
    return ["reconstruct", src, "-o", src, "-q"]


def _same_via_dotdot(d: Path, s: Shared) -> list[str]:
    return ["convert", _box(d), str(d / "in" / ".." / "in" / "box.obj")]


def _same_ply(d: Path, s: Shared) -> list[str]:
    src = str(write(d, "cloud.ply", "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
                                    "property float z\nend_header\n0 0 0\n1 0 0\n"))
    return ["convert", src, src]


def _mkdir(d: Path, name: str) -> str:
    (d / "out" / name).mkdir(parents=True)
    return out(d, name)


def _unwritable(d: Path, name: str) -> str:
    """A path in a folder this process cannot write: a read-only folder, or ``/sys`` when running as root."""
    if os.geteuid() != 0:
        folder = d / "out" / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        return str(folder / name)
    return f"/sys/{name}"


def _parent_is_file(d: Path, s: Shared) -> list[str]:
    write(d, "notes.txt", "a file, not a folder")
    return ["reconstruct", _image(d), "-o", str(d / "in" / "notes.txt" / "model.glb"), "-q"]


def _folder_output_is_file(d: Path, s: Shared) -> list[str]:
    target = write(d, "results", "a file")
    return ["reconstruct", _image(d), str(write(d, "b.png", object_png())), "-o", str(target), "-q"]


def _json_to_folder(d: Path, s: Shared) -> list[str]:
    return _evaluate("--json", _mkdir(d, "metrics.json"))(d, s)


def _train_out_is_file(d: Path, s: Shared) -> list[str]:
    argv = _train()(d, s)
    target = write(d, "run_file", "x")
    return argv[:2] + ["--out", str(target)] + argv[4:]


# name -> (build, code, message regex, pending, creates)
OUTPUTS: dict[str, tuple[Build, int, str | None, str | None, str | None]] = {
    "reconstruct_output_is_the_input": (_png_named_glb, 2, "photo.glb", None, None),
    "convert_output_is_the_input": (lambda d, s: ["convert", _box(d), str(d / "in" / "box.obj")], 2, "box.obj|same",
                                    None, None),
    "convert_output_is_the_input_via_dotdot": (_same_via_dotdot, 2, "box.obj|same", None, None),
    "convert_output_is_the_input_ply": (_same_ply, 2, "cloud.ply|same", None, None),
    "reconstruct_output_is_existing_folder": (lambda d, s: _reconstruct()(d, s)[:3] + [_mkdir(d, "model.glb"), "-q"],
                                              2, "model.glb", None, None),
    "convert_output_is_existing_folder": (lambda d, s: ["convert", _box(d), _mkdir(d, "x.binvox")], 2, "x.binvox",
                                          None, None),
    "reconstruct_unwritable_folder": (lambda d, s: ["reconstruct", _image(d), "-o", _unwritable(d, "m.glb"), "-q"],
                                      2, "m.glb", None, None),
    "convert_unwritable_folder": (lambda d, s: ["convert", _box(d), _unwritable(d, "c.binvox")], 2, "c.binvox",
                                  None, None),
    "reconstruct_preview_unwritable": (lambda d, s: _reconstruct("--preview", _unwritable(d, "p.png"))(d, s), 2,
                                       "p.png", None, None),
    "reconstruct_parent_is_a_file": (_parent_is_file, 2, "notes.txt", None, None),
    "reconstruct_folder_output_is_a_file": (_folder_output_is_file, 2, "results", None, None),
    "reconstruct_unsupported_extension": (_reconstruct(output="model.xyz2"), 2, "xyz2", None, None),
    "reconstruct_no_extension": (_reconstruct(output="model"), 2, "model", None, None),
    "reconstruct_image_extension": (_reconstruct(output="model.png"), 2, r"\.png", None, None),
    "convert_unsupported_extension": (_convert(_box, "a.jpg"), 2, r"\.jpg", None, None),
    "convert_name_too_long": (_convert(_box, "x" * 300 + ".binvox"), 2, "xxxx|too long|name", None, None),
    "evaluate_json_is_a_folder": (_json_to_folder, 2, "metrics.json", None, None),
    "show_output_is_a_folder": (lambda d, s: _show()(d, s)[:-2] + ["-o", _mkdir(d, "sheet.png")], 2, "sheet.png",
                                None, None),
    "generate_out_is_a_file": (lambda d, s: _generate()(d, s)[:3] + [str(write(d, "dsfile", "x"))]
                               + _generate()(d, s)[4:], 2, "dsfile", None, None),
    "train_out_is_a_file": (_train_out_is_file, 2, "run_file", None, None),
    "convert_into_missing_folders": (_convert(_box, "a/b/c/box.binvox"), 2, "a/b/c", None, None),
    # odd but valid

    "convert_unicode_and_spaces": (_convert(_box, "modèle 3d ü.binvox"), 0, None, None, "out/modèle 3d ü.binvox"),
    "convert_overwrites_existing_output": (lambda d, s: (write(d, "../out/old.stl", "old"),
                                                         ["convert", _box(d), out(d, "old.stl")])[1], 0, None, None,
                                           "out/old.stl"),
    "reconstruct_upper_case_output_extension": (_reconstruct(output="MODEL.GLB"), 0, None, None, "out/MODEL.GLB"),
}


def cases() -> list[Case]:
    found = [Case(f"option/{k}", "option", b, message=m, usage=m is None, pending=p,
                  seconds=5 if k.startswith("generate") else 15) for k, (b, m, p) in OPTIONS.items()]
    return found + [Case(f"output/{k}", "output", b, code=c, message=m, pending=p, creates=cr)
                    for k, (b, c, m, p, cr) in OUTPUTS.items()]
