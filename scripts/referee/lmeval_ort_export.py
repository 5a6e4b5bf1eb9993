#!/usr/bin/env python3
"""lm-eval 0.4.13's hf backend with the forward pass done by ONNX Runtime on an export.

    build/venv/bin/python scripts/referee/lmeval_ort_export.py run --model hf-ort-export \
        --model_args pretrained=HF_DIR,export=MODEL.onnx,dtype=float32 [lm_eval run's other flags]

Everything but the logits is lm-eval's hf backend (HFLM): its tokenization,
its request order, its truncation, its log-softmax and is_greedy. Only
HFLM._model_call, one forward over [1, seq] token ids (batch size 1, so no
padding), runs the ONNX export in onnxruntime's Python API instead of torch:
attention_mask ones, position_ids 0..seq-1 (when the graph has them), each
cache input past* empty [1, kv_heads, 0, head_dim] (head_dim from
genai_config.json beside the export when the graph leaves it symbolic, as
onnxruntime-genai's builder does: so a Model Builder graph runs here too,
without onnxruntime-genai's runtime). Its samples therefore differ from `--model hf`
exactly by the export's own distance from torch, and from `painterc score`
on the same export by painterc's: lmeval_referee.py --ort-export uses it to
say which of the two a gap between torch and painterc belongs to (Gemma 3,
whose export is ~5e-4 from torch on logits).

Generation (generate_until) is HFLM's own, through torch: this backend only
referees log-likelihoods.
"""

import json
import os
import sys

import numpy as np
import torch

from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM


@register_model("hf-ort-export")
class HFOrtExport(HFLM):
    def __init__(self, export=None, threads=None, **kwargs):
        if not export:
            raise ValueError("hf-ort-export needs export=MODEL.onnx in --model_args")
        super().__init__(**kwargs)
        import onnxruntime as ort

        so = ort.SessionOptions()
        if threads:
            so.intra_op_num_threads = int(threads)
        self.session = ort.InferenceSession(export, so, providers=["CPUExecutionProvider"])
        self.feeds = {}
        # onnxruntime-genai's builder leaves the head size symbolic
        # ([batch, kv_heads, past, kv_cache_dim]); its genai_config.json gives it.
        head_size = None
        cfg = os.path.join(os.path.dirname(os.path.abspath(export)), "genai_config.json")
        if os.path.exists(cfg):
            with open(cfg) as f:
                head_size = json.load(f)["model"]["decoder"].get("head_size")
        for i in self.session.get_inputs():
            if i.name.startswith("past"):
                _, heads, _, dim = i.shape
                if not isinstance(dim, int) and head_size:
                    dim = int(head_size)
                if not isinstance(heads, int) or not isinstance(dim, int):
                    raise ValueError(f"{export}: cache input {i.name} has shape {i.shape}; want static kv_heads and head_dim")
                self.feeds[i.name] = np.zeros((1, heads, 0, dim), dtype=np.float32)
            elif i.name not in ("input_ids", "attention_mask", "position_ids"):
                raise ValueError(f"{export}: input {i.name} is not one this backend fills")
        self.input_names = {i.name for i in self.session.get_inputs()}

    def _model_call(self, inps, attn_mask=None, labels=None):
        ids = inps.cpu().numpy().astype(np.int64)
        if ids.shape[0] != 1:
            raise ValueError("hf-ort-export runs batch size 1 only (no padding to mask)")
        feed = dict(self.feeds)
        feed["input_ids"] = ids
        if "attention_mask" in self.input_names:
            feed["attention_mask"] = np.ones_like(ids)
        if "position_ids" in self.input_names:
            feed["position_ids"] = np.arange(ids.shape[1], dtype=np.int64)[None, :]
        (logits,) = self.session.run(["logits"], feed)
        return torch.from_numpy(logits)


if __name__ == "__main__":
    from lm_eval.__main__ import cli_evaluate

    sys.argv[0] = "lm_eval"
    cli_evaluate()
