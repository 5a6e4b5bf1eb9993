"""Gemma 3 through onnxruntime-genai's builder, rewritten by painterc, run
by onnxruntime-genai, against the PyTorch schedule referee.

onnxruntime-genai 0.18.0's builder needs transformers 5, whose Gemma 3
config keeps the rope bases per attention type (rope_parameters
{"sliding_attention": ..., "full_attention": ...}) while the builder reads
a flat rope_parameters and config.rope_local_base_freq: this script gives
the loaded config both (nothing else changes) and runs the builder on a
Gemma 3 folder. Sliding layers then get GroupQueryAttention with
local_window_size and bounded ("windowed") caches, which only
onnxruntime-genai feeds, so the check runs there: for each schedule,
painterc rewrites the export (renumbering genai_config.json's
sliding_window.layers), onnxruntime-genai prefills a 40-token prompt and
decodes one token, and both logits are compared with
scripts/referee/schedule_referee.py's Runner on the Hugging Face model.
A last line repeats one schedule with the builder's sliding-layer list
left as it was, to show what the renumbering prevents.

    # step 1, with transformers 5 first on the path (the genai overlay):
    PYTHONPATH=build/genai-overlay build/venv/bin/python scripts/gemma3_genai_check.py build HF_FOLDER OUT
    # step 2, with the referee venv's own transformers:
    build/venv/bin/python scripts/gemma3_genai_check.py check HF_FOLDER OUT [bin/painterc]

Investigation only (docs/layouts.md quotes it); make test does not run it.
"""

import json
import os
import runpy
import subprocess
import sys
import tempfile

SCHEDULES = ["0-3", "3-0", "1-3", "2,0,1,3", "0,[1-2],3", "0,[1-2]x3,3", "0,(1-2)x2,3", "0-1,2x3,3", "[0-3]x2"]


def build(hf, out):
    import transformers
    load = transformers.AutoConfig.from_pretrained

    def patched(*a, **k):
        c = load(*a, **k)
        rp = getattr(c, "rope_parameters", None)
        if isinstance(rp, dict) and "full_attention" in rp:
            c.rope_local_base_freq = rp["sliding_attention"]["rope_theta"]
            c.rope_parameters = dict(rp["full_attention"])
            c.rope_theta = c.rope_parameters["rope_theta"]
        return c

    transformers.AutoConfig.from_pretrained = patched
    cache = tempfile.mkdtemp(prefix="genai-cache-")
    sys.argv = ["builder", "-i", hf, "-o", out, "-p", "fp32", "-e", "cpu", "-c", cache]
    runpy.run_module("onnxruntime_genai.models.builder", run_name="__main__")


def check(hf, export, painterc):
    import numpy as np
    import torch
    import onnxruntime_genai as og
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "referee"))
    import schedule_referee as sr

    runner = sr.Runner(sr.load_model(hf))
    n = 40
    ids = torch.tensor([[(7 * i + 3) % 256 for i in range(n)]])

    def one(sched, renumber=True):
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([painterc, "--schedule", sched, os.path.join(export, "model.onnx"),
                            "-o", os.path.join(out, "model.onnx")], check=True, capture_output=True)
            path = os.path.join(out, "genai_config.json")
            cfg = json.load(open(path))
            sliding = cfg["model"]["decoder"]["sliding_window"]
            slots = cfg["model"]["decoder"]["num_hidden_layers"]
            if not renumber:
                sliding["layers"] = json.load(open(os.path.join(export, "genai_config.json")))["model"]["decoder"]["sliding_window"]["layers"]
                json.dump(cfg, open(path, "w"))
            with torch.no_grad():
                l1, cache = runner.run(sched, ids, torch.ones_like(ids), torch.arange(n)[None])
                tok = int(l1[0, -1].argmax())
                l2, _ = runner.run(sched, torch.tensor([[tok]]), torch.ones(1, n + 1, dtype=torch.long),
                                   torch.tensor([[n]]), cache=cache)
            model = og.Model(out)
            params = og.GeneratorParams(model)
            params.set_search_options(max_length=64)
            gen = og.Generator(model, params)
            try:
                gen.append_tokens(ids.numpy())
                d1 = float(np.abs(gen.get_output("logits")[:, -1] - l1[:, -1].numpy()).max())
                gen.append_tokens(np.array([[tok]]))
                d2 = float(np.abs(gen.get_output("logits")[:, -1] - l2[:, -1].numpy()).max())
                return f"{slots} slots, sliding {sliding['layers']}: prefill {d1:.2g}, decode {d2:.2g}"
            except Exception as e:  # onnxruntime-genai refuses the model
                return f"{slots} slots, sliding {sliding['layers']}: onnxruntime-genai fails: {str(e).splitlines()[0][:160]}"

    window = runner.cfg.sliding_window
    print(f"{n}-token prompt, window {window}, layer types {runner.cfg.layer_types}, onnxruntime-genai {og.__version__}")
    for s in SCHEDULES:
        print(f"  {s:14s} {one(s)}")
    print(f"  {'3-0':14s} with the builder's list not renumbered: {one('3-0', renumber=False)}")


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "bin/painterc")
