#!/usr/bin/python3
"""Export the trained painter-16 model with torch.onnx (opset 17) and write
the model directory.

    /usr/bin/python3 scripts/export.py --train build/train --corpus build/corpus --out models/painter-16

Writes OUT/model.onnx (input_ids, attention_mask -> logits), OUT/kv/model.onnx
(optimum-style KV cache: input_ids, attention_mask [batch, past+seq],
position_ids, past_key_values.{i}.key/.value [batch, kv_heads, past_seq,
head_dim] -> logits, present.{i}.key/.value), config.json, tokenizer.json and
tokenizer_config.json in both, and OUT/testdata/<model>.{in,out}.<name>.npy:
one reference feed and torch's outputs per model, for checking ONNX Runtime
(`painterc run ... --compare`).
"""

import argparse
import io
import json
import os
import shutil
import sys
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import painter_model as M  # noqa: E402
import painter_tok as T  # noqa: E402

OPSET = 17


def load(train_dir, ckpt=False, use_cache=False):
    with open(os.path.join(train_dir, "config.json")) as f:
        cfg = M.Config.from_hf(json.load(f))
    m = M.LlamaForCausalLM(cfg, use_cache=use_cache)
    if ckpt:
        sd = torch.load(os.path.join(train_dir, "ckpt.pt"))["model"]
    else:
        sd = torch.load(os.path.join(train_dir, "model.pt"))
    m.load_state_dict(sd)
    m.eval()
    return m


def export(model, inputs, output_names, dyn, path):
    args = tuple(inputs.values())
    with torch.no_grad():
        ref = model(*args)
    if not isinstance(ref, tuple):
        ref = (ref,)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, buf, export_params=True, opset_version=OPSET, do_constant_folding=True,
                          input_names=list(inputs.keys()), output_names=output_names, dynamic_axes=dyn,
                          training=torch.onnx.TrainingMode.EVAL)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    onnx.checker.check_model(onnx.load(path), full_check=True)
    return dict(zip(output_names, [r.detach() for r in ref]))


def save_ref(dir_, name, inputs, outputs):
    os.makedirs(dir_, exist_ok=True)
    for k, v in inputs.items():
        np.save(os.path.join(dir_, f"{name}.in.{k}.npy"), v.numpy())
    for k, v in outputs.items():
        np.save(os.path.join(dir_, f"{name}.out.{k}.npy"), v.numpy())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="build/train")
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--out", default="models/painter-16")
    ap.add_argument("--ckpt", action="store_true", help="export the latest checkpoint, not model.pt")
    args = ap.parse_args()
    torch.set_num_threads(1)

    tok = T.Tokenizer.load(os.path.join(args.train, "tokenizer.json"))
    with open(os.path.join(args.corpus, "valid.txt"), encoding="utf-8") as f:
        docs = [d for d in f.read().split("\n\n") if d.strip()]
    # Reference feed: two validation documents, the second right-padded.
    a, b = tok.encode(docs[0]), tok.encode(docs[1])
    seq = max(8, min(40, len(a)))
    a = (a + [T.EOS] * seq)[:seq]
    b_len = max(4, min(len(b), seq - 6))
    b = (b[:b_len] + [T.EOS] * seq)[:seq]
    ids = torch.tensor([a, b], dtype=torch.int64)
    mask = torch.ones_like(ids)
    mask[1, b_len:] = 0

    batch = "batch_size"
    ref_dir = os.path.join(args.out, "testdata")

    m = load(args.train, args.ckpt, use_cache=False)
    cfg = m.config
    inputs = {"input_ids": ids, "attention_mask": mask}
    dyn = {"input_ids": {0: batch, 1: "sequence_length"}, "attention_mask": {0: batch, 1: "sequence_length"},
           "logits": {0: batch, 1: "sequence_length"}}
    out = export(m, inputs, ["logits"], dyn, os.path.join(args.out, "model.onnx"))
    save_ref(ref_dir, "model", inputs, out)
    full_logits = out["logits"]

    # KV model: past = the first PAST tokens of the same feed (computed by
    # torch with an empty cache), then the next SEQ tokens.
    mk = load(args.train, args.ckpt, use_cache=True)
    n, kvh, hd = cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.hidden_size // cfg.num_attention_heads
    past_len, new_len = seq - 5, 5
    empty = [torch.zeros((2, kvh, 0, hd)) for _ in range(2 * n)]
    with torch.no_grad():
        pre = mk(ids[:, :past_len], mask[:, :past_len],
                 torch.arange(past_len).unsqueeze(0).expand(2, -1).contiguous(), *empty)
    past = pre[1:]
    inputs = {"input_ids": ids[:, past_len:], "attention_mask": mask,
              "position_ids": torch.arange(past_len, seq).unsqueeze(0).expand(2, -1).contiguous()}
    dyn = {"input_ids": {0: batch, 1: "sequence_length"}, "attention_mask": {0: batch, 1: "total_sequence_length"},
           "position_ids": {0: batch, 1: "sequence_length"}, "logits": {0: batch, 1: "sequence_length"}}
    outputs = ["logits"]
    for i in range(n):
        for j, kv in enumerate(("key", "value")):
            name = f"past_key_values.{i}.{kv}"
            inputs[name] = past[2 * i + j].contiguous()
            dyn[name] = {0: batch, 2: "past_sequence_length"}
    for i in range(n):
        for kv in ("key", "value"):
            name = f"present.{i}.{kv}"
            outputs.append(name)
            dyn[name] = {0: batch, 2: "total_sequence_length"}
    out = export(mk, inputs, outputs, dyn, os.path.join(args.out, "kv", "model.onnx"))
    save_ref(ref_dir, "kv", inputs, out)
    d = (out["logits"] - full_logits[:, past_len:]).abs()
    d0 = d[0].max().item()
    d1 = d[1, : max(0, b_len - past_len)].max().item() if b_len > past_len else 0.0
    print(f"torch: KV logits vs full logits max|diff| {max(d0, d1):.3g}")

    for dst in (args.out, os.path.join(args.out, "kv")):
        with open(os.path.join(dst, "config.json"), "w") as f:
            json.dump(cfg.hf(), f, indent=1)
            f.write("\n")
        for fn in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(args.train, fn), os.path.join(dst, fn))
    for root, _, files in os.walk(args.out):
        for fn in sorted(files):
            p = os.path.join(root, fn)
            if fn.endswith(".onnx"):
                print(f"{p} {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()
