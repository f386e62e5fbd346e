"""Writes tiny-lm.pt, the Python-made TorchScript module the engine's tests load.

A byte-level next-token model whose top level is a sequence of blocks: token embedding, one residual
MLP block (a user-defined class), and a linear head to 128 logits. Made with PyTorch 1.13 (Debian's
python3-torch); run from this directory:  python3 make_tiny_lm.py
"""
import torch
from torch import nn


class ResidualMlp(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.up = nn.Linear(width, 2 * width)
        self.down = nn.Linear(2 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.down(torch.nn.functional.gelu(self.up(self.norm(x))))


def main() -> None:
    torch.manual_seed(1234)
    width, vocab = 8, 128
    model = nn.Sequential(nn.Embedding(vocab, width), ResidualMlp(width), nn.Linear(width, vocab))
    torch.jit.script(model).save("tiny-lm.pt")


if __name__ == "__main__":
    main()
