"""Write testdata/real/MANIFEST.json: the library versions that produced the
fixtures, the tiny models' configs and seed, the combinations an exporter
does not support (with its reason), and the SHA-256 of every file."""

import argparse
import glob
import hashlib
import importlib.metadata as md
import json
import os

PACKAGES = ["torch", "transformers", "optimum", "optimum-onnx", "onnxruntime", "onnxruntime-genai",
            "onnx", "onnxscript", "onnx-ir", "numpy", "tokenizers"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--table", action="store_true",
                    help="print the README's fixture table from an existing MANIFEST.json and stop")
    args = ap.parse_args()
    if args.table:
        table(os.path.join(args.out, "MANIFEST.json"))
        return
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = md.version(p)
        except md.PackageNotFoundError:
            versions[p] = None
    configs = {}
    for cfg in sorted(glob.glob(os.path.join(args.work, "tiny", "*", "config.json"))):
        with open(cfg) as f:
            c = json.load(f)
        c.pop("transformers_version", None)
        configs[os.path.basename(os.path.dirname(cfg))] = c
    prev = {}
    path = os.path.join(args.out, "MANIFEST.json")
    if os.path.exists(path):
        with open(path) as f:
            prev = json.load(f)
    unsupported = dict(prev.get("unsupported", {}))
    for u in glob.glob(os.path.join(args.work, "*.unsupported")):
        with open(u) as f:
            unsupported[os.path.basename(u)[:-len(".unsupported")]] = f.read().strip()
    fixtures = {}
    for d in sorted(os.listdir(args.out)):
        full = os.path.join(args.out, d)
        if not os.path.isdir(full):
            continue
        unsupported.pop(d, None)
        with open(os.path.join(full, "referee.json")) as f:
            ref = json.load(f)
        files = {}
        for name in sorted(os.listdir(full)):
            with open(os.path.join(full, name), "rb") as f:
                files[name] = hashlib.sha256(f.read()).hexdigest()
        fixtures[d] = {"model": ref["model"], "blocks": ref["blocks"], "tolerance": ref["tolerance"],
                       "referee_check": ref["referee_check"],
                       "bytes": sum(os.path.getsize(os.path.join(full, n)) for n in files),
                       "sha256": files}
    doc = {"generator": "scripts/referee/make_fixtures.sh", "seed": args.seed, "versions": versions,
           "tiny_configs": {**prev.get("tiny_configs", {}), **configs},
           "unsupported": dict(sorted(unsupported.items())), "fixtures": fixtures}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"manifest.py: {path}: {len(fixtures)} fixtures, {len(unsupported)} unsupported combinations")


def table(path):
    with open(path) as f:
        doc = json.load(f)
    print("| fixture | file | bytes | cases | tolerance | identity vs HF forward (prefill / decode) "
          "| identity vs export on ORT (prefill / decode) |")
    print("|---|---|---|---|---|---|---|")
    for name, fx in doc["fixtures"].items():
        c = fx["referee_check"]

        def pair(kind):
            vals = [c.get(f"identity_vs_{kind}_{p}") for p in ("prefill", "decode")]
            return " / ".join("—" if v is None else f"{v:.3g}" for v in vals)
        with open(os.path.join(os.path.dirname(path), name, "referee.json")) as f:
            ncases = len(json.load(f)["cases"])
        print(f"| {name} | {fx['model']} | {fx['bytes']} | {ncases} | {fx['tolerance']} | {pair('hf_forward')} "
              f"| {pair('export_on_ort')} |")
    for name, why in doc["unsupported"].items():
        print(f"| {name} | — | — | — | — | not exported: {why.split(': ', 2)[-1]} | |")


if __name__ == "__main__":
    main()
