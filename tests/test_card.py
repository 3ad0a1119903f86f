"""The model card names the data the weights were trained on, read from the dataset's manifest."""

from __future__ import annotations

from lift3d.train.config import load_config
from lift3d.weights.card import write_model_card


def test_card_lists_families_and_look_from_the_manifest(tiny_dataset, tmp_path):
    from conftest import TINY_CATEGORIES

    cfg = load_config("configs/tiny.yaml")
    out = tmp_path / "CARD.md"
    write_model_card(out, cfg, {"epoch": 1, "val_score": 0.5}, "# Quality\n", str(tiny_dataset))
    text = out.read_text()
    assert f"{len(TINY_CATEGORIES)} families ({', '.join(TINY_CATEGORIES)})" in text
    assert "in the `random` look" in text and "# Quality" in text
    write_model_card(out, cfg, {}, "", str(tmp_path / "nowhere"))  # not a dataset: named, no crash
    assert "the dataset in `" in out.read_text()
