"""Export a Hugging Face model folder to ONNX with one real exporter.

    export.py EXPORTER --model HF_FOLDER --out OUT_FOLDER [--work DIR]

EXPORTER is one of the functions in EXPORTERS below (torchscript,
torchscript-kv, dynamo, optimum, genai, genai-int4, ortopt). Each writes
exactly what that exporter writes into OUT_FOLDER (which must not exist or
be empty) and prints the ONNX file's name on its last line. The folder may be
a tiny model from tiny.py or a real checkpoint (build/models/...): nothing
here depends on the size, and big outputs go wherever --out points.

The torch exporters trace a thin wrapper whose inputs are named the way
optimum names them (input_ids, attention_mask, position_ids,
past_key_values.{i}.key/.value; outputs logits, present.{i}.key/.value), so
that every decoder fixture has the same interface whatever wrote it. The
cache passed through the wrapper is a transformers DynamicCache built from
those tensors without the config: every layer, sliding or not, keeps the
whole past (a sliding layer's window is in its mask, not in its cache).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import torch

OPSET_TORCHSCRIPT = 17  # the newest opset Debian's onnx checker (1.12) reads


def arch_of(config):
    a = config.architectures[0] if getattr(config, "architectures", None) else config.model_type
    for key, name in (("Llama", "llama"), ("Gemma3", "gemma3"), ("Qwen3", "qwen3"),
                      ("GPT2", "gpt2"), ("Bert", "bert")):
        if key in a:
            return name
    raise SystemExit(f"export.py: architecture {a!r} is not one of llama, gemma3, qwen3, gpt2, bert")


def load(model_dir, attn="sdpa"):
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM
    cfg = AutoConfig.from_pretrained(model_dir)
    arch = arch_of(cfg)
    cls = AutoModel if arch == "bert" else AutoModelForCausalLM
    model = cls.from_pretrained(model_dir, torch_dtype=torch.float32, attn_implementation=attn)
    model.eval()
    return arch, model


def kv_shape(config):
    tc = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    if tc.model_type == "gpt2":
        heads = tc.n_head
        return tc.n_layer, heads, tc.n_embd // heads
    kv = getattr(tc, "num_key_value_heads", None) or tc.num_attention_heads
    hd = getattr(tc, "head_dim", None) or tc.hidden_size // tc.num_attention_heads
    return tc.num_hidden_layers, kv, hd


def flat_decoder(model, with_past):
    """The HF model itself, its forward replaced by one over flat tensors:
    input_ids, attention_mask, position_ids[, past k/v per layer] ->
    logits[, present k/v per layer]. Patching the model (instead of wrapping
    it in another module) keeps the exporters' scopes the model's own:
    /model/layers.0/... as optimum writes them, not /model/model/layers.0."""
    import types
    from transformers import DynamicCache
    hf_forward = model.forward

    def forward(self, input_ids, attention_mask, position_ids, *past):
        kw = dict(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids)
        if with_past:
            pairs = [(past[2 * i], past[2 * i + 1]) for i in range(len(past) // 2)]
            kw["past_key_values"] = DynamicCache(pairs)
            kw["use_cache"] = True
        else:
            kw["use_cache"] = False
        out = hf_forward(**kw)
        if not with_past:
            return out.logits
        flat = [out.logits]
        for layer in out.past_key_values.layers:
            flat += [layer.keys, layer.values]
        return tuple(flat)
    model.forward = types.MethodType(forward, model)
    return model


def flat_encoder(model):
    import types
    hf_forward = model.forward

    def forward(self, input_ids, attention_mask, token_type_ids):
        return hf_forward(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state
    model.forward = types.MethodType(forward, model)
    return model


def io_spec(model, with_past, past_len=3, seq=5, batch=2):
    """Example inputs, names and dynamic axes for the torch exporters. The
    example batch is 2: torch.export specializes a dimension traced at 1."""
    if model.config.model_type == "bert":
        ids = torch.tensor([[1] + list(range(5, 5 + seq - 1))] * batch)
        args = (ids, torch.ones_like(ids), torch.zeros_like(ids))
        names = ["input_ids", "attention_mask", "token_type_ids"]
        axes = {n: {0: "batch_size", 1: "sequence_length"} for n in names}
        axes["last_hidden_state"] = {0: "batch_size", 1: "sequence_length"}
        return flat_encoder(model), args, names, ["last_hidden_state"], axes
    n, kv, hd = kv_shape(model.config)
    total = (past_len if with_past else 0) + seq
    ids = torch.tensor([list(range(7, 7 + seq))] * batch)
    args = [ids, torch.ones(batch, total, dtype=torch.int64),
            torch.arange(total - seq, total).unsqueeze(0).expand(batch, -1).contiguous()]
    names = ["input_ids", "attention_mask", "position_ids"]
    outs = ["logits"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    if with_past:
        g = torch.Generator().manual_seed(1)
        for i in range(n):
            for kind in ("key", "value"):
                args.append(torch.randn(batch, kv, past_len, hd, generator=g))
                names.append(f"past_key_values.{i}.{kind}")
                outs.append(f"present.{i}.{kind}")
                axes[names[-1]] = {0: "batch_size", 2: "past_sequence_length"}
                axes[outs[-1]] = {0: "batch_size", 2: "total_sequence_length"}
    return flat_decoder(model, with_past), tuple(args), names, outs, axes


def _broadcast_mask(batch_size, cache_position, kv_length, kv_offset=0, mask_function=None,
                    attention_mask=None, **kwargs):
    """transformers' boolean 4-D mask, built by broadcasting index tensors
    through mask_function instead of torch.vmap (which the TorchScript tracer
    cannot follow). True = attend."""
    from transformers import masking_utils as mu
    fn = mask_function or mu.causal_mask_function
    q = cache_position.reshape(1, 1, -1, 1)
    kv = (torch.arange(kv_length, device=cache_position.device) + kv_offset).reshape(1, 1, 1, -1)
    b = torch.arange(batch_size, device=cache_position.device).reshape(-1, 1, 1, 1)
    mask = fn(b, torch.zeros(1, 1, 1, 1, dtype=torch.long), q, kv)
    if attention_mask is not None:
        pad = mu.prepare_padding_mask(attention_mask, kv_length, kv_offset)
        mask = mask & pad[:, None, None, :].bool()
    return mask.expand(batch_size, 1, q.shape[2], kv_length)


def _eager_broadcast_mask(*args, dtype=torch.float32, **kwargs):
    kwargs.pop("allow_is_causal_skip", None)
    mask = _broadcast_mask(*args, **kwargs)
    return torch.where(mask, torch.tensor(0.0, dtype=dtype), torch.finfo(dtype).min)


class traceable_masks:
    """Within the block, transformers builds attention masks by broadcasting."""

    def __enter__(self):
        from transformers import masking_utils as mu
        self.saved = (mu.ALL_MASK_ATTENTION_FUNCTIONS["sdpa"], mu.ALL_MASK_ATTENTION_FUNCTIONS["eager"])
        mu.ALL_MASK_ATTENTION_FUNCTIONS.register("sdpa", _broadcast_mask)
        mu.ALL_MASK_ATTENTION_FUNCTIONS.register("eager", _eager_broadcast_mask)

    def __exit__(self, *exc):
        from transformers import masking_utils as mu
        mu.ALL_MASK_ATTENTION_FUNCTIONS.register("sdpa", self.saved[0])
        mu.ALL_MASK_ATTENTION_FUNCTIONS.register("eager", self.saved[1])


def _torchscript(model_dir, out, with_past):
    arch, model = load(model_dir)
    wrapper, args, names, outs, axes = io_spec(model, with_past)
    path = os.path.join(out, "model.onnx")
    with torch.no_grad(), traceable_masks():
        torch.onnx.export(wrapper, args, path, input_names=names, output_names=outs,
                          dynamic_axes=axes, opset_version=OPSET_TORCHSCRIPT, dynamo=False,
                          do_constant_folding=True)
    return "model.onnx"


def torchscript(model_dir, out, work):
    """torch.onnx.export's TorchScript exporter, no KV cache (BERT: the encoder)."""
    return _torchscript(model_dir, out, with_past=False)


def torchscript_kv(model_dir, out, work):
    """The TorchScript exporter with past_key_values inputs and present outputs."""
    arch, _ = load_config_arch(model_dir)
    if arch == "bert":
        raise Unsupported("BERT is an encoder: it has no KV cache")
    return _torchscript(model_dir, out, with_past=True)


def dynamo(model_dir, out, work):
    """torch.onnx.export(dynamo=True): torch.export, then the onnxscript
    translator. Decoders are exported with the KV cache."""
    arch, model = load(model_dir)
    with_past = arch != "bert"
    wrapper, args, names, outs, axes = io_spec(model, with_past)
    path = os.path.join(out, "model.onnx")
    D = torch.export.Dim.AUTO
    shapes = [{d: D for d in axes[n]} for n in names]
    if with_past:  # torch.export sees forward's *past as one tuple argument
        shapes = shapes[:3] + [tuple(shapes[3:])]
    # The rotary embeddings' forward is decorated with @torch.no_grad(); torch
    # 2.9's export turns that into a wrap_with_set_grad_enabled submodule
    # that the ONNX decomposition then fails on ("name 'L' is not defined").
    # Everything runs under no_grad already, so call the undecorated forward.
    import types
    for mod in model.modules():
        if type(mod).__name__.endswith("RotaryEmbedding") and hasattr(type(mod).forward, "__wrapped__"):
            mod.forward = types.MethodType(type(mod).forward.__wrapped__, mod)
    # transformers' vmap mask fails under torch.export with dynamic sequence
    # lengths ("... is not tracked with proxy"): broadcast it instead.
    # torch 2.9's ExportedProgram.module() inserts a _guards_fn whose code
    # names dynamo's L[...] and fails when the ONNX exporter decomposes the
    # graph with dynamic shapes (pytorch issue 172903); the guards only check
    # inputs, so build the module without them.
    EP = torch.export.ExportedProgram
    module = EP.module
    EP.module = lambda self, check_guards=True: module(self, check_guards=False)
    # The opset conversion (18 -> 18, a no-op) refuses models with functions.
    from torch.onnx._internal.exporter import _compat
    convert = _compat.onnxscript_apis.convert_version
    _compat.onnxscript_apis.convert_version = lambda model, opset: (
        model if opset == 18 else convert(model, opset))
    try:
        with torch.no_grad(), traceable_masks():
            prog = torch.onnx.export(wrapper, args, input_names=names, output_names=outs,
                                     dynamic_shapes=shapes, dynamo=True, external_data=False,
                                     opset_version=18)
    finally:
        EP.module = module
        _compat.onnxscript_apis.convert_version = convert
    prog.save(path)
    return "model.onnx"


class Unsupported(Exception):
    """The exporter does not support this architecture (recorded, not an error)."""


def load_config_arch(model_dir):
    from transformers import AutoConfig
    cfg = AutoConfig.from_pretrained(model_dir)
    return arch_of(cfg), cfg


def optimum(model_dir, out, work):
    """optimum-onnx's exporter: text-generation-with-past for decoders,
    feature-extraction for BERT. Keeps whatever files it writes."""
    from optimum.exporters.onnx import main_export
    arch, _ = load_config_arch(model_dir)
    task = "feature-extraction" if arch == "bert" else "text-generation-with-past"
    main_export(model_dir, output=out, task=task, device="cpu", do_validation=False)
    onnx_files = sorted(f for f in os.listdir(out) if f.endswith(".onnx"))
    return onnx_files[0] if len(onnx_files) == 1 else ",".join(onnx_files)


GENAI_OVERLAY = "build/genai-overlay"


def genai_env():
    """onnxruntime-genai 0.18.0's builder is written against transformers 5
    (it imports Qwen3_5ForConditionalGeneration at module level and reads
    config.rope_parameters), while optimum-onnx 0.1.0 caps transformers
    below 4.58. The builder therefore runs with the transformers and
    huggingface-hub of requirements-genai.txt, installed with --target into
    build/genai-overlay (make_fixtures.sh does it) and put first on
    PYTHONPATH; everything else comes from the referee venv."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    overlay = os.environ.get("GENAI_OVERLAY", os.path.join(repo, GENAI_OVERLAY))
    if not os.path.isdir(os.path.join(overlay, "transformers")):
        raise SystemExit(f"export.py: genai needs transformers 5 in {overlay}: pip install --no-deps "
                         f"--target {overlay} -r scripts/referee/requirements-genai.txt")
    env = dict(os.environ)
    env["PYTHONPATH"] = overlay + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _genai(model_dir, out, work, precision):
    arch, _ = load_config_arch(model_dir)
    if arch in ("gpt2", "bert"):
        raise Unsupported(f"onnxruntime-genai's model builder has no {arch} builder "
                          "(GPT2LMHeadModel / BertModel are not in builder.py's architecture list)")
    cache = tempfile.mkdtemp(prefix="genai-cache-", dir=work)
    here = os.path.dirname(os.path.abspath(__file__))
    cmd = [sys.executable, os.path.join(here, "genai_builder.py"), "-i", model_dir,
           "-o", out, "-p", precision, "-e", "cpu", "-c", cache]
    subprocess.run(cmd, check=True, env=genai_env())
    shutil.rmtree(cache, ignore_errors=True)
    # The builder saves the tokenizer through transformers 5, which rebuilds
    # SmolLM2's byte-level BPE ("tokenizer_class": "LlamaTokenizer") with a
    # Metaspace pre-tokenizer: the same text then becomes other tokens (36
    # instead of 31 for ARC-Easy's first answer) and every score is wrong.
    # The model's own tokenizer files are the ones it was trained with.
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if os.path.exists(os.path.join(model_dir, f)):
            shutil.copyfile(os.path.join(model_dir, f), os.path.join(out, f))
    return "model.onnx"


def genai(model_dir, out, work):
    """onnxruntime-genai's model builder, fp32, CPU."""
    return _genai(model_dir, out, work, "fp32")


def genai_int4(model_dir, out, work):
    """onnxruntime-genai's model builder, int4 (MatMulNBits), CPU."""
    return _genai(model_dir, out, work, "int4")


ORT_MODEL_TYPE = {"llama": "gpt2", "gemma3": "gpt2", "qwen3": "gpt2", "gpt2": "gpt2", "bert": "bert"}


def ortopt(model_dir, out, work, small=False):
    """onnxruntime.transformers.optimizer on the TorchScript export (with KV
    cache for decoders). model_type: bert for BERT, gpt2 for the decoders
    (the optimizer has no llama/gemma/qwen type; ORT's own Llama export
    script optimizes with gpt2 too)."""
    from onnxruntime.transformers.optimizer import optimize_model
    from transformers import AutoConfig
    arch, cfg = load_config_arch(model_dir)
    tmp = tempfile.mkdtemp(prefix="ortopt-", dir=work)
    _torchscript(model_dir, tmp, with_past=arch != "bert")
    tc = cfg
    heads = getattr(tc, "num_attention_heads", None) or tc.n_head
    hidden = getattr(tc, "hidden_size", None) or tc.n_embd
    from onnxruntime.transformers.fusion_options import FusionOptions
    options = FusionOptions(ORT_MODEL_TYPE[arch])
    if small:
        # The RotaryEmbedding fusion writes cos/sin caches for a hard-coded
        # 131072 positions (fusion_rotary_attention.py): 8 MB at head size 16,
        # whatever the model. Fixtures must stay under 2 MB, so they are
        # optimized without that one fusion; real models keep it.
        options.enable_rotary_embeddings = False
    opt = optimize_model(os.path.join(tmp, "model.onnx"), model_type=ORT_MODEL_TYPE[arch],
                         num_heads=heads, hidden_size=hidden, opt_level=0, optimization_options=options)
    opt.save_model_to_file(os.path.join(out, "model.onnx"))
    shutil.rmtree(tmp, ignore_errors=True)
    return "model.onnx"


EXPORTERS = {
    "torchscript": torchscript,
    "torchscript-kv": torchscript_kv,
    "dynamo": dynamo,
    "optimum": optimum,
    "genai": genai,
    "genai-int4": genai_int4,
    "ortopt": ortopt,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("exporter", choices=sorted(EXPORTERS))
    ap.add_argument("--model", required=True, help="Hugging Face model folder")
    ap.add_argument("--out", required=True, help="output folder (created; must be empty)")
    ap.add_argument("--work", default=None, help="scratch folder (default: a temp folder)")
    ap.add_argument("--small", action="store_true",
                    help="for committed fixtures: skip fusions whose output is large whatever the model "
                         "(ortopt: RotaryEmbedding's 131072-position caches)")
    args = ap.parse_args()
    if os.path.isdir(args.out) and os.listdir(args.out):
        raise SystemExit(f"export.py: --out {args.out} is not empty; remove it or choose another")
    os.makedirs(args.out, exist_ok=True)
    work = args.work or tempfile.mkdtemp(prefix="export-")
    os.makedirs(work, exist_ok=True)
    try:
        kw = {"small": True} if args.small and args.exporter == "ortopt" else {}
        name = EXPORTERS[args.exporter](os.path.abspath(args.model), os.path.abspath(args.out), work, **kw)
    except Unsupported as e:
        os.rmdir(args.out) if not os.listdir(args.out) else None
        print(f"export.py: {args.exporter} does not support {args.model}: {e}", file=sys.stderr)
        sys.exit(3)
    except Exception:
        shutil.rmtree(args.out, ignore_errors=True)  # never leave a partial export behind
        raise
    print(name)


if __name__ == "__main__":
    main()
