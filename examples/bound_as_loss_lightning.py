"""A bound as the loss of your own LightningModule with your own encoder.

The objective is an ``nn.Module``; put it in your module and call it in ``training_step``. Under
DDP (``--strategy ddp --devices N``) it gathers the embeddings of every rank with their gradients,
so the negatives are the global batch and ML-CPC's normaliser runs over all ranks' pairs; nothing
in your code changes (see examples/ddp.md).

    python examples/bound_as_loss_lightning.py                                # CPU, one process
    python examples/bound_as_loss_lightning.py --strategy ddp --devices 2     # two processes
    INFOBOUND_EXAMPLE_TINY=1 python examples/bound_as_loss_lightning.py       # a few steps
"""

import argparse
import logging
import os
import warnings

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from infobound.losses import MIReadout, build_objective

TINY = os.environ.get("INFOBOUND_EXAMPLE_TINY") == "1"


class MyEncoder(nn.Module):
    """Your encoder: a small 1-D CNN for signals of length 40."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(1, 16, 5, padding=2), nn.ReLU(), nn.AdaptiveAvgPool1d(8), nn.Flatten(),
                                 nn.Linear(16 * 8, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.unsqueeze(1))


class MyContrastiveModule(L.LightningModule):
    def __init__(self, objective: str = "ml_cpc", alpha: float = 0.1, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.encoder = MyEncoder()
        self.objective = build_objective(objective, alpha=alpha) if objective == "ml_cpc" else build_objective(objective)
        self.readout = MIReadout(f"mine/{objective}")  # running MI read-out in nats, with its ceiling

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        shift = int(torch.randint(-3, 4, ()))
        return torch.roll(x, shift, dims=1) + 0.1 * torch.randn_like(x)

    def training_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        (x,) = batch
        progress = self.global_step / max(1, self.trainer.estimated_stepping_batches)
        out = self.objective(self.encoder(self.augment(x)), self.encoder(self.augment(x)), progress=progress)
        self.log("train/loss", out.loss, prog_bar=True)
        self.log("train/mi_nats", self.readout(out), prog_bar=True)  # the same on every rank under DDP
        return out.loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", default="auto")
    parser.add_argument("--devices", type=int, default=1)
    parser.add_argument("--accelerator", default="cpu")
    parser.add_argument("--epochs", type=int, default=1 if TINY else 5)
    args = parser.parse_args()
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no banners or tips
    warnings.filterwarnings("ignore", message=r".*is deprecated.*")  # Lightning's use of torch internals
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")  # in-memory data needs none

    L.seed_everything(0, verbose=False)
    signals = torch.sin(torch.linspace(0, 12, 40) * torch.rand(256 if TINY else 4096, 1) * 3)  # your data
    loader = DataLoader(TensorDataset(signals), batch_size=64 if TINY else 256, shuffle=True, drop_last=True)
    trainer = L.Trainer(max_epochs=args.epochs, accelerator=args.accelerator, devices=args.devices,
                        strategy=args.strategy, logger=False, enable_checkpointing=False,
                        enable_model_summary=False, enable_progress_bar=not TINY, log_every_n_steps=1)
    module = MyContrastiveModule()
    trainer.fit(module, loader)
    if trainer.is_global_zero:
        metrics = {k: round(float(v), 3) for k, v in trainer.callback_metrics.items()}
        print(f"done: {metrics} (world size {trainer.world_size})")


if __name__ == "__main__":
    main()
