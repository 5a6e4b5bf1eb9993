#!/usr/bin/env bash
# Scoring throughput of painterc score against a PyTorch eager loop over the
# same weights, on painter-16's six log-likelihood tasks (first 200
# documents each, both sides on one thread, batches of 32 sorted longest
# first). The torch side is scripts/eval_torch.py, the training script's own
# lm-eval-rule scorer; it needs the checkpoint `make train` leaves in
# build/train (set TRAIN=DIR to use another). Prints the median of REPS runs
# of each whole process and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
train=${TRAIN:-build/train}
reps=${REPS:-3}
[ -f "$train/ckpt.pt" ] || { echo "bench-torch-score: no $train/ckpt.pt: run make train first (or set TRAIN=DIR)" >&2; exit 2; }
tasks=(facts_mc add_mc sub_mc count_mc sort_mc facts_lambada)
args=()
for t in "${tasks[@]}"; do args+=(--task "models/painter-16/tasks/$t.jsonl"); done
only=$(IFS=,; echo "${tasks[*]}")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

secs() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
torch=() plain=() kv=()
for _ in $(seq "$reps"); do
  torch+=("$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 secs /usr/bin/python3 scripts/eval_torch.py --train "$train" --tasks models/painter-16/tasks --out "$out" --only "$only" --limit 200)")
  plain+=("$(secs bin/painterc score models/painter-16/model.onnx "${args[@]}" --limit 200 --threads 1 --batch-size 32)")
  kv+=("$(secs bin/painterc score models/painter-16/kv/model.onnx "${args[@]}" --limit 200 --threads 1 --batch-size 32)")
done
t=$(printf '%s\n' "${torch[@]}" | median)
p=$(printf '%s\n' "${plain[@]}" | median)
k=$(printf '%s\n' "${kv[@]}" | median)
printf 'torch eager (eval_torch.py)      %6.2f s\n' "$t"
printf 'painterc score model.onnx        %6.2f s  (%.1fx faster)\n' "$p" "$(echo "$t / $p" | bc -l)"
printf 'painterc score kv/model.onnx     %6.2f s  (%.1fx faster: shared-context prefill)\n' "$k" "$(echo "$t / $k" | bc -l)"
