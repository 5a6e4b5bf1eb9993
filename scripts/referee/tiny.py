"""Tiny random-weight Hugging Face models, one per architecture painterc's
real-exporter fixtures cover (testdata/real). Each is a full HF folder
(config.json, model.safetensors, tokenizer.json, tokenizer_config.json) so
that every exporter, optimum and onnxruntime-genai's builder included, takes
it exactly like a downloaded checkpoint.

The shapes are chosen for the exporters, not for quality: 4 blocks, hidden
64, head size 16 (onnxruntime's CPU GroupQueryAttention wants head_size % 16
== 0), a 256-token vocabulary, so that every export stays far below the
fixtures' 2 MB. Weights are drawn from torch's generator seeded with --seed
(then scaled so that activations stay O(1) through the blocks).

Usage: tiny.py --out build/tiny [--seed 0] [--arch llama,gemma3,...]
"""

import argparse
import json
import os

import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    BertConfig,
    BertModel,
    Gemma3ForCausalLM,
    Gemma3TextConfig,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
    Qwen3Config,
    Qwen3ForCausalLM,
)

VOCAB = 256
BLOCKS = 4
HIDDEN = 64
HEADS = 4
HEAD_DIM = 16
INTERMEDIATE = 128


def llama():
    # SmolLM2-135M's shape, shrunk: GQA (4 query heads over 2 KV heads), tied
    # embeddings, SiLU MLP, RMSNorm, rope_theta 100000.
    return LlamaForCausalLM, LlamaConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=INTERMEDIATE,
        num_hidden_layers=BLOCKS, num_attention_heads=HEADS, num_key_value_heads=2,
        head_dim=HEAD_DIM, max_position_embeddings=128, rms_norm_eps=1e-5,
        rope_theta=100000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
        pad_token_id=2, hidden_act="silu")


def gemma3():
    # Gemma 3 270M's shape, shrunk: 4 query heads over 1 KV head, q/k norms,
    # four norms per block, scaled embeddings, and both attention kinds:
    # blocks 0, 1, 3 slide over a 4-token window with the local rope base,
    # block 2 attends globally with the global base. Prompts in the fixtures
    # are longer than the window, so the two kinds give different results.
    return Gemma3ForCausalLM, Gemma3TextConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=INTERMEDIATE,
        num_hidden_layers=BLOCKS, num_attention_heads=HEADS, num_key_value_heads=1,
        head_dim=HEAD_DIM, max_position_embeddings=128, rms_norm_eps=1e-6,
        sliding_window=4,
        layer_types=["sliding_attention", "sliding_attention", "full_attention",
                     "sliding_attention"],
        rope_theta=1000000.0, rope_local_base_freq=10000.0, query_pre_attn_scalar=HEAD_DIM,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0,
        hidden_activation="gelu_pytorch_tanh")


def qwen3():
    # Qwen3-0.6B's shape, shrunk: GQA 4/2, q/k RMSNorm, tied embeddings.
    return Qwen3ForCausalLM, Qwen3Config(
        vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=INTERMEDIATE,
        num_hidden_layers=BLOCKS, num_attention_heads=HEADS, num_key_value_heads=2,
        head_dim=HEAD_DIM, max_position_embeddings=128, rms_norm_eps=1e-6,
        rope_theta=1000000.0, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2,
        use_sliding_window=False)


def gpt2():
    return GPT2LMHeadModel, GPT2Config(
        vocab_size=VOCAB, n_embd=HIDDEN, n_layer=BLOCKS, n_head=HEADS, n_positions=128,
        n_inner=INTERMEDIATE, bos_token_id=1, eos_token_id=2,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)


def bert():
    # all-MiniLM-L6-v2's shape, shrunk (an encoder: no cache, no head).
    return BertModel, BertConfig(
        vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=BLOCKS,
        num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
        max_position_embeddings=128, type_vocab_size=2, pad_token_id=0,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


ARCHS = {"llama": llama, "gemma3": gemma3, "qwen3": qwen3, "gpt2": gpt2, "bert": bert}


def tokenizer(arch):
    """A word-level tokenizer over VOCAB made-up words: enough for exporters
    that copy or load a tokenizer; the fixtures feed token ids directly."""
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3}
    for i in range(4, VOCAB):
        vocab[f"w{i}"] = i
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    kw = dict(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
              pad_token="<pad>", model_max_length=128)
    if arch == "bert":
        kw.update(cls_token="<s>", sep_token="</s>", mask_token="<unk>")
    return PreTrainedTokenizerFast(**kw)


def build(arch, seed):
    cls, cfg = ARCHS[arch]()
    torch.manual_seed(seed)
    model = cls(cfg)
    # Random init uses std 0.02; with 4 tiny blocks the logits would be
    # almost flat. A wider spread makes schedules differ visibly.
    with torch.no_grad():
        gen = torch.Generator().manual_seed(seed)
        for name, p in model.named_parameters():
            if p.ndim >= 2:
                p.copy_(torch.randn(p.shape, generator=gen) * (1.0 / p.shape[-1] ** 0.5))
            elif "norm" in name or "ln" in name or "LayerNorm" in name:
                # Gemma's norms scale by (1 + w): keep them near 1 either way.
                base = 0.0 if arch == "gemma3" else 1.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
    model.tie_weights()
    model.eval()
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="parent folder; each arch goes to OUT/<arch>")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arch", default=",".join(ARCHS), help="comma-separated subset of " + ",".join(ARCHS))
    args = ap.parse_args()
    for arch in args.arch.split(","):
        if arch not in ARCHS:
            raise SystemExit(f"tiny.py: unknown --arch {arch!r}; known: {', '.join(ARCHS)}")
        model = build(arch, args.seed)
        folder = os.path.join(args.out, arch)
        model.save_pretrained(folder, safe_serialization=True)
        tokenizer(arch).save_pretrained(folder)
        with open(os.path.join(folder, "tiny.json"), "w") as f:
            json.dump({"arch": arch, "seed": args.seed}, f)
        n = sum(p.numel() for p in model.parameters())
        print(f"tiny.py: {arch}: {n} parameters -> {folder}")


if __name__ == "__main__":
    main()
