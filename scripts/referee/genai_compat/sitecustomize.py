"""Lets onnxruntime-genai 0.18.0's model builder import under transformers 4.57.6.

The builder (onnxruntime_genai/models/builders/base.py) imports
Qwen3_5ForConditionalGeneration and Qwen3_5MoeForConditionalGeneration from
transformers at module level, and those classes only exist in newer
transformers than optimum-onnx 0.1.0 allows (< 4.58). It uses them only as
values in a table for the qwen3_5 model types, so for Llama and Gemma 3 a
stand-in that refuses to be used is enough. scripts/referee/export_real.sh
puts this folder on PYTHONPATH for the genai exporters only; Python imports
sitecustomize at start-up.
"""
import transformers

for _name in ("Qwen3_5ForConditionalGeneration", "Qwen3_5MoeForConditionalGeneration"):
    try:
        getattr(transformers, _name)
    except (AttributeError, ImportError):
        def _refuse(*args, _name=_name, **kwargs):
            raise ImportError(f"{_name} is not in transformers {transformers.__version__}; "
                              "this model type needs a newer transformers")
        setattr(transformers, _name, type(_name, (), {"__init__": _refuse, "from_pretrained": staticmethod(_refuse)}))
