"""Cross-check fixtures through painterc itself: for every case of every
fixture folder given, compile the case's schedule with painterc, run the
result on onnxruntime (Python) with the case's inputs, and print max |Δ|
against the referee's outputs. Folders painterc cannot yet read are
reported, not fatal (detection of real layouts is the Go side's work).

    check_fixtures.py [--painterc bin/painterc] testdata/real/llama-genai ...
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--painterc", default="bin/painterc")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    worst_all = 0.0
    for d in args.dirs:
        ref = json.load(open(os.path.join(d, "referee.json")))
        worst, fails = 0.0, []
        with tempfile.TemporaryDirectory() as tmp:
            compiled = {}
            for c in ref["cases"]:
                s = c["schedule"]
                if s not in compiled:
                    out = os.path.join(tmp, f"s{len(compiled)}", "model.onnx")
                    os.makedirs(os.path.dirname(out))
                    r = subprocess.run([args.painterc, "--schedule", s, os.path.join(d, ref["model"]), "-o", out],
                                       capture_output=True, text=True)
                    compiled[s] = out if r.returncode == 0 else None
                    if r.returncode != 0:
                        fails.append(f"{s}: painterc: {r.stderr.strip().splitlines()[0] if r.stderr.strip() else r.returncode}")
                path = compiled[s]
                if path is None:
                    continue
                sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                feeds = {k: np.load(os.path.join(d, v)) for k, v in c["inputs"].items()}
                names = list(c["outputs"])
                try:
                    got = sess.run(names, feeds)
                except Exception as e:  # noqa: BLE001 - reported per case
                    fails.append(f"{s} {c['phase']}: onnxruntime: {str(e).splitlines()[0]}")
                    continue
                for n, g in zip(names, got):
                    want = np.load(os.path.join(d, c["outputs"][n]))
                    if g.shape != want.shape:
                        fails.append(f"{s} {c['phase']} {n}: shape {g.shape} != {want.shape}")
                        continue
                    worst = max(worst, float(np.abs(g - want).max()))
        worst_all = max(worst_all, worst)
        verdict = "ok" if worst <= ref["tolerance"] and not fails else "OVER" if worst > ref["tolerance"] else "incomplete"
        print(f"{d}: {len(ref['cases'])} cases, max |d| = {worst:.3g} (tolerance {ref['tolerance']}) {verdict}")
        for f in fails[:5]:
            print(f"   {f}")
        if len(fails) > 5:
            print(f"   ... {len(fails) - 5} more")


if __name__ == "__main__":
    main()
