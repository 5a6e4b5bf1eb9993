#!/usr/bin/python3
"""Train painterc's 16-block test model on the synthetic corpus (CPU, one thread).

    go run ./cmd/paintercorpus --seed 1 --out build/corpus
    nice -n 10 /usr/bin/python3 scripts/train.py --corpus build/corpus --out build/train

(`make train` runs both.) Writes, under --out: tokenizer.json, log.txt (held-out
loss every --eval-every steps), ckpt.pt (every --ckpt-every steps; a rerun
resumes from it), and model.pt at the end. Deterministic for a given seed
and thread count.
"""

import argparse
import json
import math
import os
import sys
import time

# One compute thread: OpenBLAS and OpenMP start their own pools unless told
# before torch is imported (torch.set_num_threads alone left two busy).
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import painter_model as M  # noqa: E402
import painter_tok as T  # noqa: E402


def read_docs(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in f.read().split("\n\n") if d.strip()]


def stream(tok, docs):
    ids = []
    for d in docs:
        ids += tok.encode(d)  # <s> first
        ids.append(T.EOS)
    return np.array(ids, dtype=np.int16)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default="build/corpus")
    ap.add_argument("--out", default="build/train")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--vocab", type=int, default=500)
    ap.add_argument("--tok-docs", type=int, default=20000)
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--intermediate", type=int, default=256)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=7000)
    ap.add_argument("--lr", type=float, default=2.5e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    t_start = time.time()
    log_path = os.path.join(args.out, "log.txt")

    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        with open(log_path, "a") as f:
            f.write(line + "\n")

    train_docs = read_docs(os.path.join(args.corpus, "train.txt"))
    valid_docs = read_docs(os.path.join(args.corpus, "valid.txt"))
    tok = T.train(train_docs[: args.tok_docs], args.vocab)
    tok.save(os.path.join(args.out, "tokenizer.json"))
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump(T.config_json(), f, indent=1)
    ids_path = os.path.join(args.out, "train_ids.npy")
    if os.path.exists(ids_path):
        train_ids = np.load(ids_path)
    else:
        train_ids = stream(tok, train_docs)
        np.save(ids_path, train_ids)
    valid_ids = stream(tok, valid_docs)
    log(f"args {json.dumps(vars(args))}")
    log(f"vocab {len(tok.vocab)} train_tokens {len(train_ids)} valid_tokens {len(valid_ids)} "
        f"chars/token {sum(map(len, train_docs)) / len(train_ids):.2f}")

    cfg = M.Config(len(tok.vocab), args.hidden, args.intermediate, args.layers, args.heads, args.kv_heads,
                   args.ctx)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg.hf(), f, indent=1)
    torch.manual_seed(args.seed)
    model = M.LlamaForCausalLM(cfg)
    M.init_weights(model, args.seed)
    nparams = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    rng = np.random.default_rng(args.seed)
    step, tokens, elapsed_before = 0, 0, 0.0
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        rng.bit_generator.state = ck["rng"]
        step, tokens, elapsed_before = ck["step"], ck["tokens"], ck["elapsed"]
        log(f"resumed at step {step}")
    else:
        log(f"params {nparams} config {json.dumps(cfg.hf())}")

    # Fixed held-out windows.
    n_valid = min(64, (len(valid_ids) - 1) // (args.ctx + 1))
    vx = torch.from_numpy(valid_ids[: n_valid * (args.ctx + 1)].astype(np.int64)).view(n_valid, args.ctx + 1)

    def valid_loss():
        model.eval()
        with torch.no_grad():
            tot = 0.0
            for i in range(0, n_valid, 16):
                b = vx[i:i + 16]
                logits = model(b[:, :-1], torch.ones_like(b[:, :-1]))
                tot += torch.nn.functional.cross_entropy(
                    logits.reshape(-1, cfg.vocab_size), b[:, 1:].reshape(-1), reduction="sum").item()
        model.train()
        return tot / (n_valid * args.ctx)

    def lr_at(s):
        if s < args.warmup:
            return args.lr * (s + 1) / args.warmup
        p = (s - args.warmup) / max(1, args.steps - args.warmup)
        return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    t0 = time.time()
    run_loss, run_n = 0.0, 0
    model.train()
    while step < args.steps:
        starts = rng.integers(0, len(train_ids) - args.ctx - 1, size=args.batch)
        batch = np.stack([train_ids[s:s + args.ctx + 1] for s in starts]).astype(np.int64)
        b = torch.from_numpy(batch)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(b[:, :-1], torch.ones_like(b[:, :-1]))
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab_size), b[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += args.batch * args.ctx
        run_loss += loss.item()
        run_n += 1
        elapsed = elapsed_before + time.time() - t0
        if step % args.eval_every == 0 or step == args.steps:
            log(f"step {step} tokens {tokens} train_loss {run_loss / run_n:.4f} valid_loss {valid_loss():.4f} "
                f"lr {lr_at(step - 1):.2e} elapsed {elapsed:.0f}s tok/s {tokens / max(elapsed, 1e-9):.0f}")
            run_loss, run_n = 0.0, 0
        if step % args.ckpt_every == 0 or step == args.steps:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": rng.bit_generator.state,
                        "step": step, "tokens": tokens, "elapsed": elapsed}, ckpt_path + ".tmp")
            os.replace(ckpt_path + ".tmp", ckpt_path)
    torch.save(model.state_dict(), os.path.join(args.out, "model.pt"))
    log(f"done steps {step} tokens {tokens} train_wall {elapsed_before + time.time() - t0:.0f}s "
        f"total_wall {time.time() - t_start:.0f}s")


if __name__ == "__main__":
    main()
