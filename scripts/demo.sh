#!/usr/bin/env bash
# make demo: build a 16-block Llama-style test model, look at its blocks,
# rewrite it with each of the paper's strategies, and show on ONNX Runtime how
# far each variant's logits move from the original's.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/demo
rm -rf "$dir" && mkdir -p "$dir"

echo "== the bundled default model: testmodels Llama, 16 blocks"
bin/testmodels --family llama --layers 16 -o "$dir/llama16.onnx" --inputs "$dir/inputs"
inputs=()
for f in "$dir"/inputs/*.npy; do inputs+=(--input "$(basename "$f" .npy)=$f"); done

echo; echo "== painterc inspect"
bin/painterc inspect "$dir/llama16.onnx" | sed -n '/^blocks/,$p'

echo; echo "== the original model on ONNX Runtime"
bin/painterc run "$dir/llama16.onnx" "${inputs[@]}" --out "$dir/out-original"

for pass in looped-parallel parallel random reverse skip middle-repeat; do
  echo; echo "== painterc --pass=$pass"
  bin/painterc --pass="$pass" "$dir/llama16.onnx" -o "$dir/llama16-$pass.onnx"
  bin/painterc run "$dir/llama16-$pass.onnx" "${inputs[@]}" --compare "$dir/out-original"
done
echo
echo "The paper's ordering (looped-parallel degrades least, middle-repeat most)"
echo "needs trained weights; these are random, so read the numbers as a smoke test."
