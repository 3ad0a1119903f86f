import pytest
import torch

from lift3d.errors import InputError, ModelError
from lift3d.models.checkpoint import load_model, save_checkpoint
from lift3d.models.decoders.voxel import pixel_shuffle_3d, pixel_unshuffle_3d
from lift3d.models.encoders import build_encoder
from lift3d.models.registry import build_model


def tiny(fusion: str = "context", refiner: bool = True) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model({"name": "voxel", "encoder": {"name": "small", "widths": [8, 16, 16]}, "image_size": 32,
                        "latent": 32, "channels": [8, 8, 8], "head_channels": 8, "fusion": fusion,
                        "refiner": refiner, "refiner_channels": [8, 8, 8]}).eval()


@pytest.mark.parametrize("name,kwargs", [("resnet", {"depth": 18, "widths": [8, 16, 16, 32], "stem": 8}),
                                         ("resnet", {"depth": 34, "widths": [8, 8, 8, 8], "stem": 8}),
                                         ("small", {"widths": [8, 16]})])
def test_encoders_shapes(name, kwargs):
    enc = build_encoder(name, **kwargs)
    fmap, vec = enc(torch.rand(2, 3, 64, 64))
    assert fmap.shape[0] == 2 and fmap.shape[1] == enc.out_channels and vec.shape == (2, enc.out_channels)


def test_pixel_shuffle_round_trip():
    x = torch.rand(2, 16, 3, 4, 5)
    y = pixel_shuffle_3d(x)
    assert y.shape == (2, 2, 6, 8, 10)
    assert torch.equal(pixel_unshuffle_3d(y), x)


@pytest.mark.parametrize("fusion", ["context", "mean", "max"])
def test_fusion_is_order_invariant_and_handles_any_view_count(fusion):
    model = tiny(fusion)
    x = torch.rand(2, 3, 3, 32, 32)
    with torch.no_grad():
        out = model(x)["logits"]
        perm = model(x[:, [2, 0, 1]])["logits"]
        one = model(x[:, :1])["logits"]
    assert out.shape == (2, 32, 32, 32) and one.shape == (2, 32, 32, 32)
    assert torch.allclose(out, perm, atol=1e-5)
    if fusion != "max":  # a view repeated twice says nothing new
        with torch.no_grad():
            twice = model(x[:, [0, 0]])["logits"]
        assert torch.allclose(twice, one, atol=1e-5)


def test_bad_input_shape():
    with pytest.raises(InputError):
        tiny()(torch.rand(2, 1, 32, 32))


def test_checkpoint_round_trip(tmp_path):
    model = tiny()
    cfg = {"model": {"name": "voxel", "encoder": {"name": "small", "widths": [8, 16, 16]}, "image_size": 32,
                     "latent": 32, "channels": [8, 8, 8], "head_channels": 8, "refiner_channels": [8, 8, 8]},
           "data": {"image_size": 32}}
    save_checkpoint(tmp_path / "m.safetensors", model, cfg, {"threshold": 0.4})
    back, cfg2, meta = load_model(tmp_path / "m.safetensors")
    x = torch.rand(1, 2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x)["logits"], back(x)["logits"], atol=1e-6)
    assert cfg2 == cfg and meta["threshold"] == 0.4
    assert not list(tmp_path.glob("*.tmp*"))


def test_bad_checkpoints(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_model(tmp_path / "none.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(ModelError):
        load_model(tmp_path / "junk.safetensors")
    with pytest.raises(ModelError, match="unknown model"):
        build_model({"name": "nerf"})
    with pytest.raises(ModelError, match="bad model configuration"):
        build_model({"name": "voxel", "wings": 3})
