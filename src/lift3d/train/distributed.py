"""DistributedDataParallel entry point, to be launched by torchrun::

    torchrun --nproc_per_node 2 --standalone -m lift3d.train.distributed CONFIG [--resume] [--out DIR]

Each process joins the process group (gloo on CPU, NCCL when CUDA is present) and trains on its share of
every batch; rank 0 validates and writes checkpoints and logs.
"""

from __future__ import annotations

import argparse
import os

import torch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out", default=None)
    parser.add_argument("--data", default=None)
    args = parser.parse_args(argv)
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    torch.distributed.init_process_group(backend)
    try:
        from lift3d.train.run import run_training

        overrides: dict = {"train": {"threads": max(1, (os.cpu_count() or 2) // int(os.environ["WORLD_SIZE"]))}}
        if args.out:
            overrides["train"]["out"] = args.out
        if args.data:
            overrides["data"] = {"root": args.data}
        run_training(args.config, overrides, resume=args.resume, quiet=True)
    finally:
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
