"""The PyTorch referee for painterc schedules on real exports.

It runs a painterc schedule (docs/design.md "The schedule language") over a
Hugging Face model's OWN modules: its embedding, its rotary embeddings, its
masks, its decoder layers (model.model.layers[i] / transformer.h[i] /
encoder.layer[i]), its final norm and its head. Nothing is re-implemented
except the loop over blocks:

  - a block instance calls layer i with the mask and rotary embedding of
    layer i's own attention type (Gemma 3: sliding or full, from
    config.layer_types), wherever in the schedule it runs;
  - a parallel group feeds every member the same h and takes the mean;
  - a sub-block step runs one half of layer i with the layer's own
    submodules, as its forward does: i.attn the attention sublayer
    (Llama, Qwen3: h + self_attn(input_layernorm(h)); Gemma 3 adds its
    post_attention_layernorm; GPT-2 h + attn(ln_1(h)); BERT
    attention(h), whose output LayerNorm holds the residual), i.mlp the
    MLP sublayer (h + mlp(post_attention_layernorm(h)); Gemma 3 between
    its pre- and post-feedforward norms; GPT-2 h + mlp(ln_2(h)); BERT
    feed_forward_chunk(h));
  - every instance k (execution order; each parallel member, in ascending
    block order as painterc unrolls it, and each loop iteration) owns KV
    slot k: the attention module's layer_idx is set to k while it runs, on a
    cache of K slots. An attention half is an instance; an MLP half has no
    cache and takes no slot.

As a script it writes one fixture folder (testdata/real/<arch>-<exporter>,
see FIXTURES.md): referee.json and the .npy inputs and outputs of a prefill
and a one-token cached decode for every schedule, named after the ONNX
file's own graph inputs. Before writing anything it checks itself: the
identity schedule must equal the model's plain forward and the export on
onnxruntime (recorded in referee.json under "referee_check").

    schedule_referee.py --model HF_FOLDER --export EXPORT_FOLDER --exporter NAME
                        --out FIXTURE_FOLDER [--painterc bin/painterc]

With --append SCHEDULE ... it adds cases for those schedules to the
fixture's existing referee.json instead (after the same self-check), so
that new schedule forms can join a fixture without regenerating it.
"""

import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np
import torch

# ---------------------------------------------------------------- schedules


def parse_schedule(src):
    """Parse a schedule into a tree: ("block", i) | ("attn", i) | ("mlp", i)
    | ("seq", [steps], R) | ("par", [blocks], R). Ranges a-b expand in place
    (descending when a > b); a-bxR is a sequential group repeated R times;
    i.attn and i.mlp are one block's halves."""
    pos = 0

    def peek():
        return src[pos] if pos < len(src) else ""

    def number():
        nonlocal pos
        m = re.match(r"\s*(\d+)", src[pos:])
        if not m:
            raise ValueError(f"schedule {src!r}: a number expected at column {pos + 1}")
        pos += m.end()
        return int(m.group(1))

    def skip():
        nonlocal pos
        while pos < len(src) and src[pos] == " ":
            pos += 1

    def repeat():
        nonlocal pos
        skip()
        if peek() == "x":
            pos += 1
            return number()
        return 1

    def rng():
        nonlocal pos
        a = number()
        skip()
        if peek() == "-":
            pos += 1
            b = number()
            return list(range(a, b + 1)) if a <= b else list(range(a, b - 1, -1))
        return [a]

    def items(close):
        nonlocal pos
        out = []
        while True:
            skip()
            c = peek()
            if c == "(":
                pos += 1
                inner = items(")")
                out.append(("seq", inner, repeat()))
            elif c == "[":
                pos += 1
                members = []
                while True:
                    members += rng()
                    skip()
                    if peek() == ",":
                        pos += 1
                        continue
                    if peek() != "]":
                        raise ValueError(f"schedule {src!r}: ']' expected at column {pos + 1}")
                    pos += 1
                    break
                out.append(("par", sorted(members), repeat()))
            else:
                blocks = rng()
                kind = "block"
                skip()
                m = re.match(r"\.(attn|mlp)", src[pos:])
                if m:
                    if len(blocks) != 1:
                        raise ValueError(f"schedule {src!r}: a part applies to one block (column {pos + 1})")
                    pos += m.end()
                    kind = m.group(1)
                r = repeat()
                if r == 1:
                    out += [(kind, b) for b in blocks]
                else:
                    out.append(("seq", [(kind, b) for b in blocks], r))
            skip()
            if peek() == ",":
                pos += 1
                continue
            if close and peek() == close:
                pos += 1
                return out
            if not close and pos >= len(src):
                return out
            raise ValueError(f"schedule {src!r}: unexpected {peek()!r} at column {pos + 1}")

    return items(None)


def instances(tree):
    """The blocks in execution order: slot k runs block instances(tree)[k].
    An attention half holds a slot; an MLP half does not."""
    out = []
    for step in tree:
        if step[0] in ("block", "attn"):
            out.append(step[1])
        elif step[0] == "mlp":
            pass
        elif step[0] == "seq":
            for _ in range(step[2]):
                out += instances(step[1])
        else:
            for _ in range(step[2]):
                out += step[1]
    return out


# ---------------------------------------------------------------- the model


class Runner:
    """The model's own pieces, called around a scheduled loop of blocks."""

    def __init__(self, model):
        self.model = model
        self.cfg = model.config
        self.kind = self.cfg.model_type  # llama, qwen3, gemma3_text, gpt2, bert

    def layers(self):
        if self.kind == "gpt2":
            return self.model.transformer.h
        if self.kind == "bert":
            return self.model.encoder.layer
        return self.model.model.layers

    def attn(self, layer):
        if self.kind == "gpt2":
            return layer.attn
        if self.kind == "bert":
            return None
        return layer.self_attn

    def run(self, schedule, input_ids, attention_mask, position_ids=None, cache=None,
            token_type_ids=None):
        """Returns (output, cache): logits (decoders) or last_hidden_state
        (BERT), and the DynamicCache with one slot per instance."""
        from transformers import DynamicCache
        from transformers.masking_utils import create_causal_mask, create_sliding_window_causal_mask
        tree = parse_schedule(schedule)
        layers = self.layers()
        S = input_ids.shape[1]
        if self.kind == "bert":
            h = self.model.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
            ext = self.model.get_extended_attention_mask(attention_mask, input_ids.shape)

            def call(i, h, k):
                return _first(layers[i](h, attention_mask=ext))

            def half(part, i, h, k):
                layer = layers[i]
                if part == "attn":  # BertAttention: LayerNorm(h + dense(self(h)))
                    return _first(layer.attention(h, attention_mask=ext))
                return layer.feed_forward_chunk(h)  # LayerNorm(h + output(intermediate(h)))
            return self._loop(tree, h, call, half), None

        if cache is None:
            cache = DynamicCache()  # no config: every slot keeps the whole past
        past = cache.get_seq_length()
        cache_position = torch.arange(past, past + S)
        if position_ids is None:
            position_ids = cache_position.unsqueeze(0)
        if self.kind == "gpt2":
            tr = self.model.transformer
            h = tr.wte(input_ids) + tr.wpe(position_ids)
        else:
            h = self.model.model.embed_tokens(input_ids)
        mk = dict(config=self.cfg, input_embeds=h, attention_mask=attention_mask,
                  cache_position=cache_position, past_key_values=cache, position_ids=position_ids)
        masks = {"full_attention": create_causal_mask(**mk)}
        if getattr(self.cfg, "layer_types", None) and "sliding_attention" in self.cfg.layer_types:
            masks["sliding_attention"] = create_sliding_window_causal_mask(**mk)
        common = dict(past_key_values=cache, use_cache=True, cache_position=cache_position)
        if self.kind == "gpt2":
            def call(i, h, k):
                return _first(layers[i](h, cache, cache_position, masks["full_attention"],
                                        use_cache=True))

            def half(part, i, h, k):
                layer = layers[i]
                if part == "attn":
                    a = _first(layer.attn(layer.ln_1(h), past_key_values=cache, cache_position=cache_position,
                                          attention_mask=masks["full_attention"], use_cache=True))
                    return a + h
                return h + layer.mlp(layer.ln_2(h))
        elif self.kind == "gemma3_text":
            inner = self.model.model
            pe_global = inner.rotary_emb(h, position_ids)
            pe_local = inner.rotary_emb_local(h, position_ids)

            def call(i, h, k):
                layer = layers[i]
                return _first(layer(h, position_embeddings_global=pe_global,
                                    position_embeddings_local=pe_local,
                                    attention_mask=masks[layer.attention_type],
                                    position_ids=position_ids, **common))

            def half(part, i, h, k):
                layer = layers[i]
                if part == "attn":
                    pe = pe_local if layer.self_attn.is_sliding else pe_global
                    a = _first(layer.self_attn(hidden_states=layer.input_layernorm(h), position_embeddings=pe,
                                               attention_mask=masks[layer.attention_type],
                                               position_ids=position_ids, **common))
                    return h + layer.post_attention_layernorm(a)
                return h + layer.post_feedforward_layernorm(layer.mlp(layer.pre_feedforward_layernorm(h)))
        else:  # llama, qwen3
            pe = self.model.model.rotary_emb(h, position_ids)

            def call(i, h, k):
                layer = layers[i]
                kind = getattr(layer, "attention_type", "full_attention")
                return _first(layer(h, attention_mask=masks[kind], position_ids=position_ids,
                                    position_embeddings=pe, **common))

            def half(part, i, h, k):
                layer = layers[i]
                if part == "attn":
                    kind = getattr(layer, "attention_type", "full_attention")
                    a = _first(layer.self_attn(hidden_states=layer.input_layernorm(h),
                                               attention_mask=masks[kind], position_ids=position_ids,
                                               position_embeddings=pe, **common))
                    return h + a
                return h + layer.mlp(layer.post_attention_layernorm(h))

        def slotted(i, h, k):
            attn = self.attn(layers[i])
            saved = attn.layer_idx
            attn.layer_idx = k
            try:
                return call(i, h, k)
            finally:
                attn.layer_idx = saved

        def slotted_half(part, i, h, k):
            if part == "mlp":
                return half(part, i, h, k)
            attn = self.attn(layers[i])
            saved = attn.layer_idx
            attn.layer_idx = k
            try:
                return half(part, i, h, k)
            finally:
                attn.layer_idx = saved

        h = self._loop(tree, h, slotted, slotted_half)
        if self.kind == "gpt2":
            logits = self.model.lm_head(self.model.transformer.ln_f(h))
        else:
            logits = self.model.lm_head(self.model.model.norm(h))
            cap = getattr(self.cfg, "final_logit_softcapping", None)
            if cap:
                logits = torch.tanh(logits / cap) * cap
        return logits, cache

    def _loop(self, tree, h, call, half):
        slot = [0]

        def run(steps, h):
            for step in steps:
                if step[0] == "block":
                    h = call(step[1], h, slot[0])
                    slot[0] += 1
                elif step[0] == "attn":
                    h = half("attn", step[1], h, slot[0])
                    slot[0] += 1
                elif step[0] == "mlp":
                    h = half("mlp", step[1], h, None)
                elif step[0] == "seq":
                    for _ in range(step[2]):
                        h = run(step[1], h)
                else:
                    for _ in range(step[2]):
                        outs = []
                        for b in step[1]:
                            outs.append(call(b, h, slot[0]))
                            slot[0] += 1
                        h = torch.stack(outs).mean(0)
            return h
        return run(tree, h)


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def load_model(model_dir, attn="eager"):
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM
    cfg = AutoConfig.from_pretrained(model_dir)
    cls = AutoModel if cfg.model_type == "bert" else AutoModelForCausalLM
    m = cls.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation=attn)
    m.eval()
    return m


# ---------------------------------------------------------------- int4 weights


def load_int4_weights(model, onnx_path):
    """Replace every weight the int4 export quantized (MatMulNBits) by the
    export's own dequantized values, so that the referee computes what the
    int4 file computes up to activation rounding. Returns the names loaded."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(onnx_path)
    inits = {t.name: t for t in m.graph.initializer}

    def arr(name):
        return numpy_helper.to_array(inits[name])
    loaded = []
    by_scales = {}
    for node in m.graph.node:
        if node.op_type == "GatherBlockQuantized":
            # The builder quantizes a tied embedding as the head's own
            # blocks (it gathers from a Reshape of lm_head's _Q4 with
            # lm_head's scales): the table is the dequantized head.
            gathers = by_scales.setdefault(node.input[2], [])
            gathers.append(node.name)
            continue
        if node.op_type != "MatMulNBits":
            continue
        a = {x.name: onnx.helper.get_attribute_value(x) for x in node.attribute}
        K, N, bits, bs = a["K"], a["N"], a.get("bits", 4), a["block_size"]
        if bits != 4:
            raise SystemExit(f"{onnx_path}: {node.name}: {bits}-bit MatMulNBits not handled")
        q = arr(node.input[1]).reshape(N, -1)  # [N, blocks * bs / 2] bytes
        nib = np.stack([q & 0x0F, q >> 4], axis=-1).reshape(N, -1).astype(np.float32)
        scales = arr(node.input[2]).reshape(N, -1).astype(np.float32)
        nblocks = scales.shape[1]
        if len(node.input) > 3 and node.input[3]:
            zp = arr(node.input[3]).reshape(N, -1)
            zp = np.stack([zp & 0x0F, zp >> 4], axis=-1).reshape(N, -1)[:, :nblocks].astype(np.float32)
        else:
            zp = np.full((N, nblocks), 8.0, np.float32)
        w = (nib[:, :nblocks * bs].reshape(N, nblocks, bs) - zp[:, :, None]) * scales[:, :, None]
        w = w.reshape(N, nblocks * bs)[:, :K]
        if len(node.input) > 5 and node.input[5]:
            raise SystemExit(f"{onnx_path}: {node.name}: MatMulNBits with bias not handled")
        target = _module_for(model, node.name)
        _assign(model, target, torch.from_numpy(np.ascontiguousarray(w)))
        loaded.append(node.name)
        by_scales.setdefault("matmul:" + node.input[2], []).append(target)
    for scales, gathers in by_scales.items():
        if scales.startswith("matmul:"):
            continue
        if by_scales.get("matmul:" + scales) != [("lm_head",)]:
            raise SystemExit(f"int4: {gathers}: a quantized embedding that is not the tied head's blocks")
        emb = model.get_input_embeddings()
        with torch.no_grad():
            emb.weight = torch.nn.Parameter(model.lm_head.weight.detach().clone(), requires_grad=False)
        loaded += gathers
    return loaded


def _module_for(model, node_name):
    m = re.match(r"/model/layers\.(\d+)/(attn|mlp)/(\w+?)/MatMul", node_name)
    if m:
        return (int(m.group(1)), m.group(2), m.group(3))
    if node_name.startswith("/lm_head/"):
        return ("lm_head",)
    raise SystemExit(f"int4: MatMulNBits node {node_name!r}: no rule maps it to a torch module")


def _assign(model, target, w):
    if target == ("lm_head",):
        # A tied head is untied here: the export quantized the head but kept
        # the embedding table in float.
        model.lm_head.weight = torch.nn.Parameter(w.clone(), requires_grad=False)
        return
    i, part, proj = target
    layer = model.model.layers[i]
    mod = layer.self_attn if part == "attn" else layer.mlp
    if proj == "qkv_proj":
        q, k, v = mod.q_proj, mod.k_proj, mod.v_proj
        nq, nk = q.weight.shape[0], k.weight.shape[0]
        with torch.no_grad():
            q.weight.copy_(w[:nq]); k.weight.copy_(w[nq:nq + nk]); v.weight.copy_(w[nq + nk:])
        return
    if proj == "gate_up_proj":
        n = mod.gate_proj.weight.shape[0]
        with torch.no_grad():
            mod.gate_proj.weight.copy_(w[:n]); mod.up_proj.weight.copy_(w[n:])
        return
    lin = getattr(mod, proj)
    if lin.weight.shape != w.shape:
        raise SystemExit(f"int4: {target}: export weight {tuple(w.shape)} != torch {tuple(lin.weight.shape)}")
    with torch.no_grad():
        lin.weight.copy_(w)


# ---------------------------------------------------------------- fixtures

PROMPT_LEN = 7  # longer than the tiny Gemma 3's sliding window (4)
SEED = 0


def painterc_schedules(painterc, T):
    """Every pass's schedule for T blocks (painterc plan), with its default
    middle and with the middle 1..T-2, plus hand schedules: a parallel
    group, a loop, a swap, a dropped first block. Deduplicated, in order."""
    def plan(*args):
        r = subprocess.run([painterc, "plan", *args, "--blocks", str(T)], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"painterc plan {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout.strip()
    passes = [line.split()[0] for line in subprocess.run(
        [painterc, "passes"], capture_output=True, text=True, check=True).stdout.splitlines() if line.strip()]
    out = []
    for p in passes:
        if p in ("skip-one", "swap"):
            out.append((f"{p} --index 1", plan(f"--pass={p}", "--index", "1")))
            continue
        out.append((p, plan(f"--pass={p}")))
        if p != "identity":
            out.append((f"{p} --layers 1-{T - 2}", plan(f"--pass={p}", "--layers", f"1-{T - 2}")))
    hand = [("hand: parallel", f"0,[1-{T - 2}],{T - 1}"), ("hand: loop", f"0,(1-{T - 2})x2,{T - 1}"),
            ("hand: swap", "0,2,1" + "".join(f",{i}" for i in range(3, T))),
            ("hand: drop block 0", f"1-{T - 1}"), ("hand: reverse all", f"{T - 1}-0"),
            ("hand: parallel loop over all", f"[0-{T - 1}]x2")]
    seen, uniq = set(), []
    for label, s in out + hand:
        if s not in seen:
            seen.add(s)
            uniq.append((label, s))
    return uniq


def graph_io(onnx_path):
    import onnx
    m = onnx.load(onnx_path, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    ins = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim])
           for i in m.graph.input if i.name not in inits]
    outs = [o.name for o in m.graph.output]
    return ins, outs


def cache_names(names, kind):
    """The pattern of the export's past or present names, with {k} for the
    slot: past_key_values.{k}.key etc."""
    for n in names:
        m = re.match(r"^(.*?)(\d+)(\D*key\D*)$", n)
        if m and (kind in n):
            return m.group(1) + "{k}" + m.group(3), m.group(1) + "{k}" + m.group(3).replace("key", "value")
    return None


def ort_run(onnx_path, feeds, outputs):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    return dict(zip(outputs, s.run(outputs, feeds)))


def maxdiff(a, b):
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape:
        raise SystemExit(f"shape mismatch {a.shape} vs {b.shape}")
    return float(np.abs(a - b).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="Hugging Face folder (tiny.py's or a real one)")
    ap.add_argument("--export", required=True, help="folder export.py wrote")
    ap.add_argument("--onnx", default="model.onnx", help="ONNX file name inside --export")
    ap.add_argument("--exporter", required=True)
    ap.add_argument("--arch", required=True)
    ap.add_argument("--out", required=True, help="fixture folder to write referee.json and .npy into")
    ap.add_argument("--painterc", default="bin/painterc")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--self-check", type=float, default=1e-5,
                    help="bound on the identity schedule against the export on ONNX Runtime, checked before any "
                         "case is written: 1e-5 suits the tiny fixtures; fp32 rounding on a 30-block real model "
                         "alone reaches about 5e-5 (use 1e-4), on Gemma 3 270M about 5e-4 (use 1e-3)")
    ap.add_argument("--append", nargs="+", metavar="SCHEDULE",
                    help="add cases for these schedules to --out's existing referee.json (its inputs, tolerance "
                         "and self-check stay) instead of writing the fixture afresh")
    ap.add_argument("--schedules", nargs="+", metavar="SCHEDULE",
                    help="write a fresh fixture with cases for these schedules only, instead of every painterc "
                         "pass and the hand schedules")
    ap.add_argument("--float64", action="store_true",
                    help="run the referee in float64 and store its outputs rounded to float32: the cases then "
                         "hold the exact answer, and a bound on painterc's fp32 run measures painterc's error "
                         "alone, not the sum of two fp32 roundings (fp64_check.py: fp32 PyTorch alone is up to "
                         "7e-4 from float64 on SmolLM2's long repeats)")
    args = ap.parse_args()

    torch.manual_seed(SEED)
    onnx_path = os.path.join(args.export, args.onnx)
    model = load_model(args.model)
    if args.float64:
        model = model.double()
    if getattr(model.config, "scale_attn_by_inverse_layer_idx", False):
        raise SystemExit("GPT-2 with scale_attn_by_inverse_layer_idx: a renumbered slot would change the maths")
    int4 = []
    if args.exporter == "genai-int4":
        int4 = load_int4_weights(model, onnx_path)
    runner = Runner(model)
    T = len(runner.layers())
    ins, outs = graph_io(onnx_path)
    in_names = [n for n, _ in ins]
    past_pat = cache_names(in_names, "past")
    pres_pat = cache_names(outs, "present")
    out_name = "last_hidden_state" if runner.kind == "bert" else "logits"
    if out_name not in outs:
        raise SystemExit(f"{onnx_path}: no graph output {out_name!r}; outputs: {outs}")
    known = {"input_ids", "attention_mask", "position_ids", "token_type_ids"}
    for n in in_names:
        if n not in known and not (past_pat and re.match(re.escape(past_pat[0]).replace(r"\{k\}", r"\d+") + "$", n)) \
                and not (past_pat and re.match(re.escape(past_pat[1]).replace(r"\{k\}", r"\d+") + "$", n)):
            raise SystemExit(f"{onnx_path}: graph input {n!r}: the referee does not know what to feed")
    kv_dims = None
    if past_pat:
        # The KV heads and head size, from the model (genai names its cache
        # dims symbolically, kv_cache_dim).
        c = model.config
        if runner.kind == "gpt2":
            kv_dims = (c.n_head, c.n_embd // c.n_head)
        else:
            kv_dims = (getattr(c, "num_key_value_heads", None) or c.num_attention_heads,
                       getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads)

    os.makedirs(args.out, exist_ok=True)
    files = {}

    def save(name, a):
        a = np.ascontiguousarray(a)
        if a.dtype == np.float64:
            a = a.astype(np.float32)  # painterc's graphs take and give float32
        np.save(os.path.join(args.out, name), a)
        files[name] = True
        return name

    g = torch.Generator().manual_seed(SEED)
    vocab = model.config.vocab_size
    ids = torch.randint(4, vocab, (1, PROMPT_LEN), generator=g)
    nxt = torch.randint(4, vocab, (1, 1), generator=g)
    am = torch.ones(1, PROMPT_LEN, dtype=torch.int64)
    am2 = torch.ones(1, PROMPT_LEN + 1, dtype=torch.int64)
    pos = torch.arange(PROMPT_LEN).unsqueeze(0)
    pos2 = torch.tensor([[PROMPT_LEN]])
    tt = torch.zeros_like(ids)

    def feeds(phase, K=None, past=None):
        f = {}
        if "input_ids" in in_names:
            f["input_ids"] = ids if phase == "prefill" else nxt
        if "attention_mask" in in_names:
            f["attention_mask"] = am if phase == "prefill" else am2
        if "position_ids" in in_names:
            f["position_ids"] = pos if phase == "prefill" else pos2
        if "token_type_ids" in in_names:
            f["token_type_ids"] = tt
        if past_pat:
            for k in range(K):
                for j, pat in enumerate(past_pat):
                    f[pat.format(k=k)] = (torch.zeros(1, kv_dims[0], 0, kv_dims[1]) if past is None
                                          else past[k][j])
        return {n: (v.float() if v.is_floating_point() else v).numpy() for n, v in f.items()}

    # ---- self-check: identity against the model's plain forward and the export on ORT
    check = {}
    with torch.no_grad():
        ident = f"0-{T - 1}"
        ref, cache = runner.run(ident, ids, am, position_ids=pos, token_type_ids=tt)
        if runner.kind == "bert":
            plain = model(input_ids=ids, attention_mask=am, token_type_ids=tt).last_hidden_state
        else:
            from transformers import DynamicCache
            po = model(input_ids=ids, attention_mask=am, position_ids=pos,
                       past_key_values=DynamicCache(), use_cache=True)
            plain = po.logits
        check["identity_vs_hf_forward_prefill"] = maxdiff(ref, plain)
        f = feeds("prefill", T)
        ortp = ort_run(onnx_path, f, [out_name])[out_name]
        check["identity_vs_export_on_ort_prefill"] = maxdiff(ref, ortp)
        if past_pat:
            pk = [(l.keys, l.values) for l in cache.layers]
            ref2, _ = runner.run(ident, nxt, am2, position_ids=pos2, cache=DynamicCache(pk))
            po2 = model(input_ids=nxt, attention_mask=am2, position_ids=pos2,
                        past_key_values=po.past_key_values, use_cache=True)
            check["identity_vs_hf_forward_decode"] = maxdiff(ref2, po2.logits)
            ortd = ort_run(onnx_path, feeds("decode", T, pk), [out_name])[out_name]
            check["identity_vs_export_on_ort_decode"] = maxdiff(ref2, ortd)
        # Every block as its attention half then its MLP half is the block.
        halves = ",".join(f"{i}.attn,{i}.mlp" for i in range(T))
        split, _ = runner.run(halves, ids, am, position_ids=pos, token_type_ids=tt)
        d = maxdiff(split, ref)
        print(f"schedule_referee: {args.arch}-{args.exporter}: halves_vs_identity_prefill = {d:.3g}")
        if d > 1e-6:
            raise SystemExit(f"schedule_referee: self-check failed: the halves of every block differ from the blocks by {d}")
    if int4:
        # The same file with every MatMulNBits at accuracy_level 0 (float
        # activations): isolates the weights. If the dequantization is right
        # this is float rounding only.
        import onnx
        import tempfile
        m = onnx.load(onnx_path)
        for node in m.graph.node:
            for a in node.attribute:
                if a.name == "accuracy_level":
                    a.i = 0
        with tempfile.TemporaryDirectory() as tmp:
            p0 = os.path.join(tmp, "model.onnx")
            onnx.save(m, p0, save_as_external_data=True, location="model.onnx.data")
            o0 = ort_run(p0, f, [out_name])[out_name]
            check["int4_accuracy_level_0_identity_vs_referee_prefill"] = maxdiff(ref, o0)
            if past_pat:
                o0 = ort_run(p0, feeds("decode", T, pk), [out_name])[out_name]
                check["int4_accuracy_level_0_identity_vs_referee_decode"] = maxdiff(ref2, o0)
        if max(v for k, v in check.items() if "accuracy_level_0" in k) > 1e-5:
            raise SystemExit(f"schedule_referee: int4 weights do not match the export: {check}")
    limit = args.self_check if not int4 else None
    for k, v in check.items():
        print(f"schedule_referee: {args.arch}-{args.exporter}: {k} = {v:.3g}")
        if limit is not None and v > limit:
            raise SystemExit(f"schedule_referee: self-check failed: {k} = {v} > {limit}")
    tolerance = args.tolerance
    if int4:
        # The file's MatMulNBits also rounds its activations (accuracy_level);
        # the referee cannot: take the measured gap, with a margin for
        # the different activations a rewrite feeds the same weights.
        measured = max(v for k, v in check.items() if "export_on_ort" in k)
        tolerance = max(args.tolerance, float(f"{4 * measured:.1g}"))

    # ---- cases
    cases = []
    first = 0
    if args.append:
        with open(os.path.join(args.out, "referee.json")) as f:
            old = json.load(f)
        used = set()
        for c in old["cases"]:
            for fn in list(c["inputs"].values()) + list(c["outputs"].values()):
                m = re.match(r"c(\d+)-", fn)
                if m:
                    used.add(int(m.group(1)))
        first = max(used) + 1 if used else 0
        have = {c["schedule"] for c in old["cases"]}
        sch = [("sub-block: " + s, s) for s in args.append if s not in have]
    elif args.schedules:
        sch = [("sub-block: " + s if re.search(r"\.(attn|mlp)", s) else s, s) for s in args.schedules]
    else:
        sch = painterc_schedules(args.painterc, T)
    def shared(name, a):
        # Appending keeps the fixture's own input files (the same draws).
        if not (args.append and os.path.exists(os.path.join(args.out, name))):
            save(name, a)
    shared("input_ids.npy", ids.numpy())
    if runner.kind != "bert":
        shared("decode_input_ids.npy", nxt.numpy())
        shared("attention_mask.npy", am.numpy())
        shared("decode_attention_mask.npy", am2.numpy())
        shared("position_ids.npy", pos.numpy())
        shared("decode_position_ids.npy", pos2.numpy())
    else:
        shared("attention_mask.npy", am.numpy())
        shared("token_type_ids.npy", tt.numpy())
    if past_pat:
        shared("empty_past.npy", np.zeros((1, kv_dims[0], 0, kv_dims[1]), np.float32))
    name_of = {"input_ids": ("input_ids.npy", "decode_input_ids.npy"),
               "attention_mask": ("attention_mask.npy", "decode_attention_mask.npy"),
               "position_ids": ("position_ids.npy", "decode_position_ids.npy"),
               "token_type_ids": ("token_type_ids.npy", None)}
    with torch.no_grad():
        for ci, (label, s) in enumerate(sch, start=first):
            K = len(instances(parse_schedule(s)))
            logits, cache = runner.run(s, ids, am, position_ids=pos, token_type_ids=tt)
            pre_in = {n: name_of[n][0] for n in in_names if n in name_of}
            pre_out = {out_name: save(f"c{ci:02d}-prefill-{out_name}.npy", logits.numpy())}
            if past_pat:
                pk = [(l.keys, l.values) for l in cache.layers]
                assert len(pk) == K, (s, len(pk), K)
                for k in range(K):
                    for j in range(2):
                        pre_in[past_pat[j].format(k=k)] = "empty_past.npy"
                        fn = save(f"c{ci:02d}-past.{k}.{'kv'[j]}.npy", pk[k][j].numpy())
                        if pres_pat:
                            pre_out[pres_pat[j].format(k=k)] = fn
            cases.append({"name": label, "schedule": s, "phase": "prefill", "instances": K,
                          "inputs": pre_in, "outputs": pre_out})
            if not past_pat:
                continue
            from transformers import DynamicCache
            logits2, cache2 = runner.run(s, nxt, am2, position_ids=pos2, cache=DynamicCache(pk))
            dec_in = {n: name_of[n][1] for n in in_names if n in name_of}
            for k in range(K):
                for j in range(2):
                    dec_in[past_pat[j].format(k=k)] = f"c{ci:02d}-past.{k}.{'kv'[j]}.npy"
            dec_out = {out_name: save(f"c{ci:02d}-decode-{out_name}.npy", logits2.numpy())}
            if pres_pat:
                for k, l in enumerate(cache2.layers):
                    for j, t in enumerate((l.keys, l.values)):
                        dec_out[pres_pat[j].format(k=k)] = save(f"c{ci:02d}-present.{k}.{'kv'[j]}.npy", t.numpy())
            cases.append({"name": label, "schedule": s, "phase": "decode", "instances": K,
                          "inputs": dec_in, "outputs": dec_out})
    doc = {"model": args.onnx, "arch": args.arch, "exporter": args.exporter, "blocks": T,
           "layout": "", "tolerance": tolerance, "referee_check": check, "cases": cases,
           "referee_dtype": "float64" if args.float64 else "float32", "given_schedules": bool(args.schedules)}
    if args.append:
        doc = old
        doc["cases"] = old["cases"] + cases
        int4 = None
    if int4:
        doc["int4_dequantized_weights"] = int4
        doc["tolerance_note"] = (
            "The referee loads the int4 file's own dequantized MatMulNBits/GatherBlockQuantized weights; "
            "with every MatMulNBits set to accuracy_level 0 the identity matches it to "
            "referee_check.int4_accuracy_level_0_*. As written (accuracy_level 4) MatMulNBits also "
            "quantizes its activations to int8 per block, which no float referee reproduces: tolerance "
            "is 4x the identity's measured gap. A test can instead set accuracy_level to 0 in its copy "
            "and compare at 1e-4.")
    with open(os.path.join(args.out, "referee.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"schedule_referee: {args.out}: {len(cases)} cases, {len(files)} .npy files")


if __name__ == "__main__":
    main()
