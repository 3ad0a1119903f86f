"""The model contract: a new representation is added by registering it, with no edit to the trainer, evaluation,
calibration or reconstruction pipeline. Here a toy one ("ball": the object as a sphere of predicted radius) is
registered from this test file alone and goes through training, finalize, evaluation and `lift3d reconstruct`."""

import json

import numpy as np
import pytest
import torch
import trimesh
from torch import nn

from conftest import welded
from lift3d.cli import main
from lift3d.losses import LOSSES
from lift3d.models.image_code import ImageCode
from lift3d.models.registry import MODELS
from lift3d.registry import Registry
from lift3d.tasks import TASKS
from lift3d.tasks.base import GridScores, Prediction, Task, eval_batches
from lift3d.tasks.occupancy import cell_centres
from lift3d.train.config import load_config


def ball_grid(radius: torch.Tensor, res: int = 32) -> torch.Tensor:
    """Radii ``(B,)`` -> soft occupancy ``(B, res, res, res)`` of centred balls."""
    r = cell_centres(res).norm(dim=-1).view(1, res, res, res)
    return torch.sigmoid(40.0 * (radius.view(-1, 1, 1, 1) - r))


def volume_radius(voxels: torch.Tensor) -> torch.Tensor:
    """The radius of the ball with the same volume as each grid ``(B, 32, 32, 32)`` -> ``(B,)``."""
    vol = voxels.flatten(1).sum(1) / 32**3
    return (3 * vol / (4 * np.pi)) ** (1 / 3)


@MODELS.register("toy_ball")
class ToyBall(nn.Module):
    """Images -> ``{"radius": (B,)}``."""

    task = "toy_ball"

    def __init__(self, image_size: int = 32, encoder: dict | None = None) -> None:
        super().__init__()
        self.code = ImageCode(encoder or {"name": "small", "widths": [8, 8]}, image_size, 8, "mean")
        self.head = nn.Linear(8, 1)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"radius": 0.5 * torch.sigmoid(self.head(self.code(images)[0]))[:, 0]}


@LOSSES.register("toy_radius")
class RadiusLoss(nn.Module):
    def forward(self, out: dict, batch: dict) -> torch.Tensor:
        return ((out["radius"] - volume_radius(batch["voxels32"])) ** 2).mean()


@TASKS.register("toy_ball")
class BallTask(Task):
    name = "toy_ball"
    targets = ("voxels32",)
    default_loss = "toy_radius"

    def evaluate(self, model, dataset, views=1, thresholds=(0.5,), threshold=None, batch_size=16, limit=None,
                 fscore=False, quiet=True):
        scores = GridScores(thresholds, 0.5 if threshold is None else threshold)
        for batch in eval_batches(model, dataset, views, batch_size, limit, quiet):
            scores.add(ball_grid(model(batch["images"])["radius"]), batch["voxels32"], batch["category"])
        return scores.result(views)

    @torch.inference_mode()
    def predict(self, model, images, threshold=None, **options):
        self.check_options(options)
        grids = ball_grid(model(images)["radius"]).numpy()
        return [Prediction("voxels", grid=g, threshold=0.5 if threshold is None else threshold) for g in grids]


def test_a_registered_toy_representation_trains_evaluates_and_reconstructs(tiny_dataset, tmp_path, capsys):
    cfg_path = tmp_path / "toy.yaml"
    cfg_path.write_text("model: {name: toy_ball}\ndata: {image_size: 32, max_views: 2, batch_size: 4, augment: false,"
                        " val_views: [1]}\noptim: {lr: 0.01}\nschedule: {name: constant, warmup_steps: 0}\n"
                        "train: {epochs: 3, threads: 1, calibrate_bn: 2}\n")
    assert load_config(cfg_path)["model"]["name"] == "toy_ball"
    run = tmp_path / "run"
    with pytest.raises(SystemExit) as exc:
        main(["train", str(cfg_path), "--data", str(tiny_dataset), "--out", str(run), "--quiet"])
    assert not exc.value.code
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["epoch"] == 3 and 0.0 < row["final_val_iou"] <= 1.0
    ckpt = run / "final.safetensors"
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", str(ckpt), str(tiny_dataset), "--split", "test", "--no-fscore", "--json",
              str(tmp_path / "e.json"), "--quiet"])
    assert not exc.value.code
    assert 0.0 < json.loads((tmp_path / "e.json").read_text())["iou"] <= 1.0
    photo = sorted((tiny_dataset / "shapes").iterdir())[0] / "view_00.png"
    for name in ("ball.glb", "ball.binvox"):
        with pytest.raises(SystemExit) as exc:
            main(["reconstruct", str(photo), "-o", str(tmp_path / name), "--checkpoint", str(ckpt), "--quiet"])
        assert not exc.value.code, capsys.readouterr().err
    mesh = trimesh.load(tmp_path / "ball.glb", force="mesh")
    ext = mesh.extents
    assert welded(mesh).is_watertight and ext.max() - ext.min() < 0.1  # a ball (textured: welded by position)


def test_registry_errors_name_what_is_available():
    reg = Registry("gadget")
    reg.register("a", dict)
    with pytest.raises(Exception, match="unknown gadget 'b'; available: a"):
        reg.get("b")
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a", list)
    f = Registry("f")
    f.register("f", lambda y=1: y)
    with pytest.raises(Exception, match="unknown config key.*gadget.x"):
        f.check("f", {"x": 1}, "gadget")
    f.check("f", {"y": 2}, "gadget")
