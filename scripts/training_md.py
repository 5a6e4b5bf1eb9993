#!/usr/bin/python3
"""Write models/painter-16/TRAINING.md from the training log, the torch
evaluation and the check outputs.

    /usr/bin/python3 scripts/training_md.py --train build/train --model models/painter-16 \
        --checks build/checks
"""

import argparse
import json
import os
import re

INTRO = """# painter-16: how it was made

A 16-block Llama-architecture decoder trained from scratch on one CPU thread on
painterc's synthetic language (package `corpus`, `cmd/paintercorpus`), so that
painterc has a real model whose middle layers matter, to reproduce
"Transformer Layers as Painters" (Sun et al. 2024) on.

## Reproduce

```
make train      # go run ./cmd/paintercorpus --seed 1 --out build/corpus --train-docs 300000
                # nice -n 10 /usr/bin/python3 scripts/train.py --corpus build/corpus --out build/train --seed 1
make model      # scripts/export.py, scripts/eval_torch.py --ship --strategies, checks, this file
```

`scripts/train.py` pins OpenBLAS/OpenMP and torch to one thread, samples
windows with a seeded generator and checkpoints to `build/train/ckpt.pt`
every 200 steps (a rerun resumes). Results are deterministic for the same
seed, torch build and thread count.

## The language

All lower case, punctuation as separate words. Documents (shares of training
documents): stories and fact sentences about 64 invented people, each with a
fixed town, pet, job and food (22%); facts given in the text and asked about
later in it, "zu has a red cup . ... the cup of zu is red ." (14%); an object
moved between coloured boxes (10%); equations (24%); GSM8K-shaped word
problems "Question: ...\\nAnswer: <steps> #### N" (18%); counting and sorting
(12%).

**Numbers are written least-significant digit first**: 47 is "74", 40 is
"04". This holds for every number of the math half, including the `#### N`
answer (the answer regex `#### (\\-?[0-9\\.\\,]+)` is applied unchanged;
both sides use the same notation). Operand pairs of the add/sub tasks are
held out of the training equations.

## Tokenizer

BPE, {vocab} tokens (`<unk>`=0, `<s>`=1, `</s>`=2), trained by
`scripts/painter_tok.py` on the first 20,000 training documents: no
normalizer, `Metaspace` pre-tokenizer and decoder (replacement "▁",
prepend_scheme "always", split true), `BPE` model without byte fallback,
`TemplateProcessing` adding `<s>` in front. Digits are never merged with each
other (a token holds at most one digit, "▁7" included). Each document is
trained as `<s> ... </s>`.
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="build/train")
    ap.add_argument("--model", default="models/painter-16")
    ap.add_argument("--checks", default="build/checks")
    ap.add_argument("--notes", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "painter16_notes.md"))
    args = ap.parse_args()
    log = open(os.path.join(args.train, "log.txt")).read().splitlines()
    targs = json.loads(next(l for l in log if " args " in l).split(" args ", 1)[1])
    info = next(l for l in log if " vocab " in l)
    params = int(re.search(r"params (\d+)", next(l for l in log if " params " in l)).group(1))
    steps = [l for l in log if re.search(r" step \d+ ", l)]
    done = [l for l in log if " done " in l]
    cfg = json.load(open(os.path.join(args.model, "config.json")))
    res = json.load(open(os.path.join(args.model, "eval_torch.json")))
    vocab = cfg["vocab_size"]
    out = [INTRO.format(vocab=vocab)]
    p = out.append
    p("## Model and training\n")
    p(f"- architecture: Llama, {cfg['num_hidden_layers']} blocks, hidden {cfg['hidden_size']}, "
      f"{cfg['num_attention_heads']} query heads / {cfg['num_key_value_heads']} KV heads (GQA), head dim "
      f"{cfg['head_dim']}, SwiGLU {cfg['intermediate_size']}, RMSNorm eps {cfg['rms_norm_eps']}, rotary theta "
      f"{cfg['rope_theta']}, context {cfg['max_position_embeddings']}, untied lm_head; {params:,} parameters")
    p(f"- data: `{info.split(' ', 1)[1]}`")
    p(f"- hyperparameters (`scripts/train.py` defaults): `{json.dumps(targs)}`; AdamW betas (0.9, 0.95), "
      f"linear warmup then cosine to 10% of the peak rate, gradient clipping 1.0, no weight decay on norms; "
      f"random windows of {targs['ctx']}+1 tokens from the packed stream")
    if done:
        d = done[-1]
        st = re.search(r"steps (\d+) tokens (\d+) train_wall (\d+)s", d)
        p(f"- run: {int(st.group(1)):,} steps, {int(st.group(2)):,} tokens seen, training wall time "
          f"{int(st.group(3)) / 60:.1f} min on one thread (niced, machine shared)")
    last = steps[-1]
    p(f"- final held-out loss: {re.search(r'valid_loss ([0-9.]+)', last).group(1)} nats/token "
      f"(64 fixed windows of validation text)\n")
    p("### Loss log\n")
    p("| step | tokens | train loss | held-out loss | elapsed s | tok/s |")
    p("|---:|---:|---:|---:|---:|---:|")
    for l in steps:
        m = re.search(r"step (\d+) tokens (\d+) train_loss ([0-9.]+) valid_loss ([0-9.]+) lr \S+ elapsed (\d+)s "
                      r"tok/s (\d+)", l)
        if m:
            p("| " + " | ".join(m.groups()) + " |")
    p("")
    p("## Tasks (full model, torch, lm-eval rules)\n")
    p("Scored by `scripts/eval_torch.py` (rules in its docstring). Baselines: 1/choices for multiple choice; "
      "for loglikelihood and generate, the score of always giving the most frequent gold answer.\n")
    p("| task | kind | metric | score | baseline | items | shipped |")
    p("|---|---|---|---:|---:|---:|---|")
    dropped = []
    for name, r in sorted(res.items()):
        if name.startswith("_"):
            continue
        if r["kind"] == "rolling":
            p(f"| {name} | rolling | token perplexity | {r['token_perplexity']:.3f} "
              f"({r['nats_per_char']:.3f} nats/char) | – | {r['items']} | yes |")
            continue
        metric = {"multiple_choice": "acc", "loglikelihood": "acc (greedy)", "generate": "exact_match"}[r["kind"]]
        extra = f" (acc_norm {r['acc_norm']:.3f})" if "acc_norm" in r else ""
        p(f"| {name} | {r['kind']} | {metric} | {r['main']:.3f}{extra} | {r['baseline']:.3f} | {r['items']} | "
          f"{'yes' if r['shipped'] else 'no'} |")
        if not r["shipped"]:
            dropped.append((name, r))
    p("")
    if dropped:
        p("Dropped (full model less than 0.3 above baseline, so the task files are not shipped):\n")
        for name, r in dropped:
            p(f"- `{name}`: {r['main']:.3f} vs baseline {r['baseline']:.3f}")
        p("")
    gen = res.get("problems_gen")
    if gen and gen.get("examples"):
        p("Example generation (problems_gen):\n")
        p("```")
        for e in gen["examples"][:2]:
            p(e["context"] + "|" + e["output"])
            p("  gold:" + e["answer"])
        p("```\n")
    if "_strategies" in res:
        st = res["_strategies"]
        names = [k for k in next(iter(st.values()))["scores"] if k != "mean"]
        n_items = res.get("_strategy_items", "")
        p("## The paper's strategies in torch (sanity check)\n")
        p(f"Layer plans applied by editing the module list (`LlamaModel.plan` in `scripts/painter_model.py`; a "
          f"step of several layers runs them on the same input and averages, the paper's parallel). Middle = "
          f"layers {cfg['num_hidden_layers'] // 4}-{cfg['num_hidden_layers'] - cfg['num_hidden_layers'] // 4 - 1}. "
          f"First {n_items} items of each shipped multiple-choice / loglikelihood task.\n")
        p("| strategy | " + " | ".join(names) + " | mean |")
        p("|---|" + "---:|" * (len(names) + 1))
        for s, v in st.items():
            p(f"| {s} | " + " | ".join(f"{v['scores'][k]:.3f}" for k in names) + f" | {v['scores']['mean']:.3f} |")
        p("")
    if args.notes and os.path.exists(args.notes):
        p(open(args.notes).read().strip() + "\n")
    p("## Checks\n")
    for fn, title in (("ort.txt", "ONNX Runtime vs torch (`scripts/ort_check.sh`, painterc run, ORT 1.24)"),
                      ("tokenizer.txt", "@huggingface/tokenizers (JS) vs scripts/painter_tok.py "
                                        "(`scripts/check_tokenizer.py`)"),
                      ("strategies.txt", "painterc's rewrites on ORT vs the same layer plans in torch, reference feed "
                                         "(`scripts/strategy_check.py`)")):
        path = os.path.join(args.checks, fn)
        if os.path.exists(path):
            p(f"{title}:\n\n```\n{open(path).read().strip()}\n```\n")
    p("## Files\n")
    p("| file | bytes |")
    p("|---|---:|")
    total = 0
    for root, _, files in sorted(os.walk(args.model)):
        for fn in sorted(files):
            if fn == "TRAINING.md":
                continue
            fp = os.path.join(root, fn)
            total += os.path.getsize(fp)
            if "testdata" in root and fn.endswith(".npy") and ".0." not in fn and not fn.startswith(("model.", "kv.in.input", "kv.in.att", "kv.in.pos", "kv.out.logits")):
                continue
            p(f"| {os.path.relpath(fp, args.model)} | {os.path.getsize(fp):,} |")
    p(f"\n(per-layer KV .npy references for layers 1-15 omitted from this table) total {total:,} bytes\n")
    with open(os.path.join(args.model, "TRAINING.md"), "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
