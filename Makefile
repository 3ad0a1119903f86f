# lift3d — set-up and everyday commands. Every target does its own set-up on a fresh machine.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA   ?= data/default
RUN    ?= runs/default

.PHONY: demo test lint weights weights-occupancy weights-points evaluate bench bench-models setup clean

$(STAMP): pyproject.toml
	@bash scripts/setup_system.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## Reconstruct the bundled sample images with the shipped default model -> out/
demo: $(STAMP)
	@mkdir -p out
	$(VENV)/bin/lift3d reconstruct src/lift3d/samples/chair_view0.png -o out/chair.glb --preview out/chair_preview.png
	$(VENV)/bin/lift3d reconstruct src/lift3d/samples/chair_view*.png --views -o out/chair_4views.glb \
		--preview out/chair_4views_preview.png
	$(VENV)/bin/lift3d reconstruct src/lift3d/samples/car.jpg -o out/car.obj --preview out/car_preview.png
	$(VENV)/bin/lift3d reconstruct src/lift3d/samples/chair_view0.png --model occupancy -o out/chair_occupancy.glb
	$(VENV)/bin/lift3d reconstruct src/lift3d/samples/chair_view0.png --model points -o out/chair_points.ply
	$(VENV)/bin/lift3d reconstruct src/lift3d/samples/airplane.png src/lift3d/samples/lamp.png -o out/ --format glb
	$(VENV)/bin/lift3d info out/chair.glb

## Lint and run the test suite
test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

## Generate the training data and train the shipped default weights from scratch (~60 min, 2 CPU cores)
weights: $(STAMP)
	bash scripts/make_weights.sh

## The other shipped models (same data; each <= 60 min on 2 CPU cores)
weights-occupancy: $(STAMP)
	bash scripts/make_model_weights.sh occupancy

weights-points: $(STAMP)
	bash scripts/make_model_weights.sh points

## Compare the shipped models and baselines on the held-out test shapes -> docs/results_models.md
bench-models: $(STAMP)
	$(PY) benchmarks/bench_models.py --data $(DATA)
	$(PY) benchmarks/write_results.py

## Speed benchmarks (results -> docs/results_*.md)
bench: $(STAMP)
	$(PY) benchmarks/bench_reconstruct.py
	$(PY) benchmarks/bench_chamfer.py
	$(PY) benchmarks/bench_datagen.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
