#!/usr/bin/python3
"""Export tiny decoder-only transformers with torch.onnx as painterc test fixtures.

Run with Debian's interpreter (python3-torch 1.13, python3-onnx 1.12):

    /usr/bin/python3 testdata/torch/export.py            # export + check + summary
    /usr/bin/python3 testdata/torch/export.py --summary  # check + summary only

The modules below are written in plain torch, but their attribute names follow
Hugging Face transformers (LlamaForCausalLM, GPT2LMHeadModel) so that the node
scopes the TorchScript exporter writes (`/model/layers.3/self_attn/q_proj/MatMul`,
`/transformer/h.2/attn/c_attn/Gemm`) look like those of real exports.

Outputs (next to this file):
    llama_tiny.onnx     Llama, no cache: input_ids, attention_mask -> logits
    llama_tiny_kv.onnx  Llama, optimum-style KV cache I/O
    gpt2_tiny.onnx      GPT-2, no cache, lm_head tied to wte
    <model>.in.<input>.npy / <model>.out.<output>.npy  one reference pair each,
                        computed by the torch model (batch 1, seq 5, past 3).
"""

import collections
import hashlib
import io
import math
import os
import re
import sys
import warnings

import numpy as np
import torch
from torch import nn

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))

SEED = 1234
VOCAB = 64
HIDDEN = 32
HEADS = 4
KV_HEADS = 2
LAYERS = 6
INTERMEDIATE = 64
MAX_POS = 32
OPSET = 17

BATCH = 1
SEQ = 5
PAST = 3

# ---------------------------------------------------------------------------
# Llama
# ---------------------------------------------------------------------------


class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.variance_epsilon = eps

    def forward(self, hidden_states):
        input_dtype = hidden_states.dtype
        hidden_states = hidden_states.to(torch.float32)
        variance = hidden_states.pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return self.weight * hidden_states.to(input_dtype)


class LlamaRotaryEmbedding(nn.Module):
    def __init__(self, head_dim, base=10000.0):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x, position_ids):
        # [b, s, hd/2]
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    # As in HF: the unsqueeze happens inside every layer, so the exporter may
    # merge these identical Unsqueezes across layers.
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


def repeat_kv(hidden_states, n_rep):
    batch, num_kv, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_kv, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_kv * n_rep, slen, head_dim)


class LlamaAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.head_dim = HIDDEN // HEADS
        self.num_heads = HEADS
        self.num_key_value_heads = KV_HEADS
        self.num_key_value_groups = HEADS // KV_HEADS
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(HIDDEN, HEADS * self.head_dim, bias=False)
        self.k_proj = nn.Linear(HIDDEN, KV_HEADS * self.head_dim, bias=False)
        self.v_proj = nn.Linear(HIDDEN, KV_HEADS * self.head_dim, bias=False)
        self.o_proj = nn.Linear(HEADS * self.head_dim, HIDDEN, bias=False)

    def forward(self, hidden_states, position_embeddings, attention_mask, past_key_value=None):
        input_shape = hidden_states.shape[:-1]
        hidden_shape = (*input_shape, -1, self.head_dim)
        q = self.q_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        k = self.k_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        v = self.v_proj(hidden_states).view(hidden_shape).transpose(1, 2)
        cos, sin = position_embeddings
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        if past_key_value is not None:
            k = torch.cat([past_key_value[0], k], dim=2)
            v = torch.cat([past_key_value[1], v], dim=2)
        present = (k, v)
        k = repeat_kv(k, self.num_key_value_groups)
        v = repeat_kv(v, self.num_key_value_groups)
        attn = torch.matmul(q, k.transpose(2, 3)) * self.scaling
        attn = attn + attention_mask
        attn = nn.functional.softmax(attn, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(attn, v)
        out = out.transpose(1, 2).contiguous()
        out = out.reshape(*input_shape, -1)
        return self.o_proj(out), present


class LlamaMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.gate_proj = nn.Linear(HIDDEN, INTERMEDIATE, bias=False)
        self.up_proj = nn.Linear(HIDDEN, INTERMEDIATE, bias=False)
        self.down_proj = nn.Linear(INTERMEDIATE, HIDDEN, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = LlamaAttention()
        self.mlp = LlamaMLP()
        self.input_layernorm = LlamaRMSNorm(HIDDEN)
        self.post_attention_layernorm = LlamaRMSNorm(HIDDEN)

    def forward(self, hidden_states, attention_mask, position_embeddings, past_key_value=None):
        residual = hidden_states
        hidden_states = self.input_layernorm(hidden_states)
        hidden_states, present = self.self_attn(
            hidden_states, position_embeddings, attention_mask, past_key_value
        )
        hidden_states = residual + hidden_states
        residual = hidden_states
        hidden_states = self.post_attention_layernorm(hidden_states)
        hidden_states = self.mlp(hidden_states)
        hidden_states = residual + hidden_states
        return hidden_states, present


def causal_mask(attention_mask, seq_len, past_len, dtype):
    """Additive 4-D mask [b, 1, seq, past+seq], built once before the layers."""
    total = attention_mask.shape[1]
    q_pos = torch.arange(seq_len, device=attention_mask.device) + past_len
    k_pos = torch.arange(total, device=attention_mask.device)
    allowed = k_pos[None, :] <= q_pos[:, None]  # [seq, total]
    allowed = allowed[None, None, :, :] & attention_mask[:, None, None, :].bool()
    return (~allowed).to(dtype) * torch.finfo(dtype).min


class LlamaModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        self.layers = nn.ModuleList([LlamaDecoderLayer() for _ in range(LAYERS)])
        self.norm = LlamaRMSNorm(HIDDEN)
        self.rotary_emb = LlamaRotaryEmbedding(HIDDEN // HEADS)

    def forward(self, input_ids, attention_mask, position_ids=None, past_key_values=None):
        inputs_embeds = self.embed_tokens(input_ids)
        seq_len = input_ids.shape[1]
        # The mask's past length is read from the first layer's cache, as in HF/optimum.
        past_len = past_key_values[0][0].shape[2] if past_key_values is not None else 0
        if position_ids is None:
            position_ids = (torch.arange(seq_len, device=input_ids.device) + past_len).unsqueeze(0)
        mask = causal_mask(attention_mask, seq_len, past_len, inputs_embeds.dtype)
        position_embeddings = self.rotary_emb(inputs_embeds, position_ids)
        hidden_states = inputs_embeds
        presents = []
        for i, layer in enumerate(self.layers):
            past = past_key_values[i] if past_key_values is not None else None
            hidden_states, present = layer(hidden_states, mask, position_embeddings, past)
            presents.append(present)
        return self.norm(hidden_states), presents


class LlamaForCausalLM(nn.Module):
    def __init__(self, use_cache=False):
        super().__init__()
        self.model = LlamaModel()
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)
        self.use_cache = use_cache

    def forward(self, input_ids, attention_mask, position_ids=None, *past_flat):
        past = None
        if self.use_cache:
            past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(LAYERS)]
        hidden, presents = self.model(input_ids, attention_mask, position_ids, past)
        logits = self.lm_head(hidden)
        if not self.use_cache:
            return logits
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


# ---------------------------------------------------------------------------
# GPT-2
# ---------------------------------------------------------------------------


class Conv1D(nn.Module):
    """HF GPT-2's Linear: weight stored [in, out], computed with addmm (-> Gemm)."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02 * 10)  # larger than HF's 0.02 so the signal survives
        nn.init.normal_(self.bias, std=0.02)

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class NewGELUActivation(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class GPT2Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer(
            "bias",
            torch.tril(torch.ones((MAX_POS, MAX_POS), dtype=torch.bool)).view(1, 1, MAX_POS, MAX_POS),
            persistent=False,
        )
        self.embed_dim = HIDDEN
        self.num_heads = HEADS
        self.head_dim = HIDDEN // HEADS
        self.split_size = HIDDEN
        self.c_attn = Conv1D(3 * HIDDEN, HIDDEN)
        self.c_proj = Conv1D(HIDDEN, HIDDEN)

    def _split_heads(self, t):
        new_shape = t.size()[:-1] + (self.num_heads, self.head_dim)
        return t.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask):
        query, key, value = self.c_attn(hidden_states).split(self.split_size, dim=2)
        query = self._split_heads(query)
        key = self._split_heads(key)
        value = self._split_heads(value)
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        attn_weights = attn_weights / torch.full([], value.size(-1) ** 0.5, dtype=attn_weights.dtype)
        query_length, key_length = query.size(-2), key.size(-2)
        causal = self.bias[:, :, key_length - query_length : key_length, :key_length]
        mask_value = torch.full([], torch.finfo(attn_weights.dtype).min, dtype=attn_weights.dtype)
        attn_weights = torch.where(causal, attn_weights, mask_value)
        attn_weights = attn_weights + attention_mask
        attn_weights = nn.functional.softmax(attn_weights, dim=-1)
        out = torch.matmul(attn_weights, value)
        out = out.permute(0, 2, 1, 3).contiguous()
        out = out.view(out.size()[:-2] + (self.embed_dim,))
        return self.c_proj(out)


class GPT2MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = Conv1D(INTERMEDIATE, HIDDEN)
        self.c_proj = Conv1D(HIDDEN, INTERMEDIATE)
        self.act = NewGELUActivation()

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(HIDDEN, eps=1e-5)
        self.attn = GPT2Attention()
        self.ln_2 = nn.LayerNorm(HIDDEN, eps=1e-5)
        self.mlp = GPT2MLP()

    def forward(self, hidden_states, attention_mask):
        residual = hidden_states
        hidden_states = residual + self.attn(self.ln_1(hidden_states), attention_mask)
        residual = hidden_states
        hidden_states = residual + self.mlp(self.ln_2(hidden_states))
        return hidden_states


class GPT2Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, HIDDEN)
        self.wpe = nn.Embedding(MAX_POS, HIDDEN)
        self.h = nn.ModuleList([GPT2Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(HIDDEN, eps=1e-5)
        # HF uses std 0.02 / 0.01; 0.2 / 0.1 keeps the tied logits near 1 so that
        # absolute tolerances around 1e-5 work when comparing ORT with torch.
        nn.init.normal_(self.wte.weight, std=0.2)
        nn.init.normal_(self.wpe.weight, std=0.1)

    def forward(self, input_ids, attention_mask):
        seq_len = input_ids.size(-1)
        position_ids = torch.arange(0, seq_len, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        hidden_states = self.wte(input_ids) + self.wpe(position_ids)
        # Extended mask, computed once before the blocks.
        mask = attention_mask[:, None, None, :].to(hidden_states.dtype)
        mask = (1.0 - mask) * torch.finfo(hidden_states.dtype).min
        for block in self.h:
            hidden_states = block(hidden_states, mask)
        return self.ln_f(hidden_states)


class GPT2LMHeadModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = GPT2Model()
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied

    def forward(self, input_ids, attention_mask):
        return self.lm_head(self.transformer(input_ids, attention_mask))


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def perturb_norms(model, gen):
    """Give norm weights/biases non-trivial values so tests are not blind to them."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or ".ln_" in name or name.startswith("transformer.ln_f"):
                if name.endswith("weight"):
                    p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def build(name):
    torch.manual_seed(SEED)
    if name == "llama_tiny":
        m = LlamaForCausalLM(use_cache=False)
    elif name == "llama_tiny_kv":
        m = LlamaForCausalLM(use_cache=True)
    elif name == "gpt2_tiny":
        m = GPT2LMHeadModel()
    else:
        raise ValueError(name)
    gen = torch.Generator().manual_seed(SEED + 1)
    perturb_norms(m, gen)
    m.eval()
    return m


def io_spec(name):
    """(inputs as ordered dict name->tensor, output names, dynamic axes)."""
    gen = torch.Generator().manual_seed(SEED + 2)
    ids = torch.randint(0, VOCAB, (BATCH, SEQ), generator=gen, dtype=torch.int64)
    batch = "batch_size"
    inputs = collections.OrderedDict()
    inputs["input_ids"] = ids
    dyn = {"input_ids": {0: batch, 1: "sequence_length"}, "logits": {0: batch, 1: "sequence_length"}}
    if name in ("llama_tiny", "gpt2_tiny"):
        inputs["attention_mask"] = torch.ones((BATCH, SEQ), dtype=torch.int64)
        dyn["attention_mask"] = {0: batch, 1: "sequence_length"}
        return inputs, ["logits"], dyn
    # llama_tiny_kv
    head_dim = HIDDEN // HEADS
    inputs["attention_mask"] = torch.ones((BATCH, PAST + SEQ), dtype=torch.int64)
    dyn["attention_mask"] = {0: batch, 1: "total_sequence_length"}
    inputs["position_ids"] = torch.arange(PAST, PAST + SEQ, dtype=torch.int64).unsqueeze(0)
    dyn["position_ids"] = {0: batch, 1: "sequence_length"}
    outputs = ["logits"]
    for i in range(LAYERS):
        for kv in ("key", "value"):
            n = f"past_key_values.{i}.{kv}"
            inputs[n] = torch.randn((BATCH, KV_HEADS, PAST, head_dim), generator=gen)
            dyn[n] = {0: batch, 2: "past_sequence_length"}
    # optimum names this axis "past_sequence_length + 1" (decode with one token);
    # here it is past+seq, the same length as attention_mask.
    for i in range(LAYERS):
        for kv in ("key", "value"):
            n = f"present.{i}.{kv}"
            outputs.append(n)
            dyn[n] = {0: batch, 2: "total_sequence_length"}
    return inputs, outputs, dyn


MODELS = ["llama_tiny", "llama_tiny_kv", "gpt2_tiny"]


def export(name):
    model = build(name)
    inputs, output_names, dyn = io_spec(name)
    args = tuple(inputs.values())
    with torch.no_grad():
        ref = model(*args)
    if not isinstance(ref, tuple):
        ref = (ref,)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            args,
            buf,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=True,
            input_names=list(inputs.keys()),
            output_names=output_names,
            dynamic_axes=dyn,
            training=torch.onnx.TrainingMode.EVAL,
        )
    data = buf.getvalue()
    with open(os.path.join(HERE, name + ".onnx"), "wb") as f:
        f.write(data)
    for k, v in inputs.items():
        np.save(os.path.join(HERE, f"{name}.in.{k}.npy"), v.numpy())
    for k, v in zip(output_names, ref):
        np.save(os.path.join(HERE, f"{name}.out.{k}.npy"), v.detach().numpy())
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------

LAYER_RE = re.compile(r"/(?:layers|h)\.(\d+)/")


def layer_of(node_name):
    m = LAYER_RE.search(node_name)
    return int(m.group(1)) if m else None


def dims(vi):
    t = vi.type.tensor_type
    ds = [d.dim_param if d.HasField("dim_param") else str(d.dim_value) for d in t.shape.dim]
    return f"{onnx.TensorProto.DataType.Name(t.elem_type).lower()}[{', '.join(ds)}]"


def is_topo(g):
    seen = {i.name for i in g.input} | {i.name for i in g.initializer} | {""}
    for n in g.node:
        if any(t not in seen for t in n.input):
            return False
        seen.update(n.output)
    return True


def summarize(name):
    path = os.path.join(HERE, name + ".onnx")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    g = model.graph
    out = []
    p = out.append
    p(f"== {name}.onnx ({os.path.getsize(path)} bytes, ir_version {model.ir_version}, "
      f"opset {[(o.domain or 'ai.onnx', o.version) for o in model.opset_import]}, "
      f"producer {model.producer_name} {model.producer_version})")
    p("checker(full_check=True): OK")
    ops = collections.Counter(n.op_type for n in g.node)
    p(f"nodes: {len(g.node)}  ops: " + ", ".join(f"{k}={v}" for k, v in sorted(ops.items())))
    inits = list(g.initializer)
    anon = [i.name for i in inits if i.name.startswith("onnx::")]
    named = [i.name for i in inits if not i.name.startswith("onnx::")]
    p(f"initializers: {len(inits)}; anonymous (onnx::*): {len(anon)} "
      f"[{', '.join(sorted(set(re.sub(r'_[0-9]+$', '_N', a) for a in anon)))}]")
    p(f"  named ({len(named)}): " + ", ".join(sorted(named)[:12]) + (" ..." if len(named) > 12 else ""))
    # Which anonymous initializers feed which scopes (first consumer).
    consumers = collections.defaultdict(list)
    producer = {}
    for n in g.node:
        for t in n.input:
            if t:
                consumers[t].append(n)
        for t in n.output:
            producer[t] = n
    anon_use = collections.Counter()
    for a in anon:
        for c in consumers.get(a, []):
            anon_use[re.sub(r"layers\.\d+|h\.\d+", "L", c.name)] += 1
    if anon_use:
        p("  anonymous initializers consumed by: " + ", ".join(f"{k} x{v}" for k, v in sorted(anon_use.items())))
    init_shapes = {i.name: tuple(i.dims) for i in inits}
    dup = collections.defaultdict(list)
    for i in inits:
        dup[(tuple(i.dims), hashlib.sha1(i.raw_data).hexdigest())].append(i.name)
    dups = [v for v in dup.values() if len(v) > 1]
    if dups:
        p("  initializers with identical contents: " + "; ".join(", ".join(v) for v in dups))

    # Empty / unscoped node names.
    empty = [n for n in g.node if not n.name]
    unscoped = [n for n in g.node if n.name and "/" not in n.name]
    consts = [n for n in g.node if n.op_type == "Constant"]
    const_unscoped = [n for n in consts if not n.name or "/" not in n.name]
    p(f"nodes with empty name: {len(empty)}; unscoped names (no '/'): {len(unscoped)} "
      f"({', '.join(sorted(collections.Counter(n.op_type for n in unscoped)))})")
    p(f"Constant nodes: {len(consts)}; unscoped: {len(const_unscoped)}; "
      f"scoped to a layer: {sum(1 for n in consts if layer_of(n.name) is not None)}")
    shared_consts = []
    for n in consts:
        ls = {layer_of(c.name) for c in consumers.get(n.output[0], [])} - {None}
        if len(ls) > 1:
            shared_consts.append(f"{n.name or '<empty>'}->layers{sorted(ls)}")
    one = sum(1 for n in const_unscoped
              if len({layer_of(c.name) for c in consumers.get(n.output[0], [])} - {None}) == 1)
    p(f"unscoped Constant nodes read by exactly one layer: {one}")
    names = [n.name for n in g.node]
    p(f"node names unique: {len(names) == len(set(names))}; "
      f"graph in topological order: {is_topo(g)}")
    p(f"Constant nodes read by >1 layer: {len(shared_consts)}" +
      (": " + "; ".join(shared_consts) if shared_consts else ""))
    shared_inits = []
    for i in inits:
        ls = {layer_of(c.name) for c in consumers.get(i.name, [])} - {None}
        if len(ls) > 1:
            shared_inits.append(f"{i.name}{list(i.dims)}->layers{sorted(ls)}")
    p(f"initializers read by >1 layer: {len(shared_inits)}" +
      (": " + "; ".join(shared_inits) if shared_inits else ""))
    # Interleaving: unscoped non-Constant nodes in the middle of the layers?
    layer_pos = [k for k, n in enumerate(g.node) if layer_of(n.name) is not None]
    mid_unscoped = [n for n in g.node[layer_pos[0]:layer_pos[-1]] if layer_of(n.name) is None]
    p(f"non-layer nodes between first and last layer node (topological order): {len(mid_unscoped)} "
      f"({', '.join(f'{k}={v}' for k, v in sorted(collections.Counter(n.op_type for n in mid_unscoped).items()))})")

    # Boundary tensors: the last Add of each layer (the final residual Add).
    boundaries = {}
    for n in g.node:
        L = layer_of(n.name)
        if L is not None and n.op_type == "Add":
            boundaries[L] = n
    p("layer boundary tensors (output of each layer's last Add):")
    for L in sorted(boundaries):
        n = boundaries[L]
        cs = consumers.get(n.output[0], [])
        p(f"  layer {L}: node {n.name} -> tensor '{n.output[0]}' read by "
          + ", ".join(sorted({re.sub(r'/[^/]*$', '/', c.name) or '<empty>' for c in cs})))
    bnd_tensors = {n.output[0] for n in boundaries.values()}

    # Cross-layer edges other than the boundary.
    cross = []
    for n in g.node:
        L = layer_of(n.name)
        if L is None:
            continue
        for t in n.output:
            if t in bnd_tensors:
                continue
            ls = sorted({layer_of(c.name) for c in consumers.get(t, [])} - {None, L})
            if ls:
                cross.append(f"{n.name} ({n.op_type}) -> '{t}' read by layers {ls}")
    p(f"nodes scoped to one layer but read by other layers (exporter merged across layers): {len(cross)}")
    for c in cross:
        p("  " + c)

    # Side inputs: tensors produced outside any layer and read by several layers.
    side = []
    for t, cs in consumers.items():
        ls = {layer_of(c.name) for c in cs} - {None}
        if len(ls) > 1 and t not in init_shapes:
            pr = producer.get(t)
            if pr is not None and pr.op_type == "Constant":
                continue
            side.append(f"'{t}' from {pr.name + ' (' + pr.op_type + ')' if pr else 'graph input'} -> {len(ls)} layers")
    p(f"side inputs (non-constant tensors read by >1 layer): {len(side)}")
    for s in sorted(side):
        p("  " + s)
    p("inputs:  " + "; ".join(f"{i.name} {dims(i)}" for i in g.input))
    p("outputs: " + "; ".join(f"{o.name} {dims(o)}" for o in g.output))
    return "\n".join(out)


def main():
    if "--summary" not in sys.argv:
        for name in MODELS:
            print(f"exported {name}.onnx sha256={export(name)}")
    print(f"torch {torch.__version__}, onnx {onnx.__version__}")
    for name in MODELS:
        print(summarize(name))
        print()


if __name__ == "__main__":
    main()
