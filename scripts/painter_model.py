"""The Llama-architecture decoder painterc's test model uses, in plain torch.

Attribute names follow Hugging Face's LlamaForCausalLM so torch.onnx scopes
nodes /model/layers.{i}/self_attn/q_proj/MatMul and so on, as in
testdata/torch/export.py.
"""

import math

import torch
from torch import nn


class Config:
    def __init__(self, vocab_size, hidden_size=64, intermediate_size=192, num_hidden_layers=16,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                 rms_norm_eps=1e-6, rope_theta=10000.0, bos_token_id=1, eos_token_id=2):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_key_value_heads
        self.max_position_embeddings = max_position_embeddings
        self.rms_norm_eps = rms_norm_eps
        self.rope_theta = rope_theta
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id

    def hf(self):
        return {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "head_dim": self.hidden_size // self.num_attention_heads,
            "max_position_embeddings": self.max_position_embeddings,
            "rms_norm_eps": self.rms_norm_eps,
            "rope_theta": self.rope_theta,
            "hidden_act": "silu",
            "attention_bias": False,
            "mlp_bias": False,
            "tie_word_embeddings": False,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "torch_dtype": "float32",
            "use_cache": True,
        }

    @staticmethod
    def from_hf(d):
        keys = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta",
                "bos_token_id", "eos_token_id"]
        return Config(**{k: d[k] for k in keys})


class LlamaRMSNorm(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.variance_epsilon = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.variance_epsilon))


class LlamaRotaryEmbedding(nn.Module):
    def __init__(self, head_dim, base):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, x, position_ids):
        freqs = position_ids[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    cos = cos.unsqueeze(1)
    sin = sin.unsqueeze(1)
    return (q * cos) + (rotate_half(q) * sin), (k * cos) + (rotate_half(k) * sin)


def repeat_kv(h, n_rep):
    b, kvh, s, d = h.shape
    if n_rep == 1:
        return h
    return h[:, :, None, :, :].expand(b, kvh, n_rep, s, d).reshape(b, kvh * n_rep, s, d)


class LlamaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.head_dim = c.hidden_size // c.num_attention_heads
        self.num_key_value_groups = c.num_attention_heads // c.num_key_value_heads
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(c.hidden_size, c.num_attention_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, c.num_key_value_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(c.num_attention_heads * self.head_dim, c.hidden_size, bias=False)

    def forward(self, x, pos, mask, past=None):
        shape = x.shape[:-1]
        hs = (*shape, -1, self.head_dim)
        q = self.q_proj(x).view(hs).transpose(1, 2)
        k = self.k_proj(x).view(hs).transpose(1, 2)
        v = self.v_proj(x).view(hs).transpose(1, 2)
        cos, sin = pos
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        present = (k, v)
        k = repeat_kv(k, self.num_key_value_groups)
        v = repeat_kv(v, self.num_key_value_groups)
        a = torch.matmul(q, k.transpose(2, 3)) * self.scaling + mask
        a = nn.functional.softmax(a, dim=-1, dtype=torch.float32).to(q.dtype)
        o = torch.matmul(a, v).transpose(1, 2).contiguous().reshape(*shape, -1)
        return self.o_proj(o), present


class LlamaMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = LlamaAttention(c)
        self.mlp = LlamaMLP(c)
        self.input_layernorm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)
        self.post_attention_layernorm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, h, mask, pos, past=None):
        a, present = self.self_attn(self.input_layernorm(h), pos, mask, past)
        h = h + a
        h = h + self.mlp(self.post_attention_layernorm(h))
        return h, present


def causal_mask(attention_mask, seq_len, past_len, dtype):
    total = attention_mask.shape[1]
    q_pos = torch.arange(seq_len, device=attention_mask.device) + past_len
    k_pos = torch.arange(total, device=attention_mask.device)
    allowed = k_pos[None, :] <= q_pos[:, None]
    allowed = allowed[None, None, :, :] & attention_mask[:, None, None, :].bool()
    return (~allowed).to(dtype) * torch.finfo(dtype).min


class LlamaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([LlamaDecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = LlamaRMSNorm(c.hidden_size, c.rms_norm_eps)
        self.rotary_emb = LlamaRotaryEmbedding(c.hidden_size // c.num_attention_heads, c.rope_theta)
        # Optional layer plan for the paper's strategies (torch-side sanity checks):
        # a list of steps, each a list of layer indices; a step of one index runs
        # that layer; a step of several runs them in parallel on the same input
        # and averages their outputs (the paper's "parallel").
        self.plan = None

    def forward(self, input_ids, attention_mask, position_ids=None, past_key_values=None):
        h = self.embed_tokens(input_ids)
        seq_len = input_ids.shape[1]
        past_len = past_key_values[0][0].shape[2] if past_key_values is not None else 0
        if position_ids is None:
            position_ids = (torch.arange(seq_len, device=input_ids.device) + past_len).unsqueeze(0)
        mask = causal_mask(attention_mask, seq_len, past_len, h.dtype)
        pos = self.rotary_emb(h, position_ids)
        presents = []
        if self.plan is None:
            for i, layer in enumerate(self.layers):
                past = past_key_values[i] if past_key_values is not None else None
                h, present = layer(h, mask, pos, past)
                presents.append(present)
        else:
            for step in self.plan:
                if len(step) == 1:
                    h, _ = self.layers[step[0]](h, mask, pos)
                else:
                    outs = [self.layers[i](h, mask, pos)[0] for i in step]
                    h = torch.stack(outs).mean(0)
        return self.norm(h), presents


class LlamaForCausalLM(nn.Module):
    def __init__(self, c, use_cache=False):
        super().__init__()
        self.config = c
        self.model = LlamaModel(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.use_cache = use_cache

    def forward(self, input_ids, attention_mask, position_ids=None, *past_flat):
        past = None
        if self.use_cache:
            n = self.config.num_hidden_layers
            past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(n)]
        hidden, presents = self.model(input_ids, attention_mask, position_ids, past)
        logits = self.lm_head(hidden)
        if not self.use_cache:
            return logits
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)


def init_weights(model, seed):
    g = torch.Generator().manual_seed(seed)
    n_layers = model.config.num_hidden_layers
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.fill_(1.0)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                p.normal_(0.0, 0.02 / math.sqrt(2 * n_layers), generator=g)
            else:
                p.normal_(0.0, 0.02, generator=g)
