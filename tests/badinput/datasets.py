"""Dataset and camera cases (a copy of the tiny dataset, damaged) and checkpoint cases (the tiny checkpoint, damaged),
through ``data info``, ``data show``, ``evaluate``, ``train`` and ``reconstruct --checkpoint``."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cases import Case, Shared, object_png, out, pickle_payload, write

Damage = Callable[[Path], None]  # damages a dataset copy in place


def _manifest(ds: Path) -> dict:
    return json.loads((ds / "manifest.json").read_text())


def _shape(ds: Path) -> Path:
    """The folder of the first training shape (``data show --split train -i 0`` and training both read it)."""
    return ds / "shapes" / _manifest(ds)["splits"]["train"][0]


def _edit_manifest(edit: Callable[[dict], object]) -> Damage:
    def damage(ds: Path) -> None:
        m = _manifest(ds)
        new = edit(m)
        (ds / "manifest.json").write_text(json.dumps(m if new is None else new))
    return damage


def _shape_file(pattern: str, data: Callable[[bytes], bytes] | None) -> Damage:
    """Replace the first training shape's files ``pattern`` (a glob: every view, so whichever view a run reads is
    damaged) by ``data(old bytes)``, or delete them (``data`` None)."""
    def damage(ds: Path) -> None:
        for p in sorted(_shape(ds).glob(pattern)):
            if data is None:
                p.unlink()
            else:
                p.write_bytes(data(p.read_bytes()))
    return damage


def _npz_bytes(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _gt_without(key: str) -> Callable[[bytes], bytes]:
    def make(old: bytes) -> bytes:
        import io

        with np.load(io.BytesIO(old)) as z:
            return _npz_bytes(**{k: z[k] for k in z.files if k != key})
    return make


def _gt_with(**changes) -> Callable[[bytes], bytes]:
    def make(old: bytes) -> bytes:
        import io

        with np.load(io.BytesIO(old)) as z:
            return _npz_bytes(**{**{k: z[k] for k in z.files}, **changes})
    return make


def _cameras(edit: Callable[[dict], object]) -> Callable[[bytes], bytes]:
    def make(old: bytes) -> bytes:
        cams = json.loads(old)
        new = edit(cams)
        return json.dumps(cams if new is None else new).encode()
    return make


def _set_views(key: str, value) -> Callable[[dict], None]:
    def edit(cams: dict) -> None:
        for v in cams["views"]:
            v[key] = value
    return edit


def _rmtree_shape(ds: Path) -> None:
    shutil.rmtree(_shape(ds))


def _all_test(m: dict) -> None:
    for s in m["shapes"]:
        s["split"] = "test"
    m["splits"] = {"train": [], "val": [], "test": [s["id"] for s in m["shapes"]]}


def _drop_key(key: str) -> Callable[[dict], None]:
    return lambda m: m.pop(key)


def _drop_shape_key(key: str) -> Callable[[dict], None]:
    def edit(m: dict) -> None:
        for s in m["shapes"]:
            s.pop(key)
    return edit


def _set_key(key: str, value) -> Callable[[dict], None]:
    return lambda m: m.__setitem__(key, value)


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _on(message: str, *commands: str, pending: dict[str, str] | None = None) -> dict[str, tuple[str, str | None]]:
    """``{command: (message regex, pending reason)}`` for each of ``commands``."""
    return {c: (message, (pending or {}).get(c)) for c in commands}


# name -> (damage, {command: (message regex, pending reason or None)})
DATASETS: dict[str, tuple[Damage, dict[str, tuple[str, str | None]]]] = {
    "missing_manifest": ((lambda ds: (ds / "manifest.json").unlink()),
                         _on("ds|manifest|layout", "info", "show", "evaluate", "train")),
    "manifest_not_json": ((lambda ds: (ds / "manifest.json").write_text("{")),
                          _on("manifest", "info", "evaluate", "train")),
    "manifest_is_a_list": (_edit_manifest(lambda m: [1, 2, 3]), _on("manifest", "info", "evaluate", "train")),
    "manifest_shapes_is_a_dict": (_edit_manifest(_set_key("shapes", {"a": 1})),
                                  _on("manifest|shapes", "info", "train")),
    "manifest_shape_without_split": (_edit_manifest(_drop_shape_key("split")), _on("manifest|split", "info", "train")),
    "manifest_without_categories": (_edit_manifest(_drop_key("categories")),
                                    _on("manifest|categories", "info", "train")),
    "manifest_views_zero": (_edit_manifest(_set_key("views", 0)), _on("manifest|views", "evaluate", "train")),
    "manifest_views_string": (_edit_manifest(_set_key("views", "two")), _on("manifest|views", "info", "evaluate")),
    "manifest_views_more_than_on_disk": (_edit_manifest(_set_key("views", 1000)), _on("view_|views|missing", "show")),
    "missing_shape_folder": (_rmtree_shape, _on("bottle_|missing|shape", "show", "evaluate", "train")),
    "truncated_view_pngs": (_shape_file("view_*.png", _half), _on("view_0", "show", "evaluate", "train")),
    "missing_view_pngs": (_shape_file("view_*.png", None), _on("view_0", "show", "evaluate", "train")),
    "view_pngs_are_text": (_shape_file("view_*.png", lambda b: b"not a png"), _on("view_0", "train")),
    "truncated_gt_npz": (_shape_file("gt.npz", _half), _on("gt.npz", "evaluate", "train")),
    "gt_npz_without_voxels": (_shape_file("gt.npz", _gt_without("voxels32")),
                              _on("gt.npz|voxels32", "evaluate", "train")),
    "gt_npz_wrong_voxel_shape": (_shape_file("gt.npz", _gt_with(voxels32=np.zeros((8, 8, 8), np.uint8))),
                                 _on("gt.npz|voxels32|shape", "evaluate", "train")),
    "gt_npz_object_array": (_shape_file("gt.npz", _gt_with(voxels32=np.array([{}], dtype=object))),
                            _on("gt.npz|pickle|object", "evaluate", "train")),
    "no_training_shapes": (_edit_manifest(_all_test), _on("train|empty|no shapes", "train")),
    "root_is_a_file": ((lambda ds: (shutil.rmtree(ds), ds.write_text("x"))), _on("ds", "info", "evaluate", "train")),
    "empty_folder": ((lambda ds: (shutil.rmtree(ds), ds.mkdir())), _on("ds", "info", "evaluate", "train")),
    "root_missing": (shutil.rmtree, _on("ds", "info", "show", "evaluate")),
}

# cameras.json of the first training shape, read by `data show` (the contact sheet projects with them)
CAMERAS: dict[str, tuple[Callable[[bytes], bytes] | None, str | None]] = {
    "missing_file": (None, None),
    "not_json": (lambda b: b"{\"views\": [", None),
    "no_views_key": (_cameras(lambda c: {}), None),
    "views_not_a_list": (_cameras(lambda c: {"views": 5}), None),
    "fewer_views_than_manifest": (_cameras(lambda c: {"views": c["views"][:1]}), None),
    "intrinsics_wrong_shape": (_cameras(_set_views("K", [1, 2, 3])), None),
    "intrinsics_nan": (_cameras(_set_views("K", [[float("nan")] * 3] * 3)), None),
    "rotation_string": (_cameras(_set_views("R", "identity")), None),
    "width_zero": (_cameras(_set_views("width", 0)), None),
    "width_string": (_cameras(_set_views("width", "wide")), None),
}


def _command(command: str, d: Path, s: Shared, ds: Path) -> list[str]:
    if command == "info":
        return ["data", "info", str(ds)]
    if command == "show":
        return ["data", "show", str(ds), "--split", "train", "-i", "0", "-o", out(d, "sheet.png")]
    if command == "evaluate":
        return ["evaluate", str(s.checkpoint), str(ds), "--split", "train", "--quiet", "--json", out(d, "m.json")]
    import yaml

    cfg = write(d, "config.yaml", yaml.safe_dump(s.config(d / "out" / "run")))
    return ["train", str(cfg), "--data", str(ds), "--out", out(d, "run"), "--quiet"]


def _damaged(damage: Damage, command: str) -> Callable[[Path, Shared], list[str]]:
    def build(d: Path, s: Shared) -> list[str]:
        ds = s.copy_dataset(d / "in" / "ds")
        damage(ds)
        return _command(command, d, s, ds)
    return build


# ------------------------------------------------------------------------------------------------- checkpoints
def _ckpt(edit_tensors: Callable[[dict], None] | None = None, edit_meta: Callable[[dict], None] | None = None
          ) -> Callable[[Path, Shared], bytes]:
    """The tiny checkpoint re-saved with its tensors and/or its raw metadata strings (JSON texts) edited."""
    def make(d: Path, s: Shared) -> bytes:
        from safetensors import safe_open
        from safetensors.torch import load_file, save

        tensors = load_file(str(s.checkpoint))
        with safe_open(str(s.checkpoint), framework="pt") as f:
            meta = dict(f.metadata())
        if edit_tensors:
            edit_tensors(tensors)
        if edit_meta:
            edit_meta(meta)
        return save(tensors, metadata=meta)
    return make


def _config(edit: Callable[[dict], object]) -> Callable[[dict], None]:
    def change(meta: dict) -> None:
        cfg = json.loads(meta["config"])
        new = edit(cfg)
        meta["config"] = json.dumps(cfg if new is None else new)
    return change


def _model(key: str, value) -> Callable[[dict], None]:
    return _config(lambda c: c["model"].__setitem__(key, value))


def _first_conv(tensors: dict) -> None:
    k = next(k for k, v in tensors.items() if v.ndim == 4)
    tensors[k] = tensors[k][:, :1].clone()


def _torch_pickle(d: Path, s: Shared) -> bytes:
    import io

    import torch

    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, buf)
    return buf.getvalue()


def _raw(data: bytes) -> Callable[[Path, Shared], bytes]:
    return lambda d, s: data


def _half_ckpt(d: Path, s: Shared) -> bytes:
    data = s.checkpoint.read_bytes()
    return data[: len(data) // 2]


# name -> (file name, content(d, shared), message regex, pending reason, also through `evaluate`)
CHECKPOINTS: dict[str, tuple[str, Callable[[Path, Shared], bytes], str, str | None, bool]] = {
    "pickle_pt_with_payload": ("model.pt", lambda d, s: pickle_payload(d / "pwned"), r"model\.pt", None, True),
    "pickle_named_safetensors": ("pickle.safetensors", lambda d, s: pickle_payload(d / "pwned"), "pickle", None,
                                 False),
    "torch_save_zip": ("torch.pt", _torch_pickle, r"torch\.pt", None, False),
    "zero_byte": ("zero.safetensors", _raw(b""), "zero", None, True),
    "truncated": ("half.safetensors", _half_ckpt, "half", None, True),
    "header_length_huge": ("hugehead.safetensors", _raw(b"\xff" * 7 + b"\x7f" + b"{}"), "hugehead", None, False),
    "header_not_json": ("notjson.safetensors", _raw((8).to_bytes(8, "little") + b"{{{{{{{{"), "notjson", None,
                        False),
    "no_metadata": ("nometa.safetensors", _ckpt(edit_meta=lambda m: m.clear()), "nometa|config", None, True),
    "config_not_json": ("badconfig.safetensors", _ckpt(edit_meta=lambda m: m.__setitem__("config", "{bad")),
                        "badconfig", None, False),
    "config_deeply_nested": ("deep.safetensors",
                             _ckpt(edit_meta=lambda m: m.__setitem__("config", "[" * 100_000 + "]" * 100_000)),
                             "deep", None, False),
    "config_without_model": ("nomodel.safetensors", _ckpt(edit_meta=_config(lambda c: c.pop("model"))),
                             "nomodel|model", None, False),
    "config_is_a_list": ("listconfig.safetensors", _ckpt(edit_meta=_config(lambda c: [1, 2])), "listconfig|config",
                         None, False),
    "unknown_model_name": ("unknown.safetensors", _ckpt(edit_meta=_model("name", "voxle")), "voxle", None, False),
    "enormous_layer": ("enormous.safetensors", _ckpt(edit_meta=_model("latent", 10**12)), "enormous|latent|param",
                       None, True),
    "negative_channels": ("negchan.safetensors", _ckpt(edit_meta=_model("channels", [-4, 16, 8])),
                          "negchan|channels", None, False),
    "image_size_zero": ("imgsize.safetensors", _ckpt(edit_meta=_config(lambda c: c["data"].__setitem__(
        "image_size", 0))), "imgsize|image_size", None, False),
    "data_section_a_list": ("datalist.safetensors", _ckpt(edit_meta=_config(lambda c: c.__setitem__("data", []))),
                            "datalist|data", None, False),
    "wrong_tensor_shapes": ("wrongshape.safetensors", _ckpt(edit_tensors=_first_conv), "wrongshape", None,
                            True),
    "missing_tensors": ("missing.safetensors", _ckpt(edit_tensors=lambda t: [t.pop(k) for k in list(t)[::2]]),
                        "missing", None, False),
    "extra_tensor": ("extra.safetensors", _ckpt(edit_tensors=lambda t: t.__setitem__("bogus.weight", t[next(
        iter(t))].clone())), "extra|bogus", None, False),
    "nan_weights": ("nan.safetensors", _ckpt(edit_tensors=lambda t: [v.fill_(float("nan")) for v in t.values()
                                                                     if v.is_floating_point()]),
                    r"nan\.safetensors|nan|finite", None, False),
    "threshold_not_a_number": ("thr.safetensors", _ckpt(edit_meta=lambda m: m.__setitem__(
        "meta", json.dumps({"threshold": "abc"}))), "thr|threshold", None, False),
    "meta_not_json": ("badmeta.safetensors", _ckpt(edit_meta=lambda m: m.__setitem__("meta", "{")), "badmeta", None,
                      False),
}


def _checkpoint(file: str, content: Callable[[Path, Shared], bytes], command: str
                ) -> Callable[[Path, Shared], list[str]]:
    def build(d: Path, s: Shared) -> list[str]:
        ckpt = write(d, file, content(d, s))
        if command == "evaluate":
            return ["evaluate", str(ckpt), str(s.dataset), "--quiet", "--json", out(d, "m.json")]
        img = write(d, "object.png", object_png())
        return ["reconstruct", str(img), "--checkpoint", str(ckpt), "-o", out(d, "model.glb"), "-q"]
    return build


def _folder_checkpoint(d: Path, s: Shared) -> list[str]:
    (d / "in" / "folder.safetensors").mkdir()
    return ["reconstruct", str(write(d, "object.png", object_png())), "--checkpoint", str(d / "in" /
            "folder.safetensors"), "-o", out(d, "model.glb"), "-q"]


def cases() -> list[Case]:
    found = [Case(f"dataset/{name}/{command}", "dataset", _damaged(damage, command), message=message,
                  seconds=15 if command == "train" else 10, pending=pending)
             for name, (damage, commands) in DATASETS.items() for command, (message, pending) in commands.items()]
    found += [Case(f"cameras/{name}", "cameras", _damaged(_shape_file("cameras.json", edit), "show"),
                   message="cameras", pending=pending) for name, (edit, pending) in CAMERAS.items()]
    found += [Case(f"checkpoint/{name}/{command}", "checkpoint", _checkpoint(file, content, command),
                   message=message, pending=pending)
              for name, (file, content, message, pending, evaluate) in CHECKPOINTS.items()
              for command in (("reconstruct", "evaluate") if evaluate else ("reconstruct",))]
    found.append(Case("checkpoint/folder", "checkpoint", _folder_checkpoint, message="folder.safetensors"))
    found.append(Case("checkpoint/valid_tiny_evaluate", "checkpoint", _checkpoint(
        "tiny.safetensors", lambda d, s: s.checkpoint.read_bytes(), "evaluate"), code=0, creates="out/m.json"))
    return found
