#!/usr/bin/env bash
# make demo: the paper's experiments on the model painterc ships
# (models/painter-16, a 16-block Llama trained here; see its TRAINING.md).
#
# It sweeps the six strategies of "Transformer Layers as Painters" over
# every N on every shipped task (two shards side by side, one per core,
# merged), measures how similar the blocks' hidden states are, and writes
# demo/report.md with the figures and the paper's findings checked against
# this run's numbers.
#
#   make demo            the full sweep (every N, 3 random seeds, skip-one probes)
#   make demo QUICK=1    fewer N and documents: a smoke test (about a minute on two cores; see README)
set -euo pipefail
cd "$(dirname "$0")/.."

model_dir=${DEMO_MODEL_DIR:-models/painter-16}
out=${DEMO_OUT:-demo}
model=$model_dir/kv/model.onnx # the cached export: generation reuses its KV cache
tasks=()
for f in "$model_dir"/tasks/*.jsonl; do
  case "$(basename "$f")" in
    *rolling*) corpus=$f ;; # perplexity text: the similarity corpus
    *) tasks+=(--task "$f") ;;
  esac
done

if [ "${QUICK:-}" = 1 ]; then
  sweep_flags=(--n 6..3 --seeds 1 --limit 40)
  sim_flags=(--limit 20)
else
  sweep_flags=(--seeds 3 --probes)
  sim_flags=(--limit 200)
fi

rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)

echo "== painterc inspect $model"
bin/painterc inspect "$model" | sed -n '/^blocks/,/^layout/p'

echo
echo "== painterc sweep: ${#tasks[@]} task flags, two shards side by side"
common=("$model" --tokenizer "$model_dir/tokenizer.json" "${tasks[@]}" --out "$out" --threads 1 -q "${sweep_flags[@]}")
bin/painterc sweep "${common[@]}" --dry-run | tail -n 1
bin/painterc sweep "${common[@]}" --shard 0/2 &
p0=$!
bin/painterc sweep "${common[@]}" --shard 1/2 &
p1=$!
wait $p0
wait $p1
bin/painterc sweep merge "$out"

echo
echo "== painterc similarity on $(basename "$corpus")"
bin/painterc similarity "$model_dir/model.onnx" --task "$corpus" --out "$out" --suggest 3 "${sim_flags[@]}"

echo
echo "== painterc report $out"
bin/painterc report "$out"

echo
echo "demo: $(( $(date +%s) - start )) s; open $out/report.md"
sed -n "/^## The paper's findings, checked/,/^## Layer similarity/p" "$out/report.md" | sed '$d'
