"""Run painterc's rewrites of onnxruntime-genai builder files on
onnxruntime-genai itself.

For every fixture under testdata/real whose folder holds genai_config.json,
and every schedule among its referee's prefill cases, this compiles the
model with bin/painterc into a scratch folder (which gets painterc's copy of
genai_config.json, num_hidden_layers = the rewrite's KV slots), loads that
folder with onnxruntime_genai.Model, appends the case's prompt, and prints
the largest difference between genai's last-position logits and the PyTorch
referee's, and whether the greedy next token agrees.

    build/venv/bin/python scripts/genai_runtime_check.py [testdata/real] [bin/painterc]

Investigation only (docs/layouts.md quotes it); make test does not run it.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime_genai as og


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "testdata/real"
    painterc = sys.argv[2] if len(sys.argv) > 2 else "bin/painterc"
    for cfg in sorted(glob.glob(os.path.join(root, "*", "genai_config.json"))):
        fixture = os.path.dirname(cfg)
        if not os.path.exists(os.path.join(fixture, "referee.json")):
            continue
        ref = json.load(open(os.path.join(fixture, "referee.json")))
        worst, agree, n = 0.0, 0, 0
        seen = set()
        for case in ref["cases"]:
            if case["phase"] != "prefill" or case["schedule"] in seen:
                continue
            seen.add(case["schedule"])
            with tempfile.TemporaryDirectory() as out:
                subprocess.run([painterc, "--schedule", case["schedule"],
                                os.path.join(fixture, ref["model"]), "-o", os.path.join(out, "model.onnx")],
                               check=True, capture_output=True)
                model = og.Model(out)
                params = og.GeneratorParams(model)
                params.set_search_options(max_length=64)
                gen = og.Generator(model, params)
                ids = np.load(os.path.join(fixture, case["inputs"]["input_ids"]))
                gen.append_tokens(ids)
                got = gen.get_output("logits")[:, -1]
                want = np.load(os.path.join(fixture, case["outputs"]["logits"]))[:, -1]
                worst = max(worst, float(np.abs(got - want).max()))
                agree += int(got[0].argmax() == want[0].argmax())
                n += 1
                del gen, params, model
        print(f"{os.path.basename(fixture)}: {n} schedules on onnxruntime-genai {og.__version__}: "
              f"max |logits - referee| {worst:.3g}, greedy token agrees {agree}/{n}")


if __name__ == "__main__":
    main()
