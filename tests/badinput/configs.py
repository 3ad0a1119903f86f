"""Training config cases: ``lift3d train CONFIG --out RUN --quiet`` on the tiny dataset, one bad config each."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .cases import Case, Shared, out, write

Edit = Callable[[dict], None]  # changes the tiny config in place


def _set(key: str, value) -> Edit:
    """Set ``section.key`` (or a top-level key) to ``value``."""
    def edit(cfg: dict) -> None:
        *path, last = key.split(".")
        node = cfg
        for k in path:
            node = node[k]
        node[last] = value
    return edit


# name -> (edit, message regex naming the key, pending reason)
BAD_VALUES: dict[str, tuple[Edit, str] | tuple[Edit, str, str]] = {
    "unknown_section": (_set("trian", {"epochs": 1}), "trian"),
    "unknown_train_key": (_set("train.epoch", 5), r"train\.epoch"),
    "unknown_data_key": (_set("data.batchsize", 4), r"data\.batchsize"),
    "unknown_model_key": (_set("model.latnet", 64), "latnet"),
    "unknown_loss_key": (_set("loss.bse", 1.0), "bse"),
    "unknown_model_name": (_set("model.name", "voxle"), "voxle"),
    "unknown_optimizer": (_set("optim.name", "adamw2"), "adamw2"),
    "unknown_schedule": (_set("schedule.name", "cosin"), "cosin"),
    "unknown_encoder": (_set("model.encoder", {"name": "resnet9000"}), "resnet9000|encoder"),
    "section_not_a_mapping": (_set("model", "voxel"), "model"),
    "train_not_a_mapping": (_set("train", [1, 2]), "train"),
    "epochs_string": (_set("train.epochs", "ten"), r"train\.epochs"),
    "epochs_zero": (_set("train.epochs", 0), r"train\.epochs"),
    "epochs_negative": (_set("train.epochs", -1), r"train\.epochs"),
    "epochs_nan": (_set("train.epochs", float("nan")), r"train\.epochs"),
    "epochs_fractional": (_set("train.epochs", 1.5), r"train\.epochs"),
    "epochs_huge_float": (_set("train.epochs", 1e300), r"train\.epochs"),
    "epochs_bool": (_set("train.epochs", True), r"train\.epochs"),
    "lr_negative": (_set("optim.lr", -0.1), r"optim\.lr|lr"),
    "lr_zero": (_set("optim.lr", 0), r"optim\.lr|lr"),
    "lr_nan": (_set("optim.lr", float("nan")), r"optim\.lr|lr"),
    "lr_inf": (_set("optim.lr", float("inf")), r"optim\.lr|lr"),
    "lr_string": (_set("optim.lr", "fast"), r"optim\.lr|lr"),
    "batch_size_zero": (_set("data.batch_size", 0), r"data\.batch_size"),
    "batch_size_list": (_set("data.batch_size", [4]), r"data\.batch_size"),
    "image_size_zero": (_set("data.image_size", 0), r"data\.image_size|image_size"),
    "image_size_negative": (_set("data.image_size", -32), r"data\.image_size|image_size"),
    "image_size_huge": (_set("data.image_size", 10**6), r"data\.image_size|image_size"),
    "image_size_string": (_set("data.image_size", "big"), r"data\.image_size|image_size"),
    "max_views_zero": (_set("data.max_views", 0), r"data\.max_views"),
    "max_views_nan": (_set("data.max_views", float("nan")), r"data\.max_views"),
    "view_probs_wrong_length": (_set("data.view_probs", [1.0, 1.0, 1.0]), r"data\.view_probs"),
    "view_probs_negative": (_set("data.view_probs", [1.0, -2.0]), r"data\.view_probs"),
    "val_views_zero": (_set("data.val_views", [0]), r"data\.val_views"),
    "degrade_string": (_set("data.degrade", "yes"), r"data\.degrade"),
    "categories_not_a_list": (_set("data.categories", 5), r"data\.categories"),
    "grad_clip_negative": (_set("train.grad_clip", -1.0), r"train\.grad_clip"),
    "grad_clip_nan": (_set("train.grad_clip", float("nan")), r"train\.grad_clip"),
    "thresholds_out_of_range": (_set("train.thresholds", [1.5]), r"train\.thresholds"),
    "amp_unknown": (_set("train.amp", "maybe"), r"train\.amp"),
    "calibrate_bn_negative": (_set("train.calibrate_bn", -5), r"train\.calibrate_bn"),
    "threads_zero": (_set("train.threads", 0), r"train\.threads"),
    "seed_string": (_set("seed", "abc"), "seed"),
    "seed_negative": (_set("seed", -1), "seed"),
    "model_latent_string": (_set("model.latent", "big"), "latent"),
    "model_latent_zero": (_set("model.latent", 0), "latent"),
    "model_channels_negative": (_set("model.channels", [-16, 16, 8]), "channels"),
    "schedule_warmup_negative": (_set("schedule.warmup_steps", -10), "warmup_steps"),
    "data_root_missing": (_set("data.root", "/nonexistent/lift3d_dataset"), "nonexistent"),
}

# name -> (file content, message regex, pending reason): the file itself is broken
BAD_FILES: dict[str, tuple[Callable[[Path], bytes | str], str, str | None]] = {
    "empty_file": (lambda d: "", "empty", None),
    "only_comments": (lambda d: "# nothing here\n", "empty", None),
    "binary_bytes": (lambda d: np.random.default_rng(1).integers(0, 256, 512, dtype=np.uint8).tobytes(),
                     r"config\.yaml", None),
    "utf16_text": (lambda d: "train: {epochs: 1}\n".encode("utf-16"), r"config\.yaml", None),
    "unclosed_bracket": (lambda d: "model: {name: voxel\ntrain: {epochs: 1}\n", r"config\.yaml", None),
    "tab_indentation": (lambda d: "train:\n\tepochs: 1\n", r"config\.yaml", None),
    "bad_indentation": (lambda d: "train:\n  epochs: 1\n threads: 1\n", r"config\.yaml", None),
    "a_list": (lambda d: "- model\n- train\n", r"config\.yaml|mapping", None),
    "a_scalar": (lambda d: "42\n", r"config\.yaml|mapping", None),
    "python_object_tag": (lambda d: f"model: !!python/object/apply:os.mkdir ['{d / 'pwned'}']\n",
                          r"config\.yaml", None),
}


def _write_config(d: Path, cfg: dict) -> Path:
    import yaml

    return write(d, "config.yaml", yaml.safe_dump(cfg))


def _train(d: Path, config: Path, *extra: str) -> list[str]:
    return ["train", str(config), "--out", out(d, "run"), "--quiet", *extra]


def _bad_value(edit: Edit) -> Callable[[Path, Shared], list[str]]:
    def build(d: Path, s: Shared) -> list[str]:
        cfg = copy.deepcopy(s.config(d / "out" / "run"))
        edit(cfg)
        return _train(d, _write_config(d, cfg))
    return build


def _bad_file(content: Callable[[Path], bytes | str]) -> Callable[[Path, Shared], list[str]]:
    def build(d: Path, s: Shared) -> list[str]:
        return _train(d, write(d, "config.yaml", content(d)), "--data", str(s.dataset), "--epochs", "1")
    return build


def _missing(d: Path, s: Shared) -> list[str]:
    return _train(d, d / "in" / "nothere.yaml")


def _folder(d: Path, s: Shared) -> list[str]:
    (d / "in" / "folder.yaml").mkdir()
    return _train(d, d / "in" / "folder.yaml")


def cases() -> list[Case]:
    found = [Case(f"config/{k}", "config", _bad_value(v[0]), message=v[1], seconds=15, pending=(v + (None,))[2])
             for k, v in BAD_VALUES.items()]
    found += [Case(f"config/{k}", "config", _bad_file(c), message=m, seconds=15, pending=p)
              for k, (c, m, p) in BAD_FILES.items()]
    return found + [Case("config/missing_file", "config", _missing, message="nothere.yaml"),
                    Case("config/folder_named_yaml", "config", _folder, message="folder.yaml")]
