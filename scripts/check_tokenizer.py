#!/usr/bin/python3
"""Check that Hugging Face's JS tokenizers reads our tokenizer.json exactly as
painter_tok.py encodes: every validation document and every task string
(contexts, context+continuation, choices, targets, answers, texts).

    /usr/bin/python3 scripts/check_tokenizer.py --lib /tmp/hftok/package/dist/tokenizers.mjs \
        --tokenizer models/painter-16 --corpus build/corpus --tasks models/painter-16/tasks
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import painter_tok as T  # noqa: E402


def task_strings(path):
    out = []
    with open(path, encoding="utf-8") as f:
        lines = [json.loads(x) for x in f if x.strip()]
    for d in lines[1:]:
        for k in ("context", "target", "answer", "text"):
            if d.get(k):
                out.append(d[k])
        if d.get("target"):
            out.append(d["context"] + d["target"])
        if d.get("answer"):
            out.append(d["context"] + " " + d["answer"])
        for c in d.get("choices", []):
            out.append(c)
            out.append(d["context"] + " " + c)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--tasks", required=True)
    args = ap.parse_args()
    tok = T.Tokenizer.load(os.path.join(args.tokenizer, "tokenizer.json"))
    with open(os.path.join(args.corpus, "valid.txt"), encoding="utf-8") as f:
        texts = [d for d in f.read().split("\n\n") if d.strip()]
    n_valid = len(texts)
    for p in sorted(glob.glob(os.path.join(args.tasks, "*.jsonl"))):
        texts += task_strings(p)
    with tempfile.TemporaryDirectory() as td:
        inp, outp = os.path.join(td, "in.json"), os.path.join(td, "out.json")
        with open(inp, "w", encoding="utf-8") as f:
            json.dump(texts, f, ensure_ascii=False)
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run(["node", os.path.join(here, "tokenizer_js.mjs"), args.lib, args.tokenizer, inp, outp],
                       check=True)
        with open(outp, encoding="utf-8") as f:
            js = json.load(f)
    bad = 0
    unk = 0
    for t, ids, dec in zip(texts, js["ids"], js["decoded"]):
        mine = tok.encode(t)
        unk += mine.count(T.UNK)
        # The Metaspace decoder drops the space the pre-tokenizer prepended,
        # so a string that starts with a space decodes without it.
        want = t[1:] if t.startswith(" ") else t
        if mine != ids or dec != want or tok.decode(mine) != want:
            bad += 1
            if bad <= 5:
                print("MISMATCH", repr(t), mine, ids, repr(dec))
    print(f"strings {len(texts)} (valid docs {n_valid}) mismatches {bad} unk_tokens {unk}")
    sys.exit(1 if bad or unk else 0)


if __name__ == "__main__":
    main()
