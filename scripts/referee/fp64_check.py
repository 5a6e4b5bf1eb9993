"""How far fp32 itself is from the exact answer, per schedule.

Runs schedule_referee's Runner over a Hugging Face model twice, in float32
and in float64, and prints max |fp32 - fp64| of the prefill logits for each
schedule. painterc's rewrites on ONNX Runtime are compared with the fp32
referee; where the fp32 referee is itself this far from fp64, no fp32
implementation can be held closer than about this much, and a 1e-4 bound
says nothing about the rewrite.

  build/venv/bin/python scripts/referee/fp64_check.py build/models/smollm2-135m-instruct \
      0-29 1-29 0,2-29 0,2-1,3-29 0-7,15x15,23-29 0-7,[8-22]x3,23-29
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schedule_referee as sr  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="Hugging Face folder of a decoder")
    ap.add_argument("schedules", nargs="+")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m32 = sr.load_model(args.model)
    m64 = sr.load_model(args.model).double()
    # A fixed 12-token prompt inside every vocabulary this is run on.
    ids = torch.tensor([[504, 3575, 282, 4649, 314, 7042, 30, 378, 1345, 2165, 282, 253]])
    mask = torch.ones_like(ids)
    print(f"{'schedule':22s} {'max|fp32-fp64|':>15s} {'max|logit|':>11s}")
    for s in args.schedules:
        with torch.no_grad():
            a, _ = sr.Runner(m32).run(s, ids, mask)
            b, _ = sr.Runner(m64).run(s, ids, mask)
        print(f"{s:22s} {float((a.double() - b).abs().max()):15.2e} {float(b.abs().max()):11.1f}", flush=True)


if __name__ == "__main__":
    main()
