"""The shipped default weights (``default.safetensors``) and their model card (``MODEL_CARD.md``)."""
