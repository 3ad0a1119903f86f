"""Training and evaluation: YAML config -> model, data, optimiser -> checkpoints and metrics."""
