"""Config and manifest validation: every mistake is one line naming the key (or the line and column of a YAML
error), found before anything is built. The schema is `lift3d.train.config.FIELDS`."""

from __future__ import annotations

import json

import pytest

from lift3d.cli import main
from lift3d.data.dataset import read_manifest
from lift3d.errors import DatasetError, InputError, Lift3DError
from lift3d.train.config import DEFAULTS, FIELDS, config_differences, load_config
from lift3d.train.schema import Int, ListOf, Num, check_value

MODEL = "model: {name: voxel}\n"


def cli(capsys, *args) -> tuple[int, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err.strip()


def load_text(tmp_path, text: str | bytes) -> dict:
    path = tmp_path / "c.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return load_config(path)


@pytest.mark.parametrize(("text", "match"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", r"not a text \(UTF-8\) file"),
    ("model:\n  name: voxel\n   depth: 3\n", r"not valid YAML at line 3, column 9: mapping values are not allowed"),
    ("data: [1, 2\n", r"not valid YAML at line 2, column 1"),
    ("a\x00b: 1\n", r"not valid YAML.*unacceptable character"),
    ("", r"is empty; it must at least name the model"),
    ("# only a comment\n", r"is empty"),
    ("data: {image_size: 64}\n", r"names no model; add e\.g\. `model: \{name: voxel\}`"),
    ("- 1\n- 2\n", r"must be a mapping of sections, got a list"),
    (MODEL + "train: {epochs: 0}\n", r"train\.epochs must be a positive integer, got 0"),
    (MODEL + "train: {epochs: 2.5}\n", r"train\.epochs must be a positive integer, got"),
    (MODEL + "train: {epochs: true}\n", r"train\.epochs must be a positive integer, got"),
    (MODEL + "train: {max_minutes: 0}\n", r"train\.max_minutes must be a positive number or null"),
    (MODEL + "train: {thresholds: [0.5, 1.5]}\n", r"train\.thresholds must be a non-empty list of numbers > 0"),
    (MODEL + "train: {amp: 1}\n", r"train\.amp must be one of true, false, auto"),
    (MODEL + "train: {epoch: 5}\n", r"unknown config key\(s\) train\.epoch"),
    (MODEL + "optim: {lr: -0.1}\n", r"optim\.lr must be a positive number, got -0\.1"),
    (MODEL + "optim: {lr: .nan}\n", r"optim\.lr must be a positive number, got nan"),
    (MODEL + "optim: {lr: fast}\n", r"optim\.lr must be a positive number, got 'fast'"),
    (MODEL + "optim: {name: adam, betas: [0.9]}\n", r"optim\.betas must be a 2-element list"),
    (MODEL + "schedule: {name: cosine, warmup_steps: -1}\n", r"schedule\.warmup_steps must be an integer >= 0"),
    (MODEL + "data: {batch_size: 0}\n", r"data\.batch_size must be a positive integer"),
    (MODEL + "data: {image_size: 4}\n", r"data\.image_size must be an integer >= 16 and <= 1024, got 4"),
    (MODEL + "data: {image_size: 100000}\n", r"data\.image_size"),
    (MODEL + "data: {val_views: []}\n", r"data\.val_views must be a non-empty list of integers >= 1 and <= 64"),
    (MODEL + "data: {augment: 'yes'}\n", r"data\.augment must be true or false"),
    (MODEL + "data: {root: 5}\n", r"data\.root must be a string"),
    (MODEL + "data: {max_views: 2, view_probs: [1, 1, 1]}\n", r"data\.view_probs must list max_views \(2\)"),
    (MODEL + "seed: -1\n", r"seed must be an integer >= 0"),
    ("model: {name: [voxel]}\n", r"model\.name must be a string, got \['voxel'\]"),
    ("model: {name: voxel, latent: 6.5}\n", r"model\.latent must be an integer, got 6\.5"),
    ("model: {name: voxel, refiner: maybe}\n", r"model\.refiner must be true or false"),
])
def test_bad_configs_are_one_line_errors_naming_the_key(tmp_path, text, match):
    with pytest.raises(Lift3DError, match=match) as info:
        load_text(tmp_path, text)
    assert "\n" not in str(info.value)


def test_yaml_number_strings_become_numbers_and_good_configs_pass(tmp_path):
    cfg = load_text(tmp_path, MODEL + "optim: {lr: 1e-3}\ntrain: {max_minutes: 5}\n")  # YAML 1.1 reads 1e-3 as text
    assert cfg["optim"]["lr"] == 0.001 and cfg["train"]["max_minutes"] == 5
    for name in ("default", "tiny", "occupancy", "points", "tiny_occupancy", "tiny_points"):
        assert load_config(f"configs/{name}.yaml")["model"]["name"]
    assert load_config(None)["model"]["name"] == "voxel"  # the programmatic defaults still name one


def test_the_schema_is_the_single_source_of_defaults_and_ranges():
    for section in ("data", "train"):
        assert set(DEFAULTS[section]) == {k.split(".", 1)[1] for k in FIELDS if k.startswith(section + ".")}
        for key, value in DEFAULTS[section].items():
            assert check_value(f"{section}.{key}", value, FIELDS[f"{section}.{key}"]) == value
    assert check_value("k", "2.5e-1", Num(above=0)) == 0.25
    assert check_value("k", None, Int(lo=1, optional=True)) is None
    with pytest.raises(InputError, match=r"k must be a non-empty list of positive integers, got \[0\]"):
        check_value("k", [0], ListOf(Int(lo=1)))


def test_cli_refuses_bad_config_and_bad_overrides_in_one_line(tmp_path, capsys):
    binary = tmp_path / "model.safetensors"
    binary.write_bytes(bytes(range(256)) * 4)
    code, err = cli(capsys, "train", binary, "--quiet")
    assert code == 2 and err.startswith("lift3d: error: config ") and "not a text" in err and "\n" not in err
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    code, err = cli(capsys, "train", empty, "--quiet")
    assert code == 2 and "is empty" in err and "\n" not in err
    for args, key in ((["--epochs", "0"], "train.epochs"), (["--max-minutes", "-5"], "train.max_minutes")):
        code, err = cli(capsys, "train", "configs/tiny.yaml", "--out", tmp_path / "run", *args, "--quiet")
        assert code == 2 and key in err and "\n" not in err
    assert not (tmp_path / "run").exists()  # refused before anything was built or written


@pytest.mark.parametrize(("manifest", "match"), [
    ([1, 2, 3], r"expected a JSON object, got a list"),
    ({"format": "lift3d-dataset"}, r"'views' must be a positive integer, got None"),
    ({"format": "lift3d-dataset", "views": "12", "image_size": 32, "categories": [], "shapes": []},
     r"'views' must be a positive integer, got '12'"),
    ({"format": "lift3d-dataset", "views": 2, "image_size": 32, "categories": ["a"], "shapes": {"a_0": "train"}},
     r"'shapes' must be a list"),
    ({"format": "lift3d-dataset", "views": 2, "image_size": 32, "categories": ["a"], "shapes": [{"id": "a_0"}]},
     r"shapes\[0\] needs string category, split"),
    ({"format": "lift3d-dataset", "views": 2, "image_size": 32, "categories": ["a"],
      "shapes": [{"id": "a_0", "category": "b", "split": "train"}]}, r"shapes\[0\] \(a_0\) has category 'b'"),
    ({"format": "lift3d-dataset", "views": 2, "image_size": 32, "categories": ["a"], "shapes": [],
      "voxel_res": [32, "64"]}, r"'voxel_res' must be a list of positive integers"),
    ({"format": "other", "views": 2, "image_size": 32, "categories": [], "shapes": []}, r"format 'other'"),
])
def test_a_manifest_of_the_wrong_shape_is_one_line(tmp_path, capsys, manifest, match):
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match=match) as info:
        read_manifest(tmp_path)
    assert "\n" not in str(info.value)
    code, err = cli(capsys, "data", "info", tmp_path)
    assert code == 2 and err.startswith("lift3d: error: ") and "\n" not in err


def test_a_binary_manifest_is_one_line(tmp_path):
    (tmp_path / "manifest.json").write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(DatasetError, match="corrupt manifest"):
        read_manifest(tmp_path)


def test_config_differences_ignore_only_settings_that_do_not_change_the_result():
    a = load_config("configs/tiny.yaml")
    b = load_config("configs/tiny.yaml", {"train": {"max_minutes": 3, "out": "elsewhere", "threads": 2},
                                          "data": {"root": "moved", "cache": True}})
    assert config_differences(a, b) == []
    c = load_config("configs/tiny.yaml", {"optim": {"lr": 0.01}, "data": {"image_size": 48}})
    assert config_differences(a, c) == ["data.image_size: 32 -> 48", "model.image_size: 32 -> 48",
                                        "optim.lr: 0.003 -> 0.01"]
