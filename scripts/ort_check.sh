#!/bin/bash
# Runs the exported painter-16 models on ONNX Runtime (through `painterc run`)
# with the reference feeds export.py wrote and compares every output with
# torch's. Fails if any output differs by more than TOL (default 1e-4).
#
#   bash scripts/ort_check.sh [MODEL_DIR]     (needs bin/painterc and make ort)
set -euo pipefail
dir=${1:-models/painter-16}
tol=${TOL:-1e-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for m in model kv; do
  onnx=$dir/model.onnx
  [ "$m" = kv ] && onnx=$dir/kv/model.onnx
  args=()
  for f in "$dir"/testdata/$m.in.*.npy; do
    n=${f##*/$m.in.}; n=${n%.npy}
    args+=(--input "$n=$f")
  done
  mkdir -p "$tmp/$m"
  for f in "$dir"/testdata/$m.out.*.npy; do
    n=${f##*/$m.out.}
    cp "$f" "$tmp/$m/$n"
  done
  OMP_NUM_THREADS=1 nice -n 10 bin/painterc run "$onnx" --threads 1 "${args[@]}" --compare "$tmp/$m" > "$tmp/$m.txt"
  worst=$(awk '{for(i=1;i<=NF;i++) if($i=="max|diff|") print $(i+1)}' "$tmp/$m.txt" | sort -g | tail -1)
  n=$(wc -l < "$tmp/$m.txt")
  echo "$onnx: $n outputs compared with torch, worst max|diff| $worst"
  if ! awk -v w="$worst" -v t="$tol" 'BEGIN{exit !(w+0 <= t+0)}'; then
    echo "  exceeds $tol"; cat "$tmp/$m.txt"; status=1
  fi
  if grep -q "shape differs\|not comparable" "$tmp/$m.txt"; then cat "$tmp/$m.txt"; status=1; fi
done
exit $status
