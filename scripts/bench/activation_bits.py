"""How many bits the activations of MiniLM's int8 matmuls need: a PyTorch simulation.

Every nn.Linear of all-MiniLM-L6-v2 gets picoformer's int8 weights (symmetric, one scale per
output row, round half away from zero); its input is quantized the way a given scheme would
(symmetric, one scale per row of the activation, or per group of G consecutive values of a row)
to B bits, then de-quantized. Prints, per scheme, the min and mean cosine of the mean-pooled,
normalized embeddings against the fp32 goldens of tests/data/minilm_golden.json (the first N
sentences). The issue's bar is min cosine >= 0.995.

    .cache/venv-golden/bin/python scripts/bench/activation_bits.py [--sentences N]

Hand-run (the golden venv of scripts/golden/README.md); nothing reads its output.
"""
import argparse
import json
import os
import subprocess

import numpy as np
import torch
from transformers import AutoModel

# (label, activation bits, group size or None for one scale per row, Linear-name parts kept at 16 bits)
SCHEMES = [
    ("16-bit per row (picoformer's int8 path)", 16, None, ()),
    ("8-bit per row", 8, None, ()),
    ("8-bit per row, Q/K/V only", 8, None, ("attention.output.dense", "intermediate", "output.dense")),
    ("8-bit per group of 32", 8, 32, ()),
    ("8-bit per group of 64", 8, 64, ()),
    ("8-bit per group of 32, attention output and FFN down at 16", 8, 32, ("output.dense",)),
]


def rnd(x):
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def quantize(x, bits, group):
    q = 2 ** (bits - 1) - 1
    shape = x.shape
    if group:
        x = x.reshape(*shape[:-1], shape[-1] // group, group)
    s = x.abs().amax(-1, keepdim=True).clamp_min(1e-30) / q
    return (rnd(x / s).clamp(-q, q) * s).reshape(shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=120)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    model_dir = subprocess.check_output(["bash", os.path.join(root, "scripts/fetch-models.sh")], text=True).strip()
    cases = json.load(open(os.path.join(root, "tests/data/minilm_golden.json")))["cases"][: args.sentences]
    torch.set_num_threads(1)
    model = AutoModel.from_pretrained(model_dir).eval()
    scheme = {}
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Linear):
            continue
        w = mod.weight.data
        s = w.abs().amax(1, keepdim=True) / 127
        mod.weight.data = rnd(w / s).clamp(-127, 127) * s

        def pre(mod, inp, name=name):
            bits, group, keep = scheme["now"]
            if any(k in name for k in keep):
                bits, group = 16, None
            return (quantize(inp[0], bits, group),)

        mod.register_forward_pre_hook(pre)
    print(f"all-MiniLM-L6-v2, int8 weights, {len(cases)} golden sentences: cosine to fp32 PyTorch")
    for label, bits, group, keep in SCHEMES:
        scheme["now"] = (bits, group, keep)
        cos = []
        with torch.no_grad():
            for c in cases:
                ids = torch.tensor([c["ids"]])
                h = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0].mean(0)
                e = (h / h.norm()).numpy()
                r = np.array(c["embedding"])
                cos.append(float(e @ r / np.linalg.norm(r)))
        print(f"  {label}: min {min(cos):.5f} mean {np.mean(cos):.5f}")


if __name__ == "__main__":
    main()
