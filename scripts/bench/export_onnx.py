#!/usr/bin/env python3
"""Export all-MiniLM-L6-v2 (BertModel, fp32) to ONNX and make a dynamically
quantized int8 copy, for the hand-run peer benchmark (scripts/bench/README.md).

Writes (defaults, relative to the repository root; `.cache/` is git-ignored):
  .cache/bench/minilm-fp32.onnx          torch.onnx.export of BertModel
  .cache/bench/minilm-int8-dynamic.onnx  onnxruntime.quantization.quantize_dynamic
                                         (QInt8 weights, per-channel if it works)

Graph: inputs input_ids / attention_mask / token_type_ids (int64, [batch, seq]),
output last_hidden_state ([batch, seq, 384] float32); batch and seq are dynamic.

After export the fp32 ONNX model is run with onnxruntime on a few shapes (including
a padded batch of 2, so that a mask or a length frozen into the graph would show)
and compared with torch; the max abs diff of last_hidden_state is printed. The int8
model is compared too (its diff is quantization error, printed for information).

Usage: python export_onnx.py [--model-dir DIR] [--out-dir DIR] [--exporter legacy|dynamo]
                             [--opset N (17 legacy / 18 dynamo)] [--force]
The model dir defaults to the one scripts/fetch-models.sh installs.
"""

import argparse
import os
import subprocess
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

FP32_NAME = "minilm-fp32.onnx"
INT8_NAME = "minilm-int8-dynamic.onnx"
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUT_NAMES = ["last_hidden_state"]
# Export fails loudly rather than silently if fp32 ONNX strays further than this from torch.
FP32_TOLERANCE = 1e-3


def default_model_dir():
    out = subprocess.check_output(
        ["bash", os.path.join(REPO, "scripts", "fetch-models.sh")], text=True
    )
    return out.strip().splitlines()[-1]


def rel(path):
    """Repository-relative path for messages (no absolute paths of this machine)."""
    try:
        return os.path.relpath(path, REPO)
    except ValueError:
        return path


def make_inputs(seq, batch=1, pad_last=0, seed=0):
    """Synthetic ids like peer_ort.py: [CLS] + random ids in 1000..29000 + [SEP].
    pad_last > 0 pads the last row's tail (id 0, mask 0) to test the mask path."""
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = np.zeros((batch, seq), dtype=np.int64)
    mask = np.ones((batch, seq), dtype=np.int64)
    for b in range(batch):
        n = seq - (pad_last if b == batch - 1 else 0)
        ids[b, 0] = 101
        ids[b, 1 : n - 1] = rng.integers(1000, 29000, size=n - 2)
        ids[b, n - 1] = 102
        mask[b, n:] = 0
    types = np.zeros((batch, seq), dtype=np.int64)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


class Wrapper:
    """Plain-tensor forward (tuple out) so both exporters see one named output."""

    @staticmethod
    def build(model):
        import torch

        class M(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                out = self.inner(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                    return_dict=True,
                )
                return out.last_hidden_state

        return M(model).eval()


def export(model, path, exporter, opset):
    import torch

    ex = make_inputs(16, batch=2, seed=1)
    args = tuple(torch.from_numpy(ex[n]) for n in INPUT_NAMES)
    wrapped = Wrapper.build(model)
    if exporter == "legacy":
        dyn = {n: {0: "batch", 1: "seq"} for n in INPUT_NAMES}
        dyn["last_hidden_state"] = {0: "batch", 1: "seq"}
        with warnings.catch_warnings():
            # the legacy exporter is deprecated in torch 2.9+; we use it on purpose
            warnings.simplefilter("ignore", category=DeprecationWarning)
            warnings.simplefilter("ignore", category=FutureWarning)
            torch.onnx.export(
                wrapped,
                args,
                path,
                input_names=INPUT_NAMES,
                output_names=OUTPUT_NAMES,
                dynamic_axes=dyn,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    else:
        batch = torch.export.Dim("batch", min=1, max=64)
        seq = torch.export.Dim("seq", min=2, max=512)
        shapes = {n: {0: batch, 1: seq} for n in INPUT_NAMES}
        prog = torch.onnx.export(
            wrapped,
            args,
            input_names=INPUT_NAMES,
            output_names=OUTPUT_NAMES,
            dynamic_shapes=shapes,
            opset_version=opset,
            dynamo=True,
            external_data=False,
        )
        prog.save(path)


def quantize(src, dst):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=True)
        return "per-channel"
    except Exception as e:  # fall back to per-tensor if per-channel is not supported
        print(f"export_onnx: per-channel quantization failed ({e!r}); using per-tensor",
              file=sys.stderr)
        quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=False)
        return "per-tensor"


def compare(model, onnx_path, cases):
    import numpy as np
    import onnxruntime as ort
    import torch

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    worst = 0.0
    min_cos = 1.0
    rows = []
    for name, feeds in cases:
        (got,) = sess.run(OUTPUT_NAMES, feeds)
        with torch.inference_mode():
            ref = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state
        ref = ref.numpy()
        # compare only real (unmasked) positions: padded rows are not meaningful
        m = feeds["attention_mask"].astype(bool)
        d = float(np.max(np.abs(got[m] - ref[m])))
        # cosine of the sentence embeddings (mean over the mask), per row
        w = m[..., None].astype(np.float64)
        eg = (got * w).sum(1) / w.sum(1)
        er = (ref * w).sum(1) / w.sum(1)
        cos = float(np.min((eg * er).sum(1) / (np.linalg.norm(eg, axis=1) * np.linalg.norm(er, axis=1))))
        rows.append((name, got.shape, d, cos))
        worst = max(worst, d)
        min_cos = min(min_cos, cos)
    return worst, min_cos, rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", default=None)
    ap.add_argument("--out-dir", default=os.path.join(REPO, ".cache", "bench"))
    ap.add_argument("--exporter", choices=["legacy", "dynamo"], default="legacy",
                    help="torch.onnx.export(dynamo=False) (default) or the torch.export-based one")
    ap.add_argument("--opset", type=int, default=None,
                    help="ONNX opset (default 17 for legacy, 18 for dynamo)")
    ap.add_argument("--force", action="store_true", help="re-export even if the files exist")
    args = ap.parse_args()

    import onnx
    import onnxruntime as ort
    import torch
    import transformers
    from transformers import AutoModel

    torch.manual_seed(0)
    if args.opset is None:
        args.opset = 17 if args.exporter == "legacy" else 18
    model_dir = args.model_dir or default_model_dir()
    os.makedirs(args.out_dir, exist_ok=True)
    fp32 = os.path.join(args.out_dir, FP32_NAME)
    int8 = os.path.join(args.out_dir, INT8_NAME)

    print(f"export_onnx: torch {torch.__version__}, transformers {transformers.__version__}, "
          f"onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    # eager attention: plain MatMul/Softmax graph, the form ORT's fusions and
    # quantize_dynamic know best, and what a reference BERT implementation computes
    model = AutoModel.from_pretrained(model_dir, dtype=torch.float32,
                                      attn_implementation="eager").eval()

    if args.force or not os.path.isfile(fp32):
        print(f"export_onnx: exporting ({args.exporter}, opset {args.opset}) -> {rel(fp32)}")
        export(model, fp32, args.exporter, args.opset)
        onnx.checker.check_model(fp32)
    else:
        print(f"export_onnx: {rel(fp32)} exists (use --force to redo)")

    if args.force or not os.path.isfile(int8):
        kind = quantize(fp32, int8)
        print(f"export_onnx: quantize_dynamic QInt8 {kind} -> {rel(int8)}")
    else:
        print(f"export_onnx: {rel(int8)} exists (use --force to redo)")

    for p in (fp32, int8):
        print(f"export_onnx: {rel(p)}: {os.path.getsize(p) / 2**20:.1f} MiB")

    cases = [
        ("b1 s16", make_inputs(16, seed=11)),
        ("b1 s64", make_inputs(64, seed=12)),
        ("b1 s128", make_inputs(128, seed=13)),
        ("b2 s40 padded", make_inputs(40, batch=2, pad_last=15, seed=14)),
    ]
    worst, _, rows = compare(model, fp32, cases)
    for name, shape, d, _c in rows:
        print(f"export_onnx: fp32  {name:14s} {tuple(shape)} max abs diff vs torch {d:.3e}")
    print(f"export_onnx: fp32 ONNX vs torch max abs diff (last_hidden_state): {worst:.3e}")
    worst8, cos8, rows8 = compare(model, int8, cases)
    for name, shape, d, c in rows8:
        print(f"export_onnx: int8  {name:14s} {tuple(shape)} max abs diff vs torch {d:.3e}, "
              f"mean-pooled cosine {c:.5f}")
    print(f"export_onnx: int8-dynamic ONNX vs torch fp32 (quantization error): max abs diff "
          f"{worst8:.3e}, min mean-pooled cosine {cos8:.5f}")
    if worst > FP32_TOLERANCE:
        print(f"export_onnx: FAIL: fp32 diff {worst:.3e} > {FP32_TOLERANCE}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
