#!/usr/bin/env bash
# Regenerate testdata/real: tiny random-weight models (tiny.py) through every
# real exporter (export.py), each with its PyTorch-referee cases
# (schedule_referee.py), then MANIFEST.json (manifest.py).
#   scripts/referee/make_fixtures.sh [ARCH-EXPORTER ...]   (default: all)
# PY picks the referee venv's python (default build/venv/bin/python);
# PAINTERC the painterc binary (default bin/painterc, built by make build).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-build/venv/bin/python}
PAINTERC=${PAINTERC:-bin/painterc}
OUT=testdata/real
WORK=build/real-fixtures
SEED=0
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false

ALL="llama-torchscript llama-torchscript-kv llama-dynamo llama-optimum llama-genai llama-genai-int4 llama-ortopt
qwen3-torchscript qwen3-torchscript-kv qwen3-dynamo qwen3-optimum qwen3-genai qwen3-genai-int4 qwen3-ortopt
gpt2-torchscript gpt2-torchscript-kv gpt2-dynamo gpt2-optimum gpt2-genai gpt2-genai-int4 gpt2-ortopt
bert-torchscript bert-torchscript-kv bert-dynamo bert-optimum bert-genai bert-genai-int4 bert-ortopt
gemma3-torchscript gemma3-torchscript-kv gemma3-dynamo gemma3-optimum gemma3-ortopt"
# Exported, but without referee cases (testdata/real/README.md says why).
NOFIXTURE="gemma3-genai gemma3-genai-int4"
NOFIXTURE_WHY="exports, but no referee cases: onnxruntime-genai writes each sliding block as GroupQueryAttention with local_window_size 4, and ORT 1.31.1's CPU kernel then refuses a past of capacity below the window (\"sliding_window_cache: KV cache capacity (0) must be at least local_window_size (4)\"): the builder's sliding layers need past_present_share_buffer (a preallocated past of max_length, valid length from attention_mask), which the fixture contract's grow-by-concat past/present cases do not model yet"
COMBOS=${*:-$ALL}

mkdir -p "$WORK" "$OUT"
for c in $NOFIXTURE; do echo "export.py: $c: $NOFIXTURE_WHY" > "$WORK/$c.unsupported"; done
# transformers 5 for onnxruntime-genai's builder only (see export.py genai_env).
if [ ! -d build/genai-overlay/transformers ]; then
  "$PY" -m pip install -q --no-deps --target build/genai-overlay -r scripts/referee/requirements-genai.txt
fi
archs=$(for c in $COMBOS; do echo "${c%%-*}"; done | sort -u | paste -sd,)

nice "$PY" scripts/referee/tiny.py --out "$WORK/tiny" --seed "$SEED" --arch "$archs"

for combo in $COMBOS; do
  arch=${combo%%-*} exporter=${combo#*-}
  exp="$WORK/export/$combo"
  rm -rf "$exp" "$OUT/$combo"
  echo "== $combo"
  set +e
  name=$(nice "$PY" scripts/referee/export.py "$exporter" --model "$WORK/tiny/$arch" --out "$exp" --work "$WORK/scratch" --small 2>"$WORK/$combo.log" | tail -1)
  rc=$?
  set -e
  if [ $rc -eq 3 ]; then
    tail -1 "$WORK/$combo.log" | tee "$WORK/$combo.unsupported"
    continue
  elif [ $rc -ne 0 ]; then
    echo "export $combo failed (rc $rc), see $WORK/$combo.log:"; tail -5 "$WORK/$combo.log"; exit 1
  fi
  mkdir -p "$OUT/$combo"
  # The export exactly as written (every file: .onnx, external data, genai_config.json).
  for f in "$exp"/*; do
    case "$(basename "$f")" in
      *.onnx|*.onnx.data|*.data|genai_config.json) cp "$f" "$OUT/$combo/";;
    esac
  done
  for model in ${name//,/ }; do
    nice "$PY" scripts/referee/schedule_referee.py --model "$WORK/tiny/$arch" --export "$exp" --onnx "$model" \
      --exporter "$exporter" --arch "$arch" --out "$OUT/$combo" --painterc "$PAINTERC" 2>>"$WORK/$combo.log" \
      | grep '^schedule_referee' || { echo "referee $combo failed, see $WORK/$combo.log"; tail -5 "$WORK/$combo.log"; exit 1; }
  done
  size=$(du -sb "$OUT/$combo" | cut -f1)
  if [ "$size" -gt 2097152 ]; then echo "$OUT/$combo is $size bytes, over 2 MB"; exit 1; fi
done
"$PY" scripts/referee/manifest.py --out "$OUT" --work "$WORK" --seed "$SEED"
