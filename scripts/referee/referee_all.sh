#!/usr/bin/env bash
# The whole lm-eval referee on the real models, printed as one table:
#
#   scripts/referee/referee_all.sh
#
#   SmolLM2-135M  lm-eval --model hf and --model onnxruntime-genai (the fp32
#                 Model Builder export) against `painterc score` on the
#                 TorchScript KV export and on the Model Builder export
#                 (GroupQueryAttention; kv_cache_dim from genai_config.json),
#                 ARC-Easy, HellaSwag, PIQA, LAMBADA:
#                 DOCS_SMOL documents each (default 40). Also hf-ort-export
#                 (below) on the Model Builder graph, run by plain onnxruntime:
#                 whether a gap between genai and torch is the graph's or
#                 onnxruntime-genai's runtime's.
#   Gemma 3 270M  lm-eval --model hf, and hf-ort-export (lm-eval's hf backend
#                 with onnxruntime's forward pass on the export:
#                 lmeval_ort_export.py), against painterc on the TorchScript
#                 KV export, the same tasks: DOCS_GEMMA documents (default 20).
#                 The hf-ort-export rows show which share of a gap between
#                 torch and painterc is the export's own.
#   GSM8K         generate_until with greedy decoding, lm-eval --model hf and
#                 --model onnxruntime-genai on SmolLM2 against painterc on its
#                 KV export, every generation
#                 compared token for token (as text and as the two filters'
#                 answers): DOCS_GSM8K documents (default 10), MAX_GEN_TOKS
#                 (default: the task file's 256) for both.
#
# Environment: REAL (default build/real), MODELS (default build/models),
# TASKS (default ../shared/data/tasks beside the checkout, else
# /work/shared/data/tasks), THREADS (default 2), PY (default build/venv/bin/python).
# Everything goes under build/lmeval-referee/ and build/referee-out/
# (table.md: the table; *.log: each run's output). It exits 1 when a row
# has differences (they are listed under it in the table).
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
REAL=${REAL:-build/real}
MODELS=${MODELS:-build/models}
TASKS=${TASKS:-$( [ -d ../shared/data/tasks ] && echo ../shared/data/tasks || echo /work/shared/data/tasks )}
PY=${PY:-build/venv/bin/python}
export OMP_NUM_THREADS=${THREADS:-2}
OUTDIR=build/referee-out
mkdir -p "$OUTDIR"
R=scripts/referee/lmeval_referee.py
LL_TASKS=("$TASKS"/arc_easy.jsonl "$TASKS"/hellaswag.jsonl "$TASKS"/piqa.jsonl "$TASKS"/lambada_openai.jsonl)
status=0
rows=()

run() { # name, referee flags...: one referee run, its rows into $OUTDIR/name.json
	local name=$1; shift
	echo "== $name: $PY $R $*" | tee "$OUTDIR/$name.log"
	"$PY" "$R" "$@" --suite "$name" --rows-out "$OUTDIR/$name.json" >>"$OUTDIR/$name.log" 2>&1 || status=1
	if [ -f "$OUTDIR/$name.json" ]; then rows+=("$OUTDIR/$name.json"); else tail -20 "$OUTDIR/$name.log"; fi
}

rm -f "$OUTDIR"/*.json
run smollm2 --hf "$MODELS/smollm2-135m-instruct" --model-label SmolLM2-135M \
	--export kv="$REAL/smollm2-135m-instruct-torchscript-kv/model.onnx" \
	--export genai="$REAL/smollm2-135m-instruct-genai/model.onnx" \
	--lmeval-genai "$REAL/smollm2-135m-instruct-genai" \
	--lmeval-ort-export "$REAL/smollm2-135m-instruct-genai/model.onnx" \
	--shared "${LL_TASKS[@]}" --shared-limit "${DOCS_SMOL:-40}"
run gemma3 --hf "$MODELS/gemma3-270m" --model-label "Gemma 3 270M" \
	--export kv="$REAL/gemma3-270m-torchscript-kv/model.onnx" \
	--lmeval-ort-export "$REAL/gemma3-270m-torchscript-kv/model.onnx" \
	--shared "${LL_TASKS[@]}" --shared-limit "${DOCS_GEMMA:-20}"
run gsm8k --hf "$MODELS/smollm2-135m-instruct" --model-label SmolLM2-135M \
	--export kv="$REAL/smollm2-135m-instruct-torchscript-kv/model.onnx" \
	--lmeval-genai "$REAL/smollm2-135m-instruct-genai" \
	${MAX_GEN_TOKS:+--max-gen-toks "$MAX_GEN_TOKS"} \
	--shared "$TASKS/gsm8k.jsonl" --shared-limit "${DOCS_GSM8K:-10}"

"$PY" scripts/referee/lmeval_table.py --rows "${rows[@]}" | tee "$OUTDIR/table.md"
exit $status
