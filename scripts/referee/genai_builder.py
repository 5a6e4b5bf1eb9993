"""Run onnxruntime-genai's model builder, adapting one config difference.

With transformers 5 (which the 0.18.0 builder needs, see export.py), a Gemma 3
config keeps RoPE per attention type: rope_parameters = {"full_attention":
{...}, "sliding_attention": {...}}, and no longer has rope_local_base_freq.
The builder's Gemma 3 path reads the flat form (rope_parameters["rope_type"],
config.rope_local_base_freq). Before the builder sees a config, this
flattens it: the global entry becomes rope_parameters and the sliding
entry's theta becomes rope_local_base_freq, which is what both mean
(the per-type entries stay, for transformers' own modules). Every
other config passes through untouched.

    genai_builder.py <the builder's own arguments>
"""

import runpy
import sys

import transformers

_from_pretrained = transformers.AutoConfig.from_pretrained.__func__


def _flatten(config):
    for c in (config, getattr(config, "text_config", None)):
        rp = getattr(c, "rope_parameters", None) if c is not None else None
        if isinstance(rp, dict) and "full_attention" in rp and "sliding_attention" in rp:
            c.rope_local_base_freq = rp["sliding_attention"]["rope_theta"]
            # Flat keys beside the per-type ones: the builder reads the
            # former, transformers' Gemma 3 modules (which the builder also
            # loads with this config) the latter.
            c.rope_parameters = {**rp, **rp["full_attention"]}
    return config


def from_pretrained(cls, *args, **kwargs):
    out = _from_pretrained(cls, *args, **kwargs)
    if isinstance(out, tuple):
        return (_flatten(out[0]),) + out[1:]
    return _flatten(out)


transformers.AutoConfig.from_pretrained = classmethod(from_pretrained)
sys.argv[0] = "onnxruntime_genai.models.builder"
runpy.run_module("onnxruntime_genai.models.builder", run_name="__main__", alter_sys=True)
