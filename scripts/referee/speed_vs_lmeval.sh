#!/usr/bin/env bash
# Times `painterc score` against lm-evaluation-harness's hf backend on the
# same documents, with the same thread count, in one run.
#
#   scripts/referee/speed_vs_lmeval.sh HF_DIR KV_EXPORT.onnx [PLAIN_EXPORT.onnx] -- TASK.jsonl...
#
# Environment: DOCS (documents per task, default 200), THREADS (default 2),
# GENAI (an onnxruntime-genai Model Builder folder of the same model: also
# time lm-eval --model onnxruntime-genai and painterc on that export),
# PY (the referee venv's python, default /work/main/build/venv/bin/python),
# PYDEPS (a --target folder with accelerate and psutil, which lm-eval's hf
# backend imports and the pinned venv lacks; default build/pydeps).
#
# Each task file is cut to its first DOCS documents, and lm-eval gets a local
# task config over exactly those documents (scripts/referee/lmeval_referee.py
# writes both), so the two score the same requests. Every contender runs under
# /usr/bin/time -v (wall time, peak RSS) with OMP_NUM_THREADS=THREADS (torch's
# intra-op pool) and painterc's --threads THREADS:
#
#   painterc kv     the KV export: one prefill per shared context (a
#                   multiple-choice document's choices share it), then each
#                   continuation from a copy of the cache. painterc takes this
#                   path whenever the model it is given has KV cache I/O.
#   painterc plain  the export without a cache: every request a full forward.
#   lm-eval hf      lm_eval run --model hf, float32, cpu, batch size 1 (its
#                   default), one forward per request.
#   painterc genai  (GENAI) the builder's export: GroupQueryAttention takes
#                   a past only at batch 1, so a shared context is
#                   prefilled once and its choices run one at a time where
#                   that saves a third of the tokens; the rest get a full
#                   forward per request, as on the plain export.
#   lm-eval genai   (GENAI) lm_eval run --model onnxruntime-genai on the
#                   builder's folder (with the model's tokenizer files,
#                   lmeval_referee.genai_folder), execution_provider=cpu.
#
# The ratios are to the faster of the lm-eval runs.
#
# It prints a table of wall time and peak RSS with ratios to lm-eval, and the
# aggregates of every run, which must agree (lmeval_referee.py --hf holds the
# per-request values to 1e-4). Everything goes under build/speed-vs-lmeval/.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DOCS=${DOCS:-200}
THREADS=${THREADS:-2}
PY=${PY:-/work/main/build/venv/bin/python}
PYDEPS=${PYDEPS:-$ROOT/build/pydeps}
OUT=$ROOT/build/speed-vs-lmeval

usage() { echo "usage: $0 HF_DIR KV_EXPORT.onnx [PLAIN_EXPORT.onnx] -- TASK.jsonl..." >&2; exit 2; }
[ $# -ge 4 ] || usage
HF=$(cd "$1" && pwd); KV=$(realpath -s "$2"); shift 2
PLAIN=
if [ "$1" != "--" ]; then PLAIN=$(realpath -s "$1"); shift; fi
[ "${1:-}" = "--" ] || usage
shift
TASKS=()
for t in "$@"; do TASKS+=("$(realpath "$t")"); done
[ -x /usr/bin/time ] || { echo "$0: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }

# SUMMARY_ONLY=1 prints the tables again from the last run's files.
if [ -z "${SUMMARY_ONLY:-}" ]; then
rm -rf "$OUT"
mkdir -p "$OUT"
(cd "$ROOT" && go build -o "$OUT/painterc" ./cmd/painterc)

# The same first DOCS documents of each task, for both.
(cd "$ROOT" && "$PY" -c '
import sys
sys.path.insert(0, "scripts/referee")
import lmeval_referee as r
tasks = r.write_tasks(sys.argv[3:], int(sys.argv[2]), sys.argv[1])
print(",".join(n for n, _, _ in tasks))
print(" ".join(p for _, _, p in tasks))
print(",".join(k for _, k, _ in tasks))
' "$OUT/tasks" "$DOCS" "${TASKS[@]}") >"$OUT/tasklist"
NAMES=$(sed -n 1p "$OUT/tasklist")
read -r -a PCTASKS <<<"$(sed -n 2p "$OUT/tasklist")"
TASKARGS=()
for t in "${PCTASKS[@]}"; do TASKARGS+=(--task "$t"); done

export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_HOME=$OUT/hfhome

timed() { # name, command...: runs it under /usr/bin/time -v into $OUT/name.time
	local name=$1; shift
	echo "\$ $*" | tee "$OUT/$name.cmd"
	/usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.log" 2>&1 ||
		{ echo "$name failed; see $OUT/$name.log" >&2; tail -20 "$OUT/$name.log" >&2; exit 1; }
}

timed painterc-kv "$OUT/painterc" score "$KV" --tokenizer "$HF/tokenizer.json" --threads "$THREADS" \
	"${TASKARGS[@]}" --output "$OUT/painterc-kv.json" --lm-eval-samples "$OUT/painterc-kv.samples"
if [ -n "$PLAIN" ]; then
	timed painterc-plain "$OUT/painterc" score "$PLAIN" --tokenizer "$HF/tokenizer.json" --threads "$THREADS" \
		"${TASKARGS[@]}" --output "$OUT/painterc-plain.json" --lm-eval-samples "$OUT/painterc-plain.samples"
fi
PYTHONPATH=$PYDEPS${PYTHONPATH:+:$PYTHONPATH} timed lmeval-hf "$PY" -m lm_eval run --model hf \
	--model_args "pretrained=$HF,dtype=float32" --device cpu --batch_size 1 \
	--include_path "$OUT/tasks" --tasks "$NAMES" --log_samples --output_path "$OUT/lmeval-hf"
if [ -n "${GENAI:-}" ]; then
	GENAI=$(cd "$GENAI" && pwd)
	timed painterc-genai "$OUT/painterc" score "$GENAI/model.onnx" --tokenizer "$HF/tokenizer.json" --threads "$THREADS" \
		"${TASKARGS[@]}" --output "$OUT/painterc-genai.json" --lm-eval-samples "$OUT/painterc-genai.samples"
	"$PY" -c 'import sys; sys.path.insert(0, "'"$ROOT"'/scripts/referee"); import lmeval_referee as r; r.genai_folder(*sys.argv[1:])' \
		"$GENAI" "$HF" "$OUT/genai-model"
	PYTHONPATH=$PYDEPS${PYTHONPATH:+:$PYTHONPATH} timed lmeval-genai "$PY" -m lm_eval run --model onnxruntime-genai \
		--model_args "pretrained=$OUT/genai-model,execution_provider=cpu" --device cpu --batch_size 1 \
		--include_path "$OUT/tasks" --tasks "$NAMES" --log_samples --output_path "$OUT/lmeval-genai"
fi
uptime >"$OUT/load"
fi

cd "$ROOT"
"$PY" - "$OUT" "$DOCS" "$THREADS" "$(nproc)" "$(cat "$OUT/load")" <<'EOF'
import glob, json, os, re, sys
sys.path.insert(0, "scripts/referee")
import lmeval_referee as referee
out, docs, threads, cores, load = sys.argv[1:6]

def measured(name):
    t = open(os.path.join(out, name + ".time")).read()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
    cpu = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", t).group(1)) for k in ("User", "System"))
    return secs, rss, cpu

runs = [("painterc-kv", "painterc score, KV export", "shared-context prefill"),
        ("painterc-plain", "painterc score, plain export", "full forward per request"),
        ("painterc-genai", "painterc score, genai export", "GroupQueryAttention: shared prefill at batch 1 where it pays, else full forward"),
        ("lmeval-hf", "lm-eval 0.4.13 --model hf", "torch eager, batch 1, full forward per request"),
        ("lmeval-genai", "lm-eval 0.4.13 --model onnxruntime-genai", "ORT GenAI, one forward per request")]
runs = [r for r in runs if os.path.exists(os.path.join(out, r[0] + ".time"))]
lmevals = [r[0] for r in runs if r[0].startswith("lmeval-")]
fastest = min(lmevals, key=lambda n: measured(n)[0])
base = measured(fastest)
print(f"\n{docs} documents per task, {threads} threads, {cores} cores; after the runs: {load.strip()}")
print(f"ratios are to the faster lm-eval run, {fastest}")
print("| run | path | wall s | CPU s | peak RSS MiB | lm-eval wall / this | lm-eval CPU / this | this RSS / lm-eval |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for name, what, path in runs:
    s, r, c = measured(name)
    print(f"| {what} | {path} | {s:.1f} | {c:.1f} | {r:.0f} | {base[0] / s:.2f}x | {base[2] / c:.2f}x | {r / base[1]:.2f} |")

def results(path):
    with open(path) as f:
        return json.load(f)["results"]

lm = results(glob.glob(os.path.join(out, "lmeval-hf", "*", "results_*.json"))[0])
print("\naggregates (lm-eval, then each painterc run):")
painterc_runs = [r for r in runs if r[0].startswith("painterc-")]
for name, _, _ in painterc_runs:
    pc = results(os.path.join(out, name + ".json"))
    for task in sorted(lm):
        for k, v in sorted(lm[task].items()):
            if "," in k and "_stderr" not in k and isinstance(v, float):
                w = pc.get(task, {}).get(k)
                same = w is not None and (v == w or abs(v - w) <= 1e-5 * abs(v))
                print(f"  {name:15s} {task:15s} {k:22s} {v:.6f} {w if w is None else f'{w:.6f}'} {'same' if same else 'DIFFERS'}")

# The referee table: every request of each painterc run against lm-eval's.
def samples(folder):
    got = {}
    for f in glob.glob(os.path.join(folder, "samples_*.jsonl")):
        task = os.path.basename(f)[len("samples_"):].rsplit("_", 1)[0]
        with open(f, encoding="utf-8") as fh:
            got[task] = [json.loads(l) for l in fh]
    return got

names, _, kinds = open(os.path.join(out, "tasklist")).read().splitlines()
kinds = dict(zip(names.split(","), kinds.split(",")))
lm_samples = samples(glob.glob(os.path.join(out, "lmeval-hf", "*"))[0])
rows, failed = [], False
for name, _, _ in painterc_runs:
    pc_samples = samples(os.path.join(out, name + ".samples"))
    pc = results(os.path.join(out, name + ".json"))
    for task in sorted(kinds):
        row = referee.compare(kinds[task], referee.requests_of(kinds[task], lm_samples[task]),
                              referee.requests_of(kinds[task], pc_samples.get(task, [])), lm[task], pc[task])
        row.update(task=task, backend=name, kind=kinds[task])
        rows.append(row)
        failed = failed or bool(row["problems"])
referee.print_rows(rows)
sys.exit(1 if failed else 0)
EOF
