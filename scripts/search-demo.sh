#!/usr/bin/env bash
# make search-demo: painterc search on SmolLM2-135M at 75% and 60% of its
# block compute, against ShortGPT, angular distance, SLEB and a seeded
# random choice; search.md and its figure land in $OUT, the figure also in
# docs/figures/. The choosing tasks (COPA, LAMBADA) and the reporting
# tasks (ARC-Easy, HellaSwag, PIQA, English arithmetic) are disjoint.
# Resumes after a kill: rerun it.
set -euo pipefail
cd "$(dirname "$0")/.."

model=${MODEL:-build/real/smollm2-135m-instruct-torchscript-kv/model.onnx}
data=${DATA:-../shared/data/tasks}
out=${OUT:-build/search-demo}
figures=${FIGURES:-docs/figures}
choose=${CHOOSE:-"copa=60 lambada_openai=60"}
report=${REPORT:-"arc_easy=80 hellaswag=60 piqa=60 english_arith_mc=80"}
beam=${BEAM:-2}
if [ "${QUICK:-}" = 1 ]; then
  choose=${CHOOSE:-"copa=4 lambada_openai=4"}
  report=${REPORT:-"arc_easy=4 hellaswag=4 piqa=4 english_arith_mc=4"}
  beam=${BEAM:-1}
  out=${OUT:-build/search-demo-quick}
fi

dir=$(dirname "$model")
for f in "$model" "$dir/config.json" "$dir/tokenizer.json"; do
  if [ ! -f "$f" ]; then
    echo "search-demo: $f is missing: make real-models writes the export and its config.json and tokenizer.json; or set MODEL=path/model.onnx (with both beside it)" >&2
    exit 2
  fi
done
if [ ! -f "$data/wikitext.jsonl" ]; then
  echo "search-demo: no task files in $data (want copa, lambada_openai, arc_easy, hellaswag, piqa and wikitext .jsonl): set DATA=dir" >&2
  exit 2
fi

start=$(date +%s)
mkdir -p "$out/tasks" "$figures"
go build -o bin/painterc ./cmd/painterc
go build -o bin/paintercorpus ./cmd/paintercorpus
bin/paintercorpus --seed 1 --english-arith-mc "$out/tasks/english_arith_mc.jsonl.all" --task-items 400

# take NAME K: the task file's header and first K documents, rewritten only
# when it changes (so a rerun keeps the sweeps' keys).
take() {
  local name=$1 k=$2 src=$data/$1.jsonl
  [ "$name" = english_arith_mc ] && src=$out/tasks/english_arith_mc.jsonl.all
  head -n $((k + 1)) "$src" > "$out/tasks/$name.jsonl.new"
  if cmp -s "$out/tasks/$name.jsonl.new" "$out/tasks/$name.jsonl"; then
    rm "$out/tasks/$name.jsonl.new"
  else
    mv "$out/tasks/$name.jsonl.new" "$out/tasks/$name.jsonl"
  fi
}
args=()
for kv in $choose; do
  take "${kv%%=*}" "${kv#*=}"
  args+=(--choose-task "$out/tasks/${kv%%=*}.jsonl")
  echo "search-demo: choosing on ${kv%%=*}: ${kv#*=} documents"
done
for kv in $report; do
  take "${kv%%=*}" "${kv#*=}"
  args+=(--task "$out/tasks/${kv%%=*}.jsonl")
  echo "search-demo: reporting on ${kv%%=*}: ${kv#*=} documents"
done

bin/painterc search "$model" --budget 0.75 --budget 0.6 --calib "$data/wikitext.jsonl" \
  --calib-windows "${WINDOWS:-4}" --calib-length "${LENGTH:-128}" --beam "$beam" \
  --finalists "${FINALISTS:-2}" --polish "${POLISH:-1}" \
  --hf-name HuggingFaceTB/SmolLM2-135M-Instruct --threads 2 "${args[@]}" --out "$out"

if [ "${QUICK:-}" != 1 ]; then
  cp "$out/search-pareto.png" "$figures/search-smollm2-pareto.png"
  cp "$out/search-pareto.svg" "$figures/search-smollm2-pareto.svg"
fi
echo "search-demo: done in $(( $(date +%s) - start )) s; $out/search.md"
