#!/usr/bin/env python3
"""Referee for `painterc tasks import`: the pinned lm-eval forms the requests.

For each (benchmark, dataset file, painterc task file) it loads lm-eval's own
task YAML for the benchmark (its templates and !function utils), points it at
the dataset file (the `datasets` json builder, offline), and asks lm-eval for
every document's requests (fewshot_context at 0 shots, then
construct_requests) and gold. It then forms the requests painterc forms from
the task file (docs/tasks.md: (context, " " + choice), (contexts[i],
" " + continuation), (context, target), the rolling text, the generation
context with its stop strings) and compares them exactly, with the gold and
WikiText's word and byte counts.

    /work/main/build/venv/bin/python scripts/check_importers.py \\
        arc_easy eval/importers/testdata/arc_easy/input.jsonl eval/importers/testdata/arc_easy/want.jsonl [...]

(triples may repeat). Exit status 0 when every request agrees. Needs the
venv's lm-eval; `make test` does not run this, it runs the Go tests whose
want.jsonl files this checked.
"""
import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import lm_eval  # noqa: E402
from lm_eval.api.task import ConfigurableTask  # noqa: E402
from lm_eval.tasks._yaml_loader import load_yaml  # noqa: E402

TASKS = Path(lm_eval.__file__).parent / "tasks"
YAML = {
    "arc_easy": "arc/arc_easy.yaml",
    "arc_challenge": "arc/arc_challenge.yaml",
    "hellaswag": "hellaswag/hellaswag.yaml",
    "piqa": "piqa/piqa.yaml",
    "winogrande": "winogrande/default.yaml",
    "lambada_openai": "lambada/lambada_openai.yaml",
    "wikitext": "wikitext/wikitext.yaml",
    "gsm8k": "gsm8k/gsm8k.yaml",
    "copa": "super_glue/copa/default.yaml",
}


def lmeval_task(bench, data):
    cfg = load_yaml(TASKS / YAML[bench])
    for k in ("tag", "group"):
        cfg.pop(k, None)
    split = cfg.get("test_split") or cfg.get("validation_split")
    cfg["test_split"], cfg["validation_split"] = split, None
    cfg["training_split"], cfg["fewshot_split"] = None, None
    cfg["num_fewshot"] = 0
    cfg["dataset_path"], cfg["dataset_name"] = "json", None
    cfg["dataset_kwargs"] = {"data_files": {split: str(Path(data).resolve())}}
    return ConfigurableTask(config=cfg)


def painterc_requests(header, doc):
    kind = header["kind"]
    delim = header.get("target_delimiter", " ")
    if kind == "multiple_choice":
        if "contexts" in doc:
            return [(c, delim + doc["continuation"]) for c in doc["contexts"]], doc["gold"]
        return [(doc["context"], delim + c) for c in doc["choices"]], doc["gold"]
    if kind == "loglikelihood":
        return [(doc["context"], doc["target"])], None
    if kind == "rolling":
        return [(doc["text"],)], None
    if kind == "generate":
        return [(doc["context"], {"until": header["until"]})], doc["answer"]
    raise ValueError(kind)


def check(bench, data, taskfile):
    t = lmeval_task(bench, data)
    lines = [json.loads(l) for l in open(taskfile, encoding="utf-8") if l.strip()]
    header, docs = lines[0]["task"], lines[1:]
    want_docs = list(t.test_docs())
    bad = 0
    if len(want_docs) != len(docs):
        print(f"{bench}: lm-eval has {len(want_docs)} documents, {taskfile} {len(docs)}")
        return 1
    for i, (ld, pd) in enumerate(zip(want_docs, docs)):
        ctx = t.fewshot_context(ld, 0)
        got = [r.args for r in t.construct_requests(ld, ctx, metadata=(bench, i, 1))] \
            if t.OUTPUT_TYPE == "multiple_choice" else [t.construct_requests(ld, ctx, metadata=(bench, i, 1)).args]
        mine, gold = painterc_requests(header, pd)
        if t.OUTPUT_TYPE == "generate_until":
            got = [(a[0], {"until": a[1]["until"]}) for a in got]
            want_gold = t.doc_to_target(ld)
        elif t.OUTPUT_TYPE == "multiple_choice":
            want_gold = t.doc_to_text(ld) if t.multiple_input else t.doc_to_target(ld)
            if isinstance(want_gold, str):
                want_gold = t.doc_to_choice(ld).index(want_gold) if not want_gold.isdigit() else int(want_gold)
        else:
            want_gold = None
        if [tuple(a) for a in got] != [tuple(a) for a in mine] or want_gold != gold:
            bad += 1
            print(f"{bench} doc {i}: lm-eval {got!r} gold {want_gold!r}\n   painterc {mine!r} gold {gold!r}")
        if bench == "wikitext":
            page = ld["page"]
            words, nbytes = len(re.split(r"\s+", page)), len(page.encode("utf-8"))
            if (words, nbytes) != (pd["page_words"], pd["page_bytes"]):
                bad += 1
                print(f"{bench} doc {i}: lm-eval words/bytes {words}/{nbytes}, painterc {pd['page_words']}/{pd['page_bytes']}")
    print(f"{bench}: {len(docs)} documents, {sum(len(painterc_requests(header, d)[0]) for d in docs)} requests, {bad} differ (lm-eval {lm_eval.__version__ if hasattr(lm_eval, '__version__') else '?'})")
    return bad


def main(argv):
    if len(argv) % 3 != 0 or not argv:
        sys.exit(__doc__)
    bad = 0
    for i in range(0, len(argv), 3):
        bad += check(*argv[i:i + 3])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
