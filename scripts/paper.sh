#!/usr/bin/env bash
# make paper: the paper's experiment ("Transformer Layers as Painters") on a
# real pretrained model, SmolLM2-135M-Instruct (30 blocks), as exported to
# ONNX by `make real-models` (TorchScript with a KV cache; config.json and
# tokenizer.json must lie beside model.onnx).
#
# It sweeps the six strategies (skip, middle-repeat, reverse, random,
# parallel, looped-parallel; random with one seed, looped-parallel with
# R = 3) and skip-one on every block (the paper's Figure 2, which finding 1
# needs) over the grid N = 12,10,8,6,4,2,1 (M = T-2N-1 = 5, 9, 13, 17, 21,
# 25, 27 of 30 blocks: the paper's x axis from a light to a near-total
# rewrite, in 7 of the 15 N a full sweep would take) on six real tasks,
# measures block similarity on WikiText and writes the report with the
# paper's six findings checked. Figures are copied to docs/figures/paper-*.
#
# Documents per task (the first K of each file, as lm-eval's --limit K), so
# that the 73 variants (43 + 30 skip-one probes) x 6 tasks take about an
# hour on two cores (one shard per core; the run behind README "On a real
# model" took 3689 s, similarity and report included):
#   arc_easy 60, hellaswag 40, piqa 40, winogrande 60 (lm-eval's partial
#   evaluation form), lambada_openai 50, english_arith_mc 60 (generated
#   here: `paintercorpus --english-arith-mc`, addition in plain decimals
#   after three worked examples; SmolLM2-135M scores 0.575 on 120 against
#   chance 0.25).
# HellaSwag's and PIQA's long choices cost the most per document, hence
# fewer. 40-60 documents give a standard error of about 0.07 on one score; the
# findings compare curves over 7 M and the median over 6 tasks, which is
# what they need. Change them with LIMITS="arc_easy=200 piqa=50 ...".
#
# Resume: the sweep writes each row as it is scored; run the same command
# again after a kill and it goes on where it stopped (painterc sweep's
# resume). Progress: one line per variant per shard, and `painterc sweep
# status build/paper/shard-0-of-2` from another shell.
#
#   make paper                                   # the full run (~1 h)
#   MODEL=path/model.onnx DATA=dir make paper    # another export or task folder
#   QUICK=1 make paper                           # smoke: 2 documents, N = 12,2
set -euo pipefail
cd "$(dirname "$0")/.."

model=${MODEL:-build/real/smollm2-135m-instruct-torchscript-kv/model.onnx}
data=${DATA:-../shared/data/tasks}
out=${OUT:-build/paper}
figures=${FIGURES:-docs/figures}
prefix=${FIGURE_PREFIX:-paper-smollm2}
limits=${LIMITS:-"arc_easy=60 hellaswag=40 piqa=40 winogrande=60 lambada_openai=50 english_arith_mc=60"}
grid=${GRID:-12,10,8,6,4,2,1}
sim_docs=${SIM_DOCS:-20}
if [ "${QUICK:-}" = 1 ]; then
  limits=${LIMITS:-"arc_easy=2 hellaswag=2 piqa=2 winogrande=2 lambada_openai=2 english_arith_mc=4"}
  grid=${GRID:-12,2}
  sim_docs=${SIM_DOCS:-2}
  out=${OUT:-build/paper-quick}
fi

dir=$(dirname "$model")
for f in "$model" "$dir/config.json" "$dir/tokenizer.json"; do
  if [ ! -f "$f" ]; then
    echo "paper: $f is missing: make real-models writes the export and its config.json and tokenizer.json; or set MODEL=path/model.onnx (with both beside it)" >&2
    exit 2
  fi
done
if [ ! -f "$data/wikitext.jsonl" ]; then
  echo "paper: no task files in $data (want arc_easy.jsonl, hellaswag.jsonl, piqa.jsonl, winogrande.jsonl, lambada_openai.jsonl, wikitext.jsonl): set DATA=dir" >&2
  exit 2
fi

start=$(date +%s)
mkdir -p "$out/tasks" "$figures"
go build -o bin/paintercorpus ./cmd/paintercorpus
bin/paintercorpus --seed 1 --english-arith-mc "$out/tasks/english_arith_mc.jsonl.all" --task-items 400

# The first K documents of each task file, written once: a rerun finds the
# same files (same hashes), so the sweep's resume accepts them.
tasks=()
for kv in $limits; do
  name=${kv%%=*} k=${kv#*=}
  src=$data/$name.jsonl
  [ "$name" = english_arith_mc ] && src=$out/tasks/english_arith_mc.jsonl.all
  head -n $((k + 1)) "$src" > "$out/tasks/$name.jsonl.new"
  if cmp -s "$out/tasks/$name.jsonl.new" "$out/tasks/$name.jsonl"; then
    rm "$out/tasks/$name.jsonl.new"
  else
    mv "$out/tasks/$name.jsonl.new" "$out/tasks/$name.jsonl"
  fi
  tasks+=(--task "$out/tasks/$name.jsonl")
  echo "paper: $name: $k documents"
done

echo
echo "== painterc sweep $model, N = $grid, two shards side by side"
probes=(--probes)
[ "${PROBES:-1}" = 0 ] && probes=()
common=("$model" "${tasks[@]}" --out "$out" --threads 1 --n "$grid" --seeds 1 "${probes[@]}")
bin/painterc sweep "${common[@]}" --dry-run | tail -n 1
bin/painterc sweep "${common[@]}" --shard 0/2 &
p0=$!
bin/painterc sweep "${common[@]}" --shard 1/2 &
p1=$!
trap 'kill $p0 $p1 2>/dev/null' INT TERM
wait $p0
wait $p1
trap - INT TERM
bin/painterc sweep merge "$out"
echo "paper: sweep done after $(( $(date +%s) - start )) s"

echo
echo "== painterc similarity on wikitext ($sim_docs documents)"
bin/painterc similarity "$model" --task "$data/wikitext.jsonl" --limit "$sim_docs" --max-length 512 --out "$out" --suggest 8 --threads 2

echo
echo "== painterc report $out"
bin/painterc report "$out"
for f in "$out"/*.png "$out"/*.svg; do
  cp "$f" "$figures/$prefix-$(basename "$f")"
done

echo
sed -n "/^## The paper's findings, checked/,/^## Layer similarity/p" "$out/report.md" | sed '$d'
echo "paper: $(( $(date +%s) - start )) s in all; open $out/report.md (figures also in $figures/$prefix-*)"
