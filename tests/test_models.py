import pytest
import torch

from lift3d.errors import InputError, ModelError
from lift3d.models.checkpoint import load_model, save_checkpoint
from lift3d.models.decoders.voxel import pixel_shuffle_3d, pixel_unshuffle_3d
from lift3d.models.encoders import build_encoder
from lift3d.models.registry import build_model


def tiny(fusion: str = "context", refiner: bool = True, fuse_res: int = 16) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model({"name": "voxel", "encoder": {"name": "small", "widths": [8, 16, 16]}, "image_size": 32,
                        "latent": 32, "channels": [8, 12, 8], "head_channels": 8, "fusion": fusion,
                        "refiner": refiner, "refiner_channels": [8, 8, 8], "fuse_res": fuse_res}).eval()


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


@pytest.mark.parametrize("fuse_res", [8, 16])
@pytest.mark.parametrize("fusion", ["context", "mean", "max"])
def test_fusion_is_order_invariant_and_handles_any_view_count(fusion, fuse_res):
    model = tiny(fusion, fuse_res=fuse_res)
    assert model.decoder.fuse_channels == (12 if fuse_res == 8 else 8)
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
                     "latent": 32, "channels": [8, 12, 8], "head_channels": 8, "refiner_channels": [8, 8, 8]},
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
    with pytest.raises(ModelError, match="bad arguments for model"):
        build_model({"name": "voxel", "wings": 3})


# ---------------------------------------------------------------- added: hand-computed module behaviour

@pytest.mark.parametrize("size,expected", [(96, 3), (128, 4), (64, 2)])
def test_resnet_downsamples_by_32(size, expected):
    enc = build_encoder("resnet", depth=18, widths=[8, 8, 8, 16], stem=8).eval()
    fmap, vec = enc(torch.rand(1, 3, size, size))
    assert fmap.shape == (1, 16, expected, expected)
    assert torch.allclose(vec, fmap.mean(dim=(2, 3)))


def test_small_encoder_halves_per_stage():
    enc = build_encoder("small", widths=[4, 8, 12]).eval()
    fmap, vec = enc(torch.rand(2, 3, 40, 40))
    assert fmap.shape == (2, 12, 5, 5) and vec.shape == (2, 12)  # 40 / 2^3


def test_resnet34_has_3_4_6_3_blocks():
    from lift3d.models.encoders.resnet import BasicBlock

    blocks = [m for m in build_encoder("resnet", depth=34, widths=[4, 4, 4, 4], stem=4).modules()
              if isinstance(m, BasicBlock)]
    assert len(blocks) == 16  # 3 + 4 + 6 + 3 (ResNet-18: 8)


def test_mean_and_max_fusion_by_hand():
    from lift3d.models.fusion import build_fusion

    vols = torch.zeros(1, 3, 1, 1, 1, 1)
    vols[0, :, 0, 0, 0, 0] = torch.tensor([1.0, 2.0, 6.0])
    assert build_fusion("mean", 1)(vols).item() == pytest.approx(3.0)
    assert build_fusion("max", 1)(vols).item() == pytest.approx(6.0)


@pytest.mark.parametrize("fusion", ["context", "mean", "max"])
def test_fusion_module_permutation_invariant_1e6(fusion):
    from lift3d.models.fusion import build_fusion

    torch.manual_seed(1)
    f = build_fusion(fusion, 4).eval()
    vols = torch.randn(2, 5, 4, 6, 6, 6)
    with torch.no_grad():
        ref = f(vols)
        for perm in ([4, 3, 2, 1, 0], [1, 0, 3, 4, 2]):
            assert torch.allclose(f(vols[:, perm]), ref, atol=1e-6)
    assert ref.shape == (2, 4, 6, 6, 6)


def test_context_fusion_weights_are_a_convex_combination():
    """Soft-max weights sum to 1 per voxel: identical views come back unchanged; the result lies between min and max."""
    from lift3d.models.fusion import ContextFusion

    torch.manual_seed(2)
    f = ContextFusion(3).eval()
    one = torch.randn(2, 1, 3, 4, 4, 4)
    with torch.no_grad():
        assert torch.allclose(f(one.repeat(1, 4, 1, 1, 1, 1)), one[:, 0], atol=1e-6)
        assert torch.allclose(f(one), one[:, 0], atol=1e-6)  # a single view has weight 1
        vols = torch.randn(2, 3, 3, 4, 4, 4)
        out = f(vols)
    assert (out <= vols.amax(1) + 1e-6).all() and (out >= vols.amin(1) - 1e-6).all()


def test_bad_fusion_resolution_is_a_model_error():
    with pytest.raises(ModelError, match="fuse_res"):
        tiny(fuse_res=32)


def test_unknown_fusion_is_a_model_error():
    with pytest.raises(ModelError, match="unknown fusion 'attention'"):
        build_model({"name": "voxel", "encoder": {"name": "small", "widths": [8]}, "image_size": 32,
                     "fusion": "attention"})
    with pytest.raises(ModelError, match="unknown encoder 'vgg'"):
        build_model({"name": "voxel", "encoder": {"name": "vgg"}})


def test_refiner_starts_as_identity():
    """The refiner's output conv is zero-initialised, so an untrained refiner returns the coarse logits."""
    model = tiny()
    with torch.no_grad():
        out = model(torch.rand(2, 2, 3, 32, 32))
    assert torch.equal(out["logits"], out["coarse_logits"])


def test_without_refiner_logits_are_the_coarse_logits():
    model = tiny(refiner=False)
    assert model.refiner is None
    with torch.no_grad():
        out = model(torch.rand(1, 2, 3, 32, 32))
    assert out["logits"] is out["coarse_logits"] and out["logits"].shape == (1, 32, 32, 32)


def test_four_dim_input_is_one_view():
    model = tiny()
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x)["logits"], model(x.unsqueeze(1))["logits"])


def test_batch_items_are_independent_in_eval():
    """In eval mode (running batch-norm stats) a shape's prediction does not depend on its batch mates."""
    model = tiny()
    x = torch.rand(3, 2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(x)["logits"][1], model(x[1:2])["logits"][0], atol=1e-5)


def test_default_config_fits_the_size_budget():
    """Shipped weights must stay under 30 MB as float32 (default: 6.7 M parameters, 26.8 MB)."""
    from lift3d.train.config import load_config

    model = build_model(load_config("configs/default.yaml")["model"])
    n = sum(p.numel() for p in model.parameters())
    assert 1_000_000 < n and 4 * n < 30e6


def test_checkpoint_without_config_or_with_wrong_weights(tmp_path):
    from lift3d.models.checkpoint import save_tensors

    save_tensors(tmp_path / "bare.safetensors", {"w": torch.zeros(2)}, {"meta": {}})
    with pytest.raises(ModelError, match="no model configuration"):
        load_model(tmp_path / "bare.safetensors")
    cfg = {"model": {"name": "voxel", "encoder": {"name": "small", "widths": [8, 16, 16]}, "image_size": 32,
                     "latent": 32, "channels": [8, 8, 8], "head_channels": 8, "refiner_channels": [8, 8, 8]}}
    wrong = dict(cfg["model"], latent=16)  # weights of another architecture under this config
    save_checkpoint(tmp_path / "w.safetensors", tiny(), {"model": wrong})
    with pytest.raises(ModelError, match="do not match"):
        load_model(tmp_path / "w.safetensors")


def test_checkpoint_is_not_pickle(tmp_path):
    """A checkpoint is plain safetensors: an 8-byte little-endian header length, then JSON."""
    import json
    import struct

    save_checkpoint(tmp_path / "m.safetensors", tiny(), {"model": {"name": "voxel"}}, {"epoch": 3})
    raw = (tmp_path / "m.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert json.loads(header["__metadata__"]["meta"]) == {"epoch": 3}
    assert "encoder.net.0.weight" in header


def test_bad_resnet_depth_is_a_model_error():
    with pytest.raises(ModelError):
        build_model({"name": "voxel", "encoder": {"name": "resnet", "depth": 20}})


def test_wrong_number_of_decoder_channels_is_a_model_error():
    with pytest.raises(ModelError):
        build_model({"name": "voxel", "encoder": {"name": "small", "widths": [8]}, "image_size": 32,
                     "channels": [8, 8], "latent": 8, "head_channels": 8, "refiner_channels": [8, 8, 8]})


def test_onednn_inference_matches_the_plain_model():
    import copy

    from lift3d.models.inference import OneDNNConv, use_onednn

    torch.manual_seed(0)
    model = build_model({"name": "voxel", "encoder": {"name": "small", "widths": [8, 16]}, "image_size": 32,
                         "channels": [16, 8, 8], "latent": 32, "head_channels": 8,
                         "refiner_channels": [4, 8, 8]}).eval()
    fast = copy.deepcopy(model)
    n = use_onednn(fast)
    if not torch.backends.mkldnn.is_available():
        assert n == 0
        return
    convs = sum(isinstance(m, torch.nn.Conv2d | torch.nn.Conv3d) for m in model.modules())
    assert n == convs > 0 and sum(isinstance(m, OneDNNConv) for m in fast.modules()) == n
    for v in (1, 3):
        x = torch.rand(1, v, 3, 32, 32)
        with torch.inference_mode():
            a, b = model(x)["logits"], fast(x)["logits"]
        assert torch.allclose(a, b, atol=1e-4), (a - b).abs().max()


def test_context_fusion_of_one_view_is_that_view():
    from lift3d.models.fusion import ContextFusion

    fusion = ContextFusion(4).eval()
    vols = torch.randn(2, 1, 4, 6, 6, 6)
    with torch.no_grad():
        assert torch.equal(fusion(vols), vols[:, 0])
        scores = fusion.score(vols.flatten(0, 1)).view(2, 1, 1, 6, 6, 6)
        assert torch.allclose((torch.softmax(scores, 1) * vols).sum(1), vols[:, 0])
