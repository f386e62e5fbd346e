"""Runs a Trainyard GPT export with PyTorch alone: no packages beyond torch (Debian's python3-torch 1.13 works).

    /usr/bin/python3 load_exported.py MODEL_DIR [PROMPT]

MODEL_DIR holds the job's export, model.safetensors and config.json (`trainyard download JOB --export -o DIR`).
Prints the byte the model expects after PROMPT.
"""
import json
import math
import struct
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

# safetensors dtype names -> torch dtypes (Trainyard exports float32)
DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}


def read_safetensors(path):
    """A safetensors file by hand: 8-byte little-endian header length, a JSON header, then the raw tensors."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    header.pop("__metadata__", None)
    body = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        if start == end:
            tensors[name] = torch.zeros(entry["shape"], dtype=dtype)
        else:  # a writable copy of the bytes, so that torch owns memory it may write
            tensors[name] = torch.frombuffer(bytearray(body[start:end]), dtype=dtype).reshape(entry["shape"])
    return tensors


def load(model_dir):
    """The model section of config.json and the weights by name."""
    model_dir = Path(model_dir)
    cfg = json.loads((model_dir / "config.json").read_text())["model"]
    return cfg, read_safetensors(model_dir / "model.safetensors")


def causal_attention(q, k, v):
    """softmax(q k^T / sqrt(head size) + causal mask) v, as scaled_dot_product_attention(is_causal=True)."""
    t = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    future = torch.ones(t, t, dtype=torch.bool).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1) @ v


@torch.no_grad()
def logits(cfg, w, ids):
    """Next-byte logits for ids, a LongTensor [batch, time] with time <= seqLen."""
    layers, d, heads = cfg["layers"], cfg["dModel"], cfg["heads"]

    def ln(x, p):
        return F.layer_norm(x, (d,), w[p + ".weight"], w[p + ".bias"], 1e-5)

    def lin(x, p):
        return F.linear(x, w[p + ".weight"], w[p + ".bias"])

    b, t = ids.shape
    x = w["blocks.0.tok_emb.weight"][ids] + w["blocks.0.pos_emb.weight"][:t]
    for i in range(1, layers + 1):
        p = f"blocks.{i}."
        q, k, v = lin(ln(x, p + "ln1"), p + "attn.qkv").split(d, dim=2)
        q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in (q, k, v))
        y = causal_attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + lin(y, p + "attn.proj")
        x = x + lin(F.gelu(lin(ln(x, p + "ln2"), p + "mlp.fc")), p + "mlp.proj")
    h = ln(x, f"blocks.{layers + 1}.ln_f")
    return h @ w[f"blocks.{layers + 1}.head.weight"].T


def loss(cfg, w, inputs, targets):
    """Mean cross-entropy in nats per byte, as the platform's loss and eval_loss."""
    out = logits(cfg, w, inputs)
    return F.cross_entropy(out.reshape(-1, out.shape[-1]), targets.reshape(-1)).item()


if __name__ == "__main__":
    cfg, w = load(sys.argv[1])
    prompt = (sys.argv[2] if len(sys.argv) > 2 else "12+35=").encode()
    print(logits(cfg, w, torch.tensor([list(prompt)]))[0, -1].argmax().item())  # the byte expected next
