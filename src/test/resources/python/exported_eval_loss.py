"""Test harness: the eval loss of an export on given batches, computed with docs/examples/load_exported.py.

    python3 exported_eval_loss.py LOAD_EXPORTED_PY MODEL_DIR BATCHES_JSON

BATCHES_JSON is a list of {"rows", "seqLen", "inputs", "targets"}; prints the mean over batches of each batch's
mean cross-entropy (how the platform averages its eval batches) with 9 decimals.
"""
import importlib.util
import json
import sys

import torch

spec = importlib.util.spec_from_file_location("load_exported", sys.argv[1])
example = importlib.util.module_from_spec(spec)
spec.loader.exec_module(example)

cfg, w = example.load(sys.argv[2])
batches = json.load(open(sys.argv[3]))
losses = []
for b in batches:
    shape = (b["rows"], b["seqLen"])
    losses.append(example.loss(cfg, w, torch.tensor(b["inputs"]).view(shape), torch.tensor(b["targets"]).view(shape)))
print(f"{sum(losses) / len(losses):.9f}")
