#!/usr/bin/env bash
# Sub-block steps on the real exports against the exact answer: for each
# SmolLM2 export in build/real, the PyTorch schedule referee in float64
# (schedule_referee.py --float64) writes cases for half-block schedules
# into build/real-halves/EXPORT/ (the export's files hard-linked beside them),
# then TestRealExporters compiles each with painterc and runs it on ONNX
# Runtime in fp32, prefill and a cached decode, within 1e-4 of float64.
#
#   scripts/referee/halves_fp64.sh [EXPORT ...]   (default: every SmolLM2 export present)
#
# Why float64: against an fp32 referee the bound holds the sum of two fp32
# roundings; the cases from float64 hold painterc's own error.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-build/venv/bin/python}
OUT=build/real-halves
[ -x "$PY" ] || { echo "halves_fp64: $PY is missing: run make pyenv" >&2; exit 1; }
combos=${*:-$(cd build/real && ls -d smollm2-135m-instruct-* 2>/dev/null | grep -v int4 || true)}
[ -n "$combos" ] || { echo "halves_fp64: no SmolLM2 export in build/real: run make real-exports" >&2; exit 1; }
# Every block as its two halves; one half in place of a block; the search
# demo's kind of pick; a repeated attention half (two KV slots); halves
# beside a parallel group; halves near both ends.
halves=$(seq 0 29 | sed 's/.*/&.attn,&.mlp/' | paste -sd,)
schedules=("$halves" 0-11,12.attn,13-29 0-11,12.mlp,13-29 0-4,6-11,12.attn,19-29
  0-9,10.attnx2,11-29 "0-14,15.mlp,[16-17],18-29" 0-2,3.mlp,4-27,28.attn,29)
for combo in $combos; do
  src=build/real/$combo
  onnx=$(tr ',' '\n' < "$src/.exported" | head -1)
  exporter=${combo#smollm2-135m-instruct-}
  dst=$OUT/$combo
  rm -rf "$dst"; mkdir -p "$dst"
  for f in "$src"/*; do
    # Hard links (or copies): painterc reads external data only inside
    # the model's own directory, never through a symbolic link.
    case "$(basename "$f")" in referee.json|*.npy) ;; *) ln "$f" "$dst/" 2>/dev/null || cp "$f" "$dst/";; esac
  done
  echo "== $combo ($onnx)"
  nice -n 5 "$PY" scripts/referee/schedule_referee.py --model build/models/smollm2-135m-instruct \
    --export "$src" --onnx "$onnx" --exporter "$exporter" --arch llama --out "$dst" \
    --self-check 1e-4 --float64 --schedules "${schedules[@]}" 2>&1 | grep '^schedule_referee'
done
PAINTERC_REAL_DIR=$PWD/$OUT go test ./compile -run 'TestRealExporters/fixture/smollm2' -count=1 -v -timeout 60m \
  | grep -E '^\s+\| |^--- |^ok|FAIL|differs'
