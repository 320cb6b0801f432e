"""How many bits the activations of MiniLM's int8 matmuls need: a PyTorch simulation.

Every nn.Linear of all-MiniLM-L6-v2 gets picoformer's int8 weights (symmetric, one scale per
output row, round half away from zero); its input is quantized the way a given scheme would
(symmetric, one scale per row of the activation, or per group of G consecutive values of a row,
or asymmetric with a zero point per row as `quantize --calibrate` does) to B bits, then
de-quantized. The "smoothed" schemes first apply SmoothQuant with alpha 1/2 as the tool does
(per input column `s = sqrt(max|x| / max|w|)`, `max|x|` over the first 512 training sentences of
data/sentiment; weights `W·s`, inputs `x/s`). Prints, per scheme, the min and mean cosine of the
mean-pooled, normalized embeddings against the fp32 goldens of tests/data/minilm_golden.json (the
first N sentences). The bar is min cosine >= 0.995.

    .cache/venv-golden/bin/python scripts/bench/activation_bits.py [--sentences N]

Hand-run (the golden venv of scripts/golden/README.md); nothing reads its output.
"""
import argparse
import json
import os
import subprocess

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

# (label, activation bits, group size or None for one scale per row, Linear-name parts kept at 16 bits,
#  asymmetric, smoothed)
SCHEMES = [
    ("16-bit per row (picoformer's int8 path)", 16, None, (), False, False),
    ("8-bit per row", 8, None, (), False, False),
    ("8-bit per row, Q/K/V only", 8, None, ("attention.output.dense", "intermediate", "output.dense"), False, False),
    ("8-bit per group of 32", 8, 32, (), False, False),
    ("8-bit per group of 64", 8, 64, (), False, False),
    ("8-bit per group of 32, attention output and FFN down at 16", 8, 32, ("output.dense",), False, False),
    ("8-bit asymmetric per row", 8, None, (), True, False),
    ("16-bit per row, smoothed", 16, None, (), False, True),
    ("8-bit asymmetric per row, smoothed", 8, None, (), True, True),
    ("8-bit asymmetric per row, smoothed, FFN down at 16", 8, None, ("layer_output",), True, True),
]


def rnd(x):
    return torch.sign(x) * torch.floor(torch.abs(x) + 0.5)


def quantize(x, bits, group, asym=False):
    if asym:
        levels = 2**bits - 1
        lo, hi = x.amin(-1, keepdim=True).clamp(max=0), x.amax(-1, keepdim=True).clamp(min=0)
        s = ((hi - lo) / levels).clamp_min(1e-30)
        zp = rnd(-lo / s)
        return (rnd(x / s) + zp).clamp(0, levels).sub(zp) * s
    q = 2 ** (bits - 1) - 1
    shape = x.shape
    if group:
        x = x.reshape(*shape[:-1], shape[-1] // group, group)
    s = x.abs().amax(-1, keepdim=True).clamp_min(1e-30) / q
    return (rnd(x / s).clamp(-q, q) * s).reshape(shape)


def int8_rows(w):
    s = w.abs().amax(1, keepdim=True) / 127
    return rnd(w / s).clamp(-127, 127) * s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sentences", type=int, default=120)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    model_dir = subprocess.check_output(["bash", os.path.join(root, "scripts/fetch-models.sh")], text=True).strip()
    cases = json.load(open(os.path.join(root, "tests/data/minilm_golden.json")))["cases"][: args.sentences]
    torch.set_num_threads(1)
    model = AutoModel.from_pretrained(model_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    linears = {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    original = {n: m.weight.data.clone() for n, m in linears.items()}
    # calibration: per input column max |x| of the f32 model (as `quantize --calibrate`)
    amax = {n: torch.zeros(m.in_features) for n, m in linears.items()}
    hooks = [
        m.register_forward_pre_hook(
            lambda mod, inp, n=n: amax.__setitem__(n, torch.maximum(amax[n], inp[0].abs().flatten(0, -2).amax(0)))
        )
        for n, m in linears.items()
    ]
    train = [line.split("\t", 1)[1].strip() for line in open(os.path.join(root, "data/sentiment/train.tsv"))]
    with torch.no_grad():
        for text in train[:512]:
            model(**tokenizer(text, return_tensors="pt", truncation=True, max_length=128))
    for h in hooks:
        h.remove()
    scheme = {}
    for name, mod in linears.items():

        def pre(mod, inp, name=name):
            bits, group, keep, asym, smooth = scheme["now"]
            x = inp[0] / scheme["smooth"][name]
            # "layer_output" marks the FFN down projection (`encoder.layer.N.output.dense`)
            down = name.endswith("output.dense") and "attention" not in name
            if any(k in name for k in keep) or ("layer_output" in keep and down):
                return (quantize(x, 16, None),)
            return (quantize(x, bits, group, asym),)

        mod.register_forward_pre_hook(pre)
    print(f"all-MiniLM-L6-v2, int8 weights, {len(cases)} golden sentences: cosine to fp32 PyTorch")
    for label, bits, group, keep, asym, smooth in SCHEMES:
        scheme["now"] = (bits, group, keep, asym, smooth)
        scheme["smooth"] = {}
        for name, mod in linears.items():
            w = original[name]
            s = torch.ones(mod.in_features)
            if smooth:
                s = (amax[name] / w.abs().amax(0)).sqrt()
                s = torch.where(torch.isfinite(s) & (s > 0), s, torch.ones_like(s))
            scheme["smooth"][name] = s
            mod.weight.data = int8_rows(w * s)
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
