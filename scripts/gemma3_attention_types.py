"""How much Gemma 3's attention type matters on a fixture's prompt.

Loads a Gemma 3 Hugging Face folder (the tiny one make_fixtures.sh builds,
or a real checkpoint), runs the fixture's prompt once as configured and
once with every layer's type flipped (sliding <-> full), and prints the
largest logit difference: what a rewrite that lost a block's attention type
would be off by, against the 1e-4 the real-fixture tests allow.

    build/venv/bin/python scripts/gemma3_attention_types.py HF_FOLDER FIXTURE_FOLDER

Investigation only (docs/layouts.md quotes it).
"""

import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM


def main():
    folder, fixture = sys.argv[1], sys.argv[2]
    ids = torch.from_numpy(np.load(f"{fixture}/input_ids.npy"))
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    cfg = model.config
    with torch.no_grad():
        want = model(input_ids=ids).logits
        types = list(cfg.layer_types)
        flipped = ["full_attention" if t == "sliding_attention" else "sliding_attention" for t in types]
        cfg.layer_types = flipped
        for layer, t in zip(model.model.layers, flipped):
            layer.attention_type = t
            layer.self_attn.is_sliding = t == "sliding_attention"
            layer.self_attn.sliding_window = cfg.sliding_window if t == "sliding_attention" else None
        got = model(input_ids=ids).logits
    print(f"prompt {ids.shape[1]} tokens, window {cfg.sliding_window}, types {types}: "
          f"flipping every layer's type moves the logits by up to {float((got - want).abs().max()):.3g}")


if __name__ == "__main__":
    main()
