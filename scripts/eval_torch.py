#!/usr/bin/python3
"""Score task files on the torch model with lm-eval's rules.

    /usr/bin/python3 scripts/eval_torch.py --train build/train --tasks build/corpus/tasks \
        --out models/painter-16 [--ship] [--strategies]

Rules (as lm-evaluation-harness does for these kinds):
  * a request is (context, continuation); trailing whitespace of the context
    moves to the front of the continuation;
  * context tokens = encode(context) (with <s>); continuation tokens =
    encode(context + continuation)[len(context tokens):];
  * loglik = sum of log-softmax over the continuation tokens; is_greedy =
    every continuation token is the argmax;
  * multiple_choice: continuation = " " + choice; acc = argmax loglik;
    acc_norm = argmax loglik / len(choice);
  * loglikelihood: continuation = target as written; acc = is_greedy;
  * generate: greedy decoding from encode(context) for at most max_gen_toks
    tokens, stopping at </s> or at any "until" string (cut there); the answer
    regex "#### (-?[0-9.,]+)" must give the same string on the output and on
    the reference answer (exact_match);
  * rolling: token perplexity of <s> + text (and nats per character).

Writes OUT/eval_torch.json (per-task scores) and
OUT/testdata/torch_loglik.jsonl (per-request log-likelihoods of the first
50 docs of every multiple_choice and loglikelihood task). With --ship, task
files whose main score is >= 0.3 above their baseline are copied to OUT/tasks
(rolling always). With --strategies, also scores the paper's layer
strategies on the multiple-choice and loglikelihood tasks.
"""

import argparse
import glob
import json
import math
import os
import re
import shutil
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export as E  # noqa: E402
import painter_tok as T  # noqa: E402

ANS_RE = re.compile(r"#### (\-?[0-9\.\,]+)")
REF_DOCS = 50


def read_task(path):
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(x) for x in f if x.strip()]
    return rows[0]["task"], rows[1:]


def split_ws(context, continuation):
    n = len(context) - len(context.rstrip())
    if n:
        continuation = context[-n:] + continuation
        context = context[:-n]
    return context, continuation


class Scorer:
    def __init__(self, model, tok, max_len):
        self.m, self.tok, self.max_len = model, tok, max_len

    def requests_tokens(self, context, continuation):
        context, continuation = split_ws(context, continuation)
        ctx = self.tok.encode(context)
        whole = self.tok.encode(context + continuation)
        assert whole[: len(ctx)] == ctx, (context, continuation)
        return ctx, whole[len(ctx):]

    def loglik(self, reqs, batch=32):
        """reqs: list of (context, continuation) -> list of (loglik, is_greedy, ctx_ids, cont_ids)."""
        toks = [self.requests_tokens(c, x) for c, x in reqs]
        out = [None] * len(toks)
        order = sorted(range(len(toks)), key=lambda i: -len(toks[i][0]) - len(toks[i][1]))
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            seqs = []
            for i in idx:
                ctx, cont = toks[i]
                full = (ctx + cont)[-(self.max_len + 1):]
                seqs.append(full)
            L = max(len(x) - 1 for x in seqs)
            ids = torch.full((len(seqs), L), T.EOS, dtype=torch.int64)
            mask = torch.zeros((len(seqs), L), dtype=torch.int64)
            for r, x in enumerate(seqs):
                ids[r, : len(x) - 1] = torch.tensor(x[:-1])
                mask[r, : len(x) - 1] = 1
            with torch.no_grad():
                logp = torch.log_softmax(self.m(ids, mask).double(), dim=-1)
            for r, i in enumerate(idx):
                x = seqs[r]
                n = len(toks[i][1])
                tgt = torch.tensor(x[-n:])
                lp = logp[r, len(x) - 1 - n: len(x) - 1]
                ll = lp.gather(1, tgt[:, None]).sum().item()
                greedy = bool((lp.argmax(-1) == tgt).all())
                out[i] = (ll, greedy, toks[i][0], toks[i][1])
        return out

    def generate(self, contexts, until, max_gen, batch=32):
        outs = []
        for s in range(0, len(contexts), batch):
            chunk = contexts[s:s + batch]
            seqs = [self.tok.encode(c) for c in chunk]
            gen = [[] for _ in chunk]
            done = [False] * len(chunk)
            for _ in range(max_gen):
                live = [i for i in range(len(chunk)) if not done[i]]
                if not live:
                    break
                xs = [(seqs[i] + gen[i])[-self.max_len:] for i in live]
                L = max(len(x) for x in xs)
                ids = torch.full((len(xs), L), T.EOS, dtype=torch.int64)
                mask = torch.zeros((len(xs), L), dtype=torch.int64)
                for r, x in enumerate(xs):  # left-pad so the last column is each row's next position
                    ids[r, L - len(x):] = torch.tensor(x)
                    mask[r, L - len(x):] = 1
                pos = (mask.cumsum(-1) - 1).clamp(min=0)
                with torch.no_grad():
                    nxt = self.m(ids, mask, pos)[:, -1].argmax(-1).tolist()
                for r, i in enumerate(live):
                    if nxt[r] == T.EOS:
                        done[i] = True
                        continue
                    gen[i].append(nxt[r])
                    text = self.tok.decode(gen[i])
                    if any(u in text for u in until):
                        done[i] = True
            for g in gen:
                text = self.tok.decode(g)
                # the decoder drops the first token's leading space; the
                # continuation of "Answer:" starts with one
                if g and self.tok.vocab[g[0]].startswith(T.SPACE):
                    text = " " + text
                for u in until:
                    if u in text:
                        text = text[: text.index(u)]
                outs.append(text)
        return outs

    def rolling(self, texts):
        tot_ll, tot_tok, tot_chars = 0.0, 0, 0
        for t in texts:
            ids = self.tok.encode(t) + [T.EOS]
            for s in range(0, len(ids) - 1, self.max_len):
                x = ids[max(0, s - 0): s + self.max_len + 1]
                inp = torch.tensor([x[:-1]])
                with torch.no_grad():
                    lp = torch.log_softmax(self.m(inp, torch.ones_like(inp)).double(), -1)
                tot_ll += lp[0].gather(1, torch.tensor(x[1:])[:, None]).sum().item()
                tot_tok += len(x) - 1
            tot_chars += len(t)
        return {"token_perplexity": math.exp(-tot_ll / tot_tok), "nats_per_char": -tot_ll / tot_chars,
                "tokens": tot_tok}


def score_task(sc, header, docs, ref=None, limit=None):
    kind = header["kind"]
    docs = docs[:limit] if limit else docs
    if kind == "multiple_choice":
        reqs, owner = [], []
        for di, d in enumerate(docs):
            for ci, c in enumerate(d["choices"]):
                reqs.append((d["context"], " " + c))
                owner.append((di, ci))
        res = sc.loglik(reqs)
        lls = [[None] * len(d["choices"]) for d in docs]
        for (di, ci), r, q in zip(owner, res, reqs):
            lls[di][ci] = r[0]
            if ref is not None and di < REF_DOCS:
                ref.append({"task": header["name"], "doc": di, "choice": ci, "context": q[0],
                            "continuation": q[1], "context_tokens": r[2], "continuation_tokens": r[3],
                            "loglik": r[0], "is_greedy": r[1]})
        acc = sum(max(range(len(l)), key=lambda i: l[i]) == d["gold"] for l, d in zip(lls, docs)) / len(docs)
        accn = sum(max(range(len(l)), key=lambda i: l[i] / len(d["choices"][i])) == d["gold"]
                   for l, d in zip(lls, docs)) / len(docs)
        return {"acc": acc, "acc_norm": accn, "main": acc, "items": len(docs)}
    if kind == "loglikelihood":
        reqs = [(d["context"], d["target"]) for d in docs]
        res = sc.loglik(reqs)
        if ref is not None:
            for di, (r, q) in enumerate(zip(res, reqs)):
                if di < REF_DOCS:
                    ref.append({"task": header["name"], "doc": di, "choice": 0, "context": q[0],
                                "continuation": q[1], "context_tokens": r[2], "continuation_tokens": r[3],
                                "loglik": r[0], "is_greedy": r[1]})
        acc = sum(r[1] for r in res) / len(docs)
        ppl = math.exp(-sum(r[0] for r in res) / len(docs))
        return {"acc": acc, "perplexity": ppl, "main": acc, "items": len(docs)}
    if kind == "generate":
        outs = sc.generate([d["context"] for d in docs], header.get("until", []), header.get("max_gen_toks", 256))
        ok = 0
        for o, d in zip(outs, docs):
            m, g = ANS_RE.search(o), ANS_RE.search(d["answer"])
            ok += bool(m and g and m.group(1) == g.group(1))
        return {"exact_match": ok / len(docs), "main": ok / len(docs), "items": len(docs),
                "examples": [{"context": d["context"], "output": o, "answer": d["answer"]}
                             for o, d in list(zip(outs, docs))[:3]]}
    if kind == "rolling":
        r = sc.rolling([d["text"] for d in docs])
        r.update({"main": None, "items": len(docs)})
        return r
    raise ValueError(kind)


def strategies(n, mid_lo, mid_hi, seed=0):
    """The paper's layer plans over layers [mid_lo, mid_hi) of n."""
    first, mid, last = list(range(mid_lo)), list(range(mid_lo, mid_hi)), list(range(mid_hi, n))
    g = torch.Generator().manual_seed(seed)
    shuf = [mid[i] for i in torch.randperm(len(mid), generator=g).tolist()]
    center = mid[len(mid) // 2]
    one = lambda xs: [[i] for i in xs]  # noqa: E731
    return {
        "full": one(range(n)),
        f"skip {mid_lo}-{mid_hi - 1}": one(first + last),
        f"skip middle 4 ({n // 2 - 2}-{n // 2 + 1})": one([i for i in range(n) if not n // 2 - 2 <= i < n // 2 + 2]),
        f"repeat layer {center} x{len(mid)}": one(first + [center] * len(mid) + last),
        "reverse middle": one(first + mid[::-1] + last),
        "shuffle middle": one(first + shuf + last),
        "parallel middle": one(first) + [mid] + one(last),
        "looped parallel x2": one(first) + [mid] * 2 + one(last),
        "parallel pairs": one(first) + [mid[i:i + 2] for i in range(0, len(mid), 2)] + one(last),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", default="build/train")
    ap.add_argument("--tasks", default="build/corpus/tasks")
    ap.add_argument("--out", default="models/painter-16")
    ap.add_argument("--ckpt", action="store_true")
    ap.add_argument("--ship", action="store_true")
    ap.add_argument("--strategies", action="store_true")
    ap.add_argument("--strategy-items", type=int, default=200)
    ap.add_argument("--only", default="")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = E.load(args.train, args.ckpt)
    tok = T.Tokenizer.load(os.path.join(args.train, "tokenizer.json"))
    sc = Scorer(model, tok, model.config.max_position_embeddings)
    results, ref = {}, []
    paths = sorted(glob.glob(os.path.join(args.tasks, "*.jsonl")))
    if args.only:
        paths = [p for p in paths if os.path.basename(p)[:-6] in args.only.split(",")]
    for p in paths:
        header, docs = read_task(p)
        t0 = time.time()
        r = score_task(sc, header, docs, ref, args.limit or None)
        r["baseline"] = header["baseline"]
        r["kind"] = header["kind"]
        if r["main"] is not None:
            r["shipped"] = r["main"] >= header["baseline"] + 0.3
        else:
            r["shipped"] = True
        r["seconds"] = round(time.time() - t0, 1)
        results[header["name"]] = r
        print(json.dumps({header["name"]: {k: v for k, v in r.items() if k != "examples"}}), flush=True)
    os.makedirs(os.path.join(args.out, "testdata"), exist_ok=True)
    if not args.limit:
        with open(os.path.join(args.out, "testdata", "torch_loglik.jsonl"), "w", encoding="utf-8") as f:
            for row in ref:
                if row["task"] in results and results[row["task"]]["shipped"]:
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
    if args.ship:
        os.makedirs(os.path.join(args.out, "tasks"), exist_ok=True)
        for p in paths:
            name = os.path.basename(p)[:-6]
            dst = os.path.join(args.out, "tasks", name + ".jsonl")
            if results[name]["shipped"]:
                shutil.copy(p, dst)
            elif os.path.exists(dst):
                os.remove(dst)
    if args.strategies:
        n = model.config.num_hidden_layers
        strat = {}
        for sname, plan in strategies(n, n // 4, n - n // 4).items():
            model.model.plan = plan
            row = {}
            for p in paths:
                header, docs = read_task(p)
                if header["kind"] not in ("multiple_choice", "loglikelihood") or not results[header["name"]]["shipped"]:
                    continue
                row[header["name"]] = score_task(sc, header, docs, None, args.strategy_items)["main"]
            row["mean"] = sum(row.values()) / max(1, len(row))
            strat[sname] = {"plan": plan, "scores": row}
            print(json.dumps({sname: row}), flush=True)
        model.model.plan = None
        results["_strategies"] = strat
        results["_strategy_items"] = args.strategy_items
    with open(os.path.join(args.out, "eval_torch.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
