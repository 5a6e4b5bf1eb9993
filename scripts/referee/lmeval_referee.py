#!/usr/bin/env python3
"""Run lm-evaluation-harness itself on painter-16 and hold `painterc score` to it.

    build/venv/bin/python scripts/referee/lmeval_referee.py [--limit 20] [--write-fixture] [--shared FILE... --shared-limit 5]
    build/venv/bin/python scripts/referee/lmeval_referee.py --hf HF_DIR --export kv=KV/model.onnx [--export plain=...] \
        --shared TASK.jsonl... --shared-limit N

The second form referees a real model (SmolLM2-135M, Gemma 3 270M: README,
"On a real model"): steps 2-5 below on the Hugging Face folder HF_DIR and on
each export (config.json and tokenizer.json beside it), with the --shared
task files. It can run lm-eval more than once, each run held to painterc
and to the first (torch):

    --lmeval-genai DIR        lm-eval --model onnxruntime-genai on a Model
                              Builder folder (with the Hugging Face folder's
                              tokenizer files: genai_folder says why);
    --lmeval-ort-export ONNX  lm-eval's hf backend with onnxruntime's forward
                              pass on an export (lmeval_ort_export.py), which
                              measures the export's own distance from torch;
    --max-gen-toks N          one generation cap for both sides;
    --rows-out FILE           the rows as JSON for lmeval_table.py --rows.

scripts/referee/referee_all.sh runs the whole set (SmolLM2 hf and genai,
Gemma 3, GSM8K generations) and prints one table;
scripts/referee/speed_vs_lmeval.sh runs the hf comparison inside its timed run.

Steps (everything goes under build/lmeval-referee/ unless said otherwise):

 1. hf/      models/painter-16 as a Hugging Face folder: its config.json (already
             LlamaForCausalLM-shaped), tokenizer files, and model.safetensors with
             the weights read out of model.onnx's initializers. torch.onnx folded
             every Linear into a MatMul whose weight initializer has a generated
             name, so each weight is found through the node that consumes it
             (/model/layers.{i}/self_attn/q_proj/MatMul, ...; the names of
             scripts/painter_model.py) and transposed back to Linear's [out, in].
 2. tasks/   one lm-eval task YAML per painterc task file, with the documents
             (header dropped) as a local JSON dataset and Python doc_to_*
             functions that return painterc's fields as they are, so lm-eval forms
             the same prompts painterc does: multiple_choice (and its partial-
             evaluation shape), loglikelihood, rolling and generate.
 3. lm-eval 0.4.13 `--model hf` (cpu, float32, batch size 1) with --log_samples.
 4. `painterc score` on models/painter-16/model.onnx and on its kv export, with
    --log-samples, and the comparison: every request's log-likelihood within
    1e-4, is_greedy equal, every acc/acc_norm equal except near-ties (two
    choices within 1e-4, listed), perplexities within 1e-5 relative,
    generations identical. It prints the referee table and exits 1 on a miss.
 5. lm_eval.utils.make_table on lm-eval's own results file and on painterc's:
    the two renderings must be the same, apart from the numbers' last digits
    where the comparison above allowed a difference (it prints both).

With --write-fixture it also writes eval/testdata/lmeval/painter16/: the task
files it ran (the first --limit documents of each), lm-eval's per-request
values and aggregates, and a manifest of versions, which the Go test
TestLMEvalFixture (cmd/painterc) holds `painterc score` to under `make test`
without Python.
"""

import argparse
import datetime
import glob
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_DIR = os.path.join(ROOT, "models", "painter-16")
OUT = os.path.join(ROOT, "build", "lmeval-referee")
FIXTURE = os.path.join(ROOT, "eval", "testdata", "lmeval", "painter16")

LL_TOL = 1e-4  # |Δ ll| per request (fp32)
TIE_TOL = 1e-4  # two choices this close are a near-tie: acc may differ
PPL_REL = 1e-5  # perplexities, relative


# ---------------------------------------------------------------- 1. HF folder


def hf_folder(dst):
    """Writes models/painter-16 as a Hugging Face LlamaForCausalLM folder."""
    import numpy as np
    import onnx
    from onnx import numpy_helper
    from safetensors.numpy import save_file

    m = onnx.load(os.path.join(MODEL_DIR, "model.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    state = {}
    for name, arr in inits.items():
        if name.startswith("model."):  # embeddings and norms keep their names
            state[name] = arr
    for node in m.graph.node:
        if node.op_type != "MatMul":
            continue
        w = node.input[1]
        if w not in inits:
            continue
        # /model/layers.3/self_attn/q_proj/MatMul -> model.layers.3.self_attn.q_proj.weight
        path = node.name.strip("/").split("/")[:-1]
        key = ".".join(path) + ".weight"
        state[key] = np.ascontiguousarray(inits[w].T)
    with open(os.path.join(MODEL_DIR, "config.json")) as f:
        cfg = json.load(f)
    want = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"}
    for i in range(cfg["num_hidden_layers"]):
        for p in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                  "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj", "input_layernorm", "post_attention_layernorm"):
            want.add(f"model.layers.{i}.{p}.weight")
    missing = want - set(state)
    extra = set(state) - want
    if missing or extra:
        sys.exit(f"model.onnx's weights do not map onto LlamaForCausalLM: missing {sorted(missing)}, extra {sorted(extra)}")
    os.makedirs(dst, exist_ok=True)
    save_file({k: v.astype(np.float32) for k, v in state.items()}, os.path.join(dst, "model.safetensors"))
    for f in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(MODEL_DIR, f), os.path.join(dst, f))
    return dst


def check_hf_folder(dst):
    """The HF folder's logits against the export's reference feed (torch's)."""
    import numpy as np
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(dst, torch_dtype=torch.float32)
    model.eval()
    td = os.path.join(MODEL_DIR, "testdata")
    ids = torch.from_numpy(np.load(os.path.join(td, "model.in.input_ids.npy")))
    mask = torch.from_numpy(np.load(os.path.join(td, "model.in.attention_mask.npy")))
    want = np.load(os.path.join(td, "model.out.logits.npy"))
    with torch.no_grad():
        got = model(input_ids=ids, attention_mask=mask).logits.numpy()
    # Compare only the positions the mask keeps (padding differs by design).
    keep = mask.numpy().astype(bool)
    diff = float(np.max(np.abs(got[keep] - want[keep])))
    print(f"hf folder: max |Δ logit| against the export's torch reference = {diff:.2e}")
    if diff > 1e-4:
        sys.exit("the Hugging Face folder does not reproduce the export's logits")
    return diff


# ----------------------------------------------------------- 2. task YAMLs

# doc_to_* read painterc's fields as they are. Partial evaluation (contexts +
# continuation) is lm-eval's multiple-input form: doc_to_text gives gold's
# index, doc_to_choice the contexts, doc_to_target the shared continuation.
UTILS_PY = '''\
def mc_text(doc):
    return doc["gold"] if "contexts" in doc else doc["context"]


def mc_choice(doc):
    return doc["contexts"] if "contexts" in doc else doc["choices"]


def mc_target(doc):
    return doc["continuation"] if "contexts" in doc else doc["gold"]


def ctx(doc):
    return doc["context"]


def target(doc):
    return doc["target"]


def text(doc):
    return doc["text"]


def answer(doc):
    return doc["answer"]


def rolling_results(doc, results):
    # lm-eval's own rolling process_results, except that a document's
    # page_words/page_bytes (the raw page's counts, as wikitext's) win.
    import re
    (ll,) = results
    words = doc.get("page_words")
    if words is None:
        words = len(re.split(r"\\s+", doc["text"]))
    nbytes = doc.get("page_bytes")
    if nbytes is None:
        nbytes = len(doc["text"].encode("utf-8"))
    return {"word_perplexity": (ll, words), "byte_perplexity": (ll, nbytes), "bits_per_byte": (ll, nbytes)}
'''


def read_task(path, limit):
    """A painterc task file: (header or {}, first `limit` documents)."""
    header, docs = {}, []
    with open(path, encoding="utf-8") as f:
        lines = [l for l in f.read().lstrip("\ufeff").splitlines() if l.strip()]
    first = json.loads(lines[0])
    if list(first) == ["task"]:
        header = first["task"]
        lines = lines[1:]
    for l in lines[:limit]:
        docs.append(json.loads(l))
    return header, docs


def kind_of(header, doc):
    if "kind" in header:
        return header["kind"]
    for k, fields in (("classification", ["text", "label"]), ("multiple_choice", ["context", "choices", "gold"]),
                      ("multiple_choice", ["contexts", "continuation", "gold"]), ("loglikelihood", ["context", "target"]),
                      ("generate", ["context", "answer"]), ("rolling", ["text"])):
        if all(x in doc for x in fields):
            return k
    sys.exit(f"cannot tell the kind of {doc}")


def task_yaml(name, kind, header, data):
    base = [
        f"task: {name}",
        "dataset_path: json",
        "dataset_kwargs:",
        "  data_files:",
        f"    test: {json.dumps(data)}",
        "test_split: test",
    ]
    if kind == "multiple_choice":
        base += [
            "output_type: multiple_choice",
            "doc_to_text: !function utils.mc_text",
            "doc_to_choice: !function utils.mc_choice",
            "doc_to_target: !function utils.mc_target",
            f"target_delimiter: {json.dumps(header.get('target_delimiter', ' '))}",
            "metric_list:",
            "  - metric: acc",
            "    aggregation: mean",
            "    higher_is_better: true",
            "  - metric: acc_norm",
            "    aggregation: mean",
            "    higher_is_better: true",
        ]
    elif kind == "loglikelihood":
        base += [
            "output_type: loglikelihood",
            "doc_to_text: !function utils.ctx",
            "doc_to_target: !function utils.target",
            'target_delimiter: ""',
            "metric_list:",
            "  - metric: perplexity",
            "    aggregation: perplexity",
            "    higher_is_better: false",
            "  - metric: acc",
            "    aggregation: mean",
            "    higher_is_better: true",
        ]
    elif kind == "rolling":
        base += [
            "output_type: loglikelihood_rolling",
            'doc_to_text: ""',
            "doc_to_target: !function utils.text",
            "process_results: !function utils.rolling_results",
            "metric_list:",
            "  - metric: word_perplexity",
            "  - metric: byte_perplexity",
            "  - metric: bits_per_byte",
        ]
    elif kind == "generate":
        until = header.get("until", ["Question:", "</s>", "<|im_end|>"])
        if isinstance(until, str):
            until = [until]
        strict = header.get("answer_regex", r"#### (\-?[0-9\.\,]+)")
        flexible = header.get("flexible_regex", r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
        ignore = header.get("regexes_to_ignore", [",", "\\$", "(?s).*#### ", "\\.$"])
        base += [
            "output_type: generate_until",
            "doc_to_text: !function utils.ctx",
            "doc_to_target: !function utils.answer",
            "generation_kwargs:",
            f"  until: {json.dumps(until)}",
            "  do_sample: false",
            "  temperature: 0.0",
            f"  max_gen_toks: {int(header.get('max_gen_toks', 256))}",
            "metric_list:",
            "  - metric: exact_match",
            "    aggregation: mean",
            "    higher_is_better: true",
            f"    ignore_case: {json.dumps(bool(header.get('ignore_case', True)))}",
            "    ignore_punctuation: false",
            f"    regexes_to_ignore: {json.dumps(ignore)}",
            "filter_list:",
            "  - name: strict-match",
            "    filter:",
            "      - function: regex",
            f"        regex_pattern: {json.dumps(strict)}",
            "      - function: take_first",
            "  - name: flexible-extract",
            "    filter:",
            "      - function: regex",
            "        group_select: -1",
            f"        regex_pattern: {json.dumps(flexible)}",
            "      - function: take_first",
        ]
    else:
        sys.exit(f"{name}: kind {kind} has no lm-eval counterpart here")
    base += ["metadata:", "  version: 1.0"]
    return "\n".join(base) + "\n"


def write_tasks(task_files, limit, dst, max_gen_toks=None):
    """One YAML + data file per task; returns [(name, kind, painterc task file)].
    max_gen_toks, when given, replaces a generate task's header value in
    both lm-eval's YAML and painterc's copy, so both stop at the same cap."""
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(os.path.join(dst, "data"))
    os.makedirs(os.path.join(dst, "painterc"))
    with open(os.path.join(dst, "utils.py"), "w") as f:
        f.write(UTILS_PY)
    out = []
    for path in task_files:
        header, docs = read_task(path, limit)
        name = header.get("name") or os.path.splitext(os.path.basename(path))[0]
        kind = kind_of(header, docs[0])
        if max_gen_toks and kind == "generate":
            header = dict(header, max_gen_toks=max_gen_toks)
        data = os.path.join(dst, "data", name + ".jsonl")
        with open(data, "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        # painterc scores the same documents: the header and the first `limit`.
        mine = os.path.join(dst, "painterc", name + ".jsonl")
        with open(mine, "w", encoding="utf-8") as f:
            if header:
                f.write(json.dumps({"task": header}, ensure_ascii=False) + "\n")
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        with open(os.path.join(dst, name + ".yaml"), "w") as f:
            f.write(task_yaml(name, kind, header, data))
        out.append((name, kind, mine))
    return out


# ------------------------------------------------------------- 3. lm-eval


# lm-eval backends the referee runs: name -> (what runs lm-eval, --model,
# --model_args given the Hugging Face folder and the backend's own path).
#   hf                 lm-eval's torch backend on the Hugging Face folder.
#   onnxruntime-genai  lm-eval's GenAI backend (lm_eval/models/onnxruntime_genai.py)
#                      on a Model Builder folder, forced onto CPU.
#   hf-ort-export      lmeval_ort_export.py: hf's tokenization and scoring, the
#                      forward pass by onnxruntime on an ONNX export (the export's
#                      own distance from torch, without painterc).
LMEVAL_BACKENDS = {
    "hf": (["-m", "lm_eval"], "hf", lambda hf, path: f"pretrained={hf},dtype=float32"),
    "onnxruntime-genai": (["-m", "lm_eval"], "onnxruntime-genai",
                          lambda hf, path: f"pretrained={path},execution_provider=cpu"),
    "hf-ort-export": ([os.path.join(ROOT, "scripts", "referee", "lmeval_ort_export.py")], "hf-ort-export",
                      lambda hf, path: f"pretrained={hf},export={path},dtype=float32"
                      + (f",threads={os.environ['OMP_NUM_THREADS']}" if os.environ.get("OMP_NUM_THREADS") else "")),
}


TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
                   "tokenizer.model", "added_tokens.json", "chat_template.jinja")


def genai_folder(src, hf, dst):
    """The Model Builder folder src with the Hugging Face folder's tokenizer
    files instead of its own, as links in dst. onnxruntime-genai 0.18.0's
    builder runs under transformers 5 (requirements-genai.txt), which saves
    SmolLM2's tokenizer with "tokenizer_class": "LlamaTokenizer" and a
    tokenizer.json whose pre-tokenizer is Metaspace instead of ByteLevel;
    lm-eval's genai backend tokenizes with AutoTokenizer on the folder
    (lm_eval/models/_onnx_base.py line 138, in _load_tokenizer) and so
    encodes "Question: Which statement best explains" into other ids than
    the model's own GPT-2-style tokenizer does (lm-eval then scores text the
    model never saw: ll -90.2 where torch and the graph itself give -23.5).
    export.py now copies the model's tokenizer files into the folder it
    builds; this keeps older folders right too.
    The graph and genai_config.json are the builder's, untouched."""
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    for f in os.listdir(src):
        if f not in TOKENIZER_FILES and not f.startswith("."):
            os.symlink(os.path.join(src, f), os.path.join(dst, f))
    for f in TOKENIZER_FILES:
        if os.path.exists(os.path.join(hf, f)):
            shutil.copy(os.path.join(hf, f), os.path.join(dst, f))
    return dst


def run_lmeval(hf, tasks_dir, names, limit, out, backend="hf", path=None):
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               HF_HOME=os.path.join(OUT, "hfhome"))
    # accelerate (and psutil) are imported by lm-eval's hf backend but not
    # in the pinned venv: make pyenv puts them in build/pydeps
    # (scripts/referee/requirements-lmeval.txt).
    pydeps = os.path.join(ROOT, "build", "pydeps")
    if os.path.isdir(pydeps):
        env["PYTHONPATH"] = pydeps + os.pathsep + env.get("PYTHONPATH", "")
    runner, model, model_args = LMEVAL_BACKENDS[backend]
    cmd = [sys.executable] + runner + ["run", "--model", model, "--model_args", model_args(hf, path),
           "--device", "cpu", "--batch_size", "1", "--include_path", tasks_dir, "--tasks", ",".join(names),
           "--limit", str(limit), "--log_samples", "--output_path", out]
    print("$", " ".join(cmd), flush=True)
    with open(out + ".log", "w") as log:
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    if done.returncode != 0:
        with open(out + ".log") as log:
            sys.exit(f"lm-eval --model {model} failed (exit {done.returncode}); its log, {out}.log, ends:\n"
                     + "".join(log.readlines()[-15:]))
    results = glob.glob(os.path.join(out, "*", "results_*.json"))
    if len(results) != 1:
        sys.exit(f"lm-eval wrote {results}, want one results file")
    samples = {}
    for f in glob.glob(os.path.join(out, "*", "samples_*.jsonl")):
        task = os.path.basename(f)[len("samples_"):].rsplit("_", 1)[0]
        with open(f, encoding="utf-8") as fh:
            samples[task] = [json.loads(l) for l in fh]
    with open(results[0], encoding="utf-8") as f:
        return json.load(f), samples, results[0]


# ------------------------------------------------------------- 4. painterc


def build_painterc():
    exe = os.path.join(OUT, "painterc")
    subprocess.run(["go", "build", "-o", exe, "./cmd/painterc"], cwd=ROOT, check=True)
    return exe


def run_painterc(exe, model, tokenizer, task_files, limit, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    results = os.path.join(out, "results.json")
    cmd = [exe, "score", model, "--tokenizer", tokenizer, "--limit", str(limit),
           "--output", results, "--lm-eval-samples", out]
    if os.environ.get("OMP_NUM_THREADS"):
        cmd += ["--threads", os.environ["OMP_NUM_THREADS"]]
    for f in task_files:
        cmd += ["--task", f]
    print("$", " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    samples = {}
    for f in glob.glob(os.path.join(out, "samples_*.jsonl")):
        task = os.path.basename(f)[len("samples_"):].rsplit("_", 1)[0]
        with open(f, encoding="utf-8") as fh:
            samples[task] = [json.loads(l) for l in fh]
    with open(results, encoding="utf-8") as f:
        return json.load(f), samples, results


def requests_of(kind, lines):
    """Per-document values from a samples file: lls/greedy per request, or a
    rolling document's ll, or a generation and its filtered answers."""
    docs = {}
    for s in lines:
        d = docs.setdefault(s["doc_id"], {})
        if kind in ("multiple_choice", "loglikelihood"):
            d["ll"] = [float(r[0]) for r in s["filtered_resps"]]
            d["greedy"] = [r[1] == "True" for r in s["filtered_resps"]]
        elif kind == "rolling":
            d["ll"] = [float(s["filtered_resps"][0])]
        elif kind == "generate":
            d["generation"] = s["resps"][0][0]
            d.setdefault("filtered", {})[s["filter"]] = s["filtered_resps"][0]
    return [docs[i] for i in sorted(docs)]


def compare(kind, want, got, want_res, got_res, windows=None, names=("lm-eval", "painterc")):
    """One referee row: requests compared, max |Δ ll|, metrics equal, near-ties.
    A rolling document's ll sums its windows, each a request of its own to
    the model: windows[i] of them, so its tolerance is that many times
    LL_TOL, and its row reports the largest |Δ ll| per window."""
    problems, ties = [], []
    worst, n, same_gen = 0.0, 0, 0
    if len(want) != len(got):
        problems.append(f"{len(want)} documents from {names[0]}, {len(got)} from {names[1]}")
    for i, (w, g) in enumerate(zip(want, got)):
        if "ll" in w:
            k = windows[i] if windows else 1
            for j, (a, b) in enumerate(zip(w["ll"], g["ll"])):
                n += k
                worst = max(worst, abs(a - b) / k)
                if abs(a - b) > LL_TOL * k:
                    problems.append(f"doc {i} request {j}: ll {a} vs {b} ({k} windows)")
            if w.get("greedy") != g.get("greedy"):
                problems.append(f"doc {i}: is_greedy {w.get('greedy')} vs {g.get('greedy')}")
            if kind == "multiple_choice":
                lls = sorted(w["ll"], reverse=True)
                if len(lls) > 1 and lls[0] - lls[1] <= TIE_TOL:
                    ties.append(i)
        else:
            n += 1
            if w["generation"] != g["generation"] or w["filtered"] != g["filtered"]:
                problems.append(f"doc {i}: generation {w['generation']!r} vs {g['generation']!r}")
            else:
                same_gen += 1
    equal = True
    for key, a in want_res.items():
        if "," not in key or "_stderr" in key:
            continue
        b = got_res.get(key)
        if b is None:
            problems.append(f"{names[1]} has no {key}")
            equal = False
            continue
        if "perplexity" in key or "bits_per_byte" in key:
            ok = abs(a - b) <= PPL_REL * abs(a)
        else:
            ok = a == b or (ties and abs(a - b) <= len(ties) / max(len(want), 1))
        if not ok:
            equal = False
            problems.append(f"{key}: {names[0]} {a}, {names[1]} {b}")
    row = {"requests": n, "max_dll": worst, "metrics_equal": equal, "near_ties": ties, "problems": problems}
    if kind == "generate":
        row["generations_identical"] = [same_gen, n]
        row["max_dll"] = None  # a generation has no log-likelihood to compare
    return row


# ------------------------------------------------------------- 5. make_table


def tables(lm_results_path, pc_results_path):
    from lm_eval.utils import make_table

    with open(lm_results_path, encoding="utf-8") as f:
        a = make_table(json.load(f))
    with open(pc_results_path, encoding="utf-8") as f:
        b = make_table(json.load(f))
    return a, b


# ------------------------------------------------------------------ main


def versions():
    import lm_eval
    import onnx
    import torch
    import transformers

    from importlib.metadata import version
    return {
        "lm_eval": version("lm_eval"), "torch": torch.__version__, "transformers": transformers.__version__,
        "onnx": onnx.__version__, "python": sys.version.split()[0],
    }


def rolling_windows(hf, text, _tok={}):
    """How many windows lm-eval cuts text into: its tokens with the default
    special tokens, the first window L of them, each later one up to L."""
    from transformers import AutoTokenizer

    if "tok" not in _tok:
        _tok["tok"] = AutoTokenizer.from_pretrained(hf)
        with open(os.path.join(hf, "config.json")) as f:
            _tok["L"] = json.load(f)["max_position_embeddings"]
    n = len(_tok["tok"](text)["input_ids"])
    return max(1, math.ceil(n / _tok["L"]))


def referee(hf, exe, suite, task_files, limit, strict_table=True, exports=None, lmevals=None, max_gen_toks=None):
    """Runs lm-eval and painterc on task_files, painterc once per export
    (backend name, model.onnx; painter-16's plain and kv exports unless
    given), lm-eval once per lmevals entry (name, LMEVAL_BACKENDS key,
    its path; `--model hf` on hf unless given). Every painterc export is
    held to every lm-eval run, and every later lm-eval run to the first
    (hf: torch against the other backends' engines). Returns the rows,
    whether anything differed, and what the fixture needs (the first
    lm-eval run's)."""
    if exports is None:
        exports = [("plain", os.path.join(MODEL_DIR, "model.onnx")),
                   ("kv", os.path.join(MODEL_DIR, "kv", "model.onnx"))]
    if lmevals is None:
        lmevals = [("hf", "hf", None)]
    tasks_dir = os.path.join(OUT, suite, "tasks")
    tasks = write_tasks(task_files, 10**9, tasks_dir, max_gen_toks)
    kinds = {name: kind for name, kind, _ in tasks}
    pc_files = [p for _, _, p in tasks]
    runs = []  # (label, results, samples, results path)
    for name, backend, path in lmevals:
        if backend == "onnxruntime-genai":
            path = genai_folder(path, hf, os.path.join(OUT, suite, "genai-model"))
        res, samples, rpath = run_lmeval(hf, tasks_dir, [n for n, _, _ in tasks], limit,
                                         os.path.join(OUT, suite, "lmeval-" + name), backend, path)
        runs.append((name, res, samples, rpath))
    rows, failed, pc_paths = [], False, {}

    def hold(ref, other, other_label, other_res, other_samples):
        nonlocal failed
        ref_name, ref_res, ref_samples, _ = ref
        for task in sorted(kinds):
            want = requests_of(kinds[task], ref_samples[task])
            got = requests_of(kinds[task], other_samples.get(task, []))
            windows = None
            if kinds[task] == "rolling":
                windows = [rolling_windows(hf, x["doc"]["text"]) for x in ref_samples[task]]
            row = compare(kinds[task], want, got, ref_res["results"][task], other_res["results"][task], windows,
                          ("lm-eval " + ref_name, other_label))
            row.update(task=task, lmeval=ref_name, against=other_label, kind=kinds[task])
            rows.append(row)
            failed = failed or bool(row["problems"])

    for backend, model in exports:
        pc_res, pc_samples, pc_path = run_painterc(exe, model, os.path.join(hf, "tokenizer.json"), pc_files, limit,
                                                   os.path.join(OUT, suite, "painterc-" + backend))
        pc_paths[backend] = pc_path
        for run in runs:
            hold(run, "painterc", "painterc " + backend, pc_res, pc_samples)
            if pc_res["task_hashes"] != run[1]["task_hashes"]:
                failed = True
                print(f"{backend}: task_hashes differ from lm-eval {run[0]}'s:\n  lm-eval  {run[1]['task_hashes']}\n"
                      f"  painterc {pc_res['task_hashes']}")
    for run in runs[1:]:
        hold(runs[0], "lm-eval", "lm-eval " + run[0], run[1], run[2])
    lm_path = runs[0][3]
    for backend, path in pc_paths.items():
        a, b = tables(lm_path, path)
        print(f"\n{suite}: lm_eval.utils.make_table renders painterc's results file ({backend} export) "
              f"{'exactly as' if a == b else 'DIFFERENTLY from'} lm-eval {runs[0][0]}'s:\n" + a)
        if a != b:
            # Identical numbers print identically; a perplexity of 1e22 that
            # agrees to 1e-8 does not, at four decimals, and perplexity's
            # stderr is a bootstrap (lm-eval 100000 resamples, painterc 1000).
            failed = failed or strict_table
            print("painterc's rendering:\n" + b)
    return rows, failed, (kinds, runs[0][1], runs[0][2])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=20, help="documents per task (lm-eval's --limit)")
    ap.add_argument("--write-fixture", action="store_true", help="write eval/testdata/lmeval/painter16/")
    ap.add_argument("--shared", metavar="FILE", nargs="*", default=[],
                    help="also compare on these task files (../shared/data/tasks: winogrande.jsonl for partial "
                    "evaluation, wikitext.jsonl for page counts, ...) with painter-16; its vocabulary makes the "
                    "numbers meaningless, the comparison is not. Not in the fixture.")
    ap.add_argument("--shared-limit", type=int, default=5, help="documents per --shared task")
    ap.add_argument("--hf", metavar="DIR", help="a real model instead of painter-16: its Hugging Face folder "
                    "(lm-eval --model hf runs on it; its tokenizer.json serves painterc), scored by painterc on each "
                    "--export, on the --shared task files with --shared-limit documents each")
    ap.add_argument("--export", metavar="NAME=MODEL.ONNX", action="append", default=[],
                    help="with --hf: an ONNX export of that model for painterc score (config.json beside it); repeat")
    ap.add_argument("--lmeval-genai", metavar="DIR", help="with --hf: also run lm-eval --model onnxruntime-genai "
                    "(execution_provider=cpu) on this Model Builder folder, held to painterc and to --model hf")
    ap.add_argument("--lmeval-ort-export", metavar="MODEL.ONNX", help="with --hf: also run lm-eval's hf backend with "
                    "onnxruntime's forward pass on this export (lmeval_ort_export.py), held to painterc and to --model "
                    "hf: it tells the export's own distance from torch from painterc's")
    ap.add_argument("--no-lmeval-hf", action="store_true", help="with --hf: skip --model hf (the first of "
                    "--lmeval-genai / --lmeval-ort-export becomes the reference)")
    ap.add_argument("--max-gen-toks", type=int, help="cap generate tasks at this many tokens, in lm-eval's YAML and "
                    "painterc's task file alike (default: the task header's)")
    ap.add_argument("--suite", default="real", help="with --hf: the folder under build/lmeval-referee/ (default real)")
    ap.add_argument("--model-label", help="with --hf: the model column of the table (default: the folder's name)")
    ap.add_argument("--rows-out", metavar="FILE", help="write the table's rows as JSON (lmeval_table.py --rows "
                    "prints several such files as one table)")
    args = ap.parse_args()

    if args.hf:
        if not args.export or not args.shared:
            sys.exit("--hf needs at least one --export NAME=MODEL.ONNX and the task files as --shared FILE...")
        exports = [tuple(e.split("=", 1)) for e in args.export]
        exports = [(n, os.path.abspath(p)) for n, p in exports]
        lmevals = [] if args.no_lmeval_hf else [("hf", "hf", None)]
        if args.lmeval_genai:
            lmevals.append(("onnxruntime-genai", "onnxruntime-genai", os.path.abspath(args.lmeval_genai)))
        if args.lmeval_ort_export:
            path = os.path.abspath(args.lmeval_ort_export)
            lmevals.append(("hf-ort-export:" + os.path.basename(os.path.dirname(path)), "hf-ort-export", path))
        if not lmevals:
            sys.exit("--no-lmeval-hf leaves no lm-eval run: add --lmeval-genai or --lmeval-ort-export")
        hf = os.path.abspath(args.hf)
        rows, failed, _ = referee(hf, build_painterc(), args.suite,
                                  [os.path.abspath(f) for f in args.shared], args.shared_limit,
                                  strict_table=False, exports=exports, lmevals=lmevals, max_gen_toks=args.max_gen_toks)
        label = args.model_label or os.path.basename(hf.rstrip("/"))
        for r in rows:
            r.update(model=label, docs=args.shared_limit)
        print_rows(rows)
        if args.rows_out:
            with open(args.rows_out, "w", encoding="utf-8") as f:
                json.dump(rows, f, indent=1)
        if failed:
            sys.exit("the referee found differences (listed above)")
        return

    hf = hf_folder(os.path.join(OUT, "hf"))
    check_hf_folder(hf)
    exe = build_painterc()
    own_files = sorted(glob.glob(os.path.join(MODEL_DIR, "tasks", "*.jsonl")))
    rows, failed, fixture = referee(hf, exe, "painter16", own_files, args.limit)
    if args.shared:
        more, bad, _ = referee(hf, exe, "shared", [os.path.abspath(f) for f in args.shared], args.shared_limit,
                               strict_table=False)
        rows, failed = rows + more, failed or bad

    print_rows(rows)
    if args.write_fixture:
        write_fixture(args.limit, *fixture)
    if failed:
        sys.exit("the referee found differences (listed above)")


def print_rows(rows, max_problems=5):
    """The referee table: per task, lm-eval backend and what is held to it
    (a painterc export, or another lm-eval backend). "over 1e-4" counts the
    requests whose |Δ ll| passes LL_TOL; under each row its first
    max_problems differences, then how many more."""
    print("\n(rolling: requests counts windows, and |d ll| is per window; generate: requests counts documents)")
    print("| model | task | kind | lm-eval | against | docs | requests | max abs d ll | over 1e-4 | metrics equal "
          "| near-ties | generations identical |")
    print("|---|---|---|---|---|---:|---:|---:|---:|---|---|---|")
    for r in rows:
        dll = "—" if r["max_dll"] is None else f"{r['max_dll']:.2e}"
        over = "—" if r["max_dll"] is None else str(sum(1 for p in r["problems"] if ": ll " in p))
        gen = r.get("generations_identical")
        gen = f"{gen[0]}/{gen[1]}" if gen else "—"
        print(f"| {r.get('model', '')} | {r['task']} | {r['kind']} | {r.get('lmeval', 'hf')} | "
              f"{r.get('against', r.get('backend'))} | {r.get('docs', '')} | {r['requests']} | {dll} | {over} | "
              f"{'yes' if r['metrics_equal'] else 'NO'} | {', '.join(map(str, r['near_ties'])) or 'none'} | {gen} |")
        for p in r["problems"][:max_problems]:
            print("    !", p)
        if len(r["problems"]) > max_problems:
            print(f"    ! ... and {len(r['problems']) - max_problems} more")


def write_fixture(limit, kinds, lm_res, lm_samples):
    """lm-eval's values for the Go test: per task its kind, its requests'
    values and its aggregates, with the versions that produced them."""
    os.makedirs(FIXTURE, exist_ok=True)
    tasks = {}
    for name in sorted(kinds):
        aggs = {k: v for k, v in lm_res["results"][name].items() if "," in k}
        tasks[name] = {"kind": kinds[name], "docs": requests_of(kinds[name], lm_samples[name]), "results": aggs,
                       "n-samples": lm_res["n-samples"][name], "task_hash": lm_res["task_hashes"][name]}
    manifest = {
        "written_by": "scripts/referee/lmeval_referee.py --write-fixture",
        "model": "models/painter-16 as a Hugging Face folder (weights from model.onnx)",
        "lm_eval_command": f"lm_eval run --model hf --model_args pretrained=HF,dtype=float32 --device cpu --batch_size 1 --limit {limit} --log_samples",
        "limit": limit,
        "versions": versions(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "tolerances": {"ll_abs": LL_TOL, "near_tie": TIE_TOL, "perplexity_rel": PPL_REL},
    }
    with open(os.path.join(FIXTURE, "lmeval.json"), "w", encoding="utf-8") as f:
        json.dump({"manifest": manifest, "tasks": tasks}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", os.path.relpath(os.path.join(FIXTURE, "lmeval.json"), ROOT))


if __name__ == "__main__":
    main()
