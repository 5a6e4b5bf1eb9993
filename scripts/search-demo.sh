#!/usr/bin/env bash
# make search-demo: painterc search on SmolLM2-135M at 75% and 60% of its
# block compute, against ShortGPT, angular distance, SLEB and a seeded
# random choice; search.md and its figure land in $OUT, the figure also in
# docs/figures/. The search chooses on a dev split (ARC-Easy, HellaSwag and
# PIQA documents from 1000 on, English arithmetic items from 400 on, as
# tasks named *_dev) and reports on the first documents of the same tasks,
# so no document that chooses also reports. HellaSwag is scored by
# acc_norm (METRICS), as its leaderboards and SmolLM2's own card report
# it: a 135M model's plain acc there is a few points above chance, too
# little margin for a normalized score to mean much.
# Resumes after a kill: rerun it.
set -euo pipefail
cd "$(dirname "$0")/.."

model=${MODEL:-build/real/smollm2-135m-instruct-torchscript-kv/model.onnx}
data=${DATA:-../shared/data/tasks}
out=${OUT:-build/search-demo}
figures=${FIGURES:-docs/figures}
choose=${CHOOSE:-"arc_easy@1000=400 hellaswag@1000=400 piqa@1000=400 english_arith_mc@400=400"}
report=${REPORT:-"arc_easy=400 hellaswag=400 piqa=400 english_arith_mc=400"}
metrics=${METRICS:-"hellaswag=acc_norm"} # NAME=METRIC: the main metric of NAME's task files
beam=${BEAM:-2}
if [ "${QUICK:-}" = 1 ]; then
  choose=${CHOOSE:-"arc_easy@1000=4 piqa@1000=4"}
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
  echo "search-demo: no task files in $data (want arc_easy, hellaswag, piqa and wikitext .jsonl): set DATA=dir" >&2
  exit 2
fi

start=$(date +%s)
mkdir -p "$out/tasks" "$figures"
go build -o bin/painterc ./cmd/painterc
go build -o bin/paintercorpus ./cmd/paintercorpus
bin/paintercorpus --seed 1 --english-arith-mc "$out/tasks/english_arith_mc.jsonl.all" --task-items 800

# take NAME K [FROM]: the task file's header (with NAME's metric from
# METRICS) and K documents from document FROM on (default 0); with FROM, a
# dev split named NAME_dev. Rewritten only when it changes (so a rerun
# keeps the sweeps' keys). Prints the file's path.
take() {
  local name=$1 k=$2 from=${3:-} src=$data/$1.jsonl dst=$out/tasks/$1.jsonl
  [ "$name" = english_arith_mc ] && src=$out/tasks/english_arith_mc.jsonl.all
  local metric="" kv
  for kv in $metrics; do
    if [ "${kv%%=*}" = "$name" ]; then metric=", \"metric\": \"${kv#*=}\""; fi
  done
  local newname=$name
  if [ -n "$from" ]; then
    dst=$out/tasks/${name}_dev.jsonl
    newname=${name}_dev
  fi
  { head -n 1 "$src" | sed "s/\"name\": *\"$name\"/\"name\": \"$newname\"$metric/"
    tail -n +$((${from:-0} + 2)) "$src" | head -n "$k"; } > "$dst.new"
  if cmp -s "$dst.new" "$dst"; then
    rm "$dst.new"
  else
    mv "$dst.new" "$dst"
  fi
  echo "$dst"
}
args=()
for kv in $choose; do # NAME@FROM=K
  spec=${kv%%=*}
  args+=(--choose-task "$(take "${spec%%@*}" "${kv#*=}" "${spec#*@}")")
  echo "search-demo: choosing on ${spec%%@*}: ${kv#*=} documents from document ${spec#*@} on"
done
for kv in $report; do # NAME=K
  args+=(--task "$(take "${kv%%=*}" "${kv#*=}")")
  echo "search-demo: reporting on ${kv%%=*}: its first ${kv#*=} documents"
done

bin/painterc search "$model" --budget 0.75 --budget 0.6 --calib "$data/wikitext.jsonl" \
  --calib-windows "${WINDOWS:-4}" --calib-length "${LENGTH:-128}" --beam "$beam" \
  --finalists "${FINALISTS:-2}" --polish "${POLISH:-1}" --refine "${REFINE:-2}" \
  --hf-name HuggingFaceTB/SmolLM2-135M-Instruct --threads 2 "${args[@]}" --out "$out"

if [ "${QUICK:-}" != 1 ]; then
  cp "$out/search-pareto.png" "$figures/search-smollm2-pareto.png"
  cp "$out/search-pareto.svg" "$figures/search-smollm2-pareto.svg"
fi
echo "search-demo: done in $(( $(date +%s) - start )) s; $out/search.md"
