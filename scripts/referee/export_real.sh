#!/usr/bin/env bash
# make real-exports: the real checkpoints of `make real-models` through every
# real exporter, each with its PyTorch-referee cases, into build/real.
#
#   scripts/referee/export_real.sh [MODEL-EXPORTER ...]     (default: all)
#
# MODEL is a folder of build/models: smollm2-135m-instruct and gemma3-270m go
# through every exporter export.py knows; all-minilm-l6-v2 through optimum.
# Each combination becomes build/real/MODEL-EXPORTER/: the files the exporter
# wrote, then referee.json and .npy cases from schedule_referee.py (every
# painterc pass plus the hand schedules, prefill and cached decode; see
# FIXTURES.md), the layout test_real in package compile reads with
# PAINTERC_REAL_DIR=build/real. A combination whose referee.json exists is
# skipped, so a killed run resumes; delete the folder to redo one.
#
# PY: the referee venv's python (default build/venv/bin/python)
# PAINTERC: painterc (default bin/painterc, from make build)
# REFEREE_DIR: where export.py and schedule_referee.py are (default scripts/referee)
# STAGE=export stops after the exports (no referee).
# GENAI_OVERLAY: for the genai exporters, the transformers 5 overlay export.py
# runs the model builder with (see export.py; default build/genai-overlay).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-build/venv/bin/python}
PAINTERC=${PAINTERC:-bin/painterc}
REFEREE_DIR=${REFEREE_DIR:-scripts/referee}
STAGE=${STAGE:-all}
MODELS=build/models
OUT=build/real
WORK=build/real-work
export PYTHONHASHSEED=0 TOKENIZERS_PARALLELISM=false

die() { echo "export_real: $*" >&2; exit 1; }
[ -x "$PY" ] || die "$PY is missing: run make pyenv (or set PY)"
[ -x "$PAINTERC" ] || die "$PAINTERC is missing: run make build (or set PAINTERC)"
for f in export.py schedule_referee.py; do
  [ -f "$REFEREE_DIR/$f" ] || die "$REFEREE_DIR/$f is missing (set REFEREE_DIR)"
done

# schedule_referee.py checks itself first: its identity schedule against the
# export on ONNX Runtime within 1e-5, a bound set for the tiny fixtures. On a
# 30-block real model fp32 rounding alone differs by about 5e-5 (SmolLM2's
# TorchScript export: 5.2e-5), so for the real exports the self-check bound
# is the cases' own tolerance, 1e-4 (SELF_CHECK, passed as --self-check).
# Gemma 3's TorchScript and optimum exports differ from torch by 5.0e-4 on
# their own (logits of a 262k vocabulary over scaled embeddings), so its
# cases need SELF_CHECK=1e-3.
SELF_CHECK=${SELF_CHECK:-1e-4}
REFEREE="$REFEREE_DIR/schedule_referee.py"

EXPORTERS="torchscript torchscript-kv dynamo optimum genai genai-int4 ortopt"
ALL=""
for m in smollm2-135m-instruct gemma3-270m; do
  for e in $EXPORTERS; do ALL="$ALL $m-$e"; done
done
ALL="$ALL all-minilm-l6-v2-optimum"
COMBOS=${*:-$ALL}

arch_of() {
  case "$1" in
    smollm2-*) echo llama;;
    gemma3-*) echo gemma3;;
    all-minilm-*) echo bert;;
    *) die "no architecture known for model $1";;
  esac
}

mkdir -p "$OUT" "$WORK"
for combo in $COMBOS; do
  exporter=""
  for e in $EXPORTERS; do
    case "$combo" in *-"$e") [ ${#e} -gt ${#exporter} ] && exporter=$e;; esac
  done
  [ -n "$exporter" ] || die "$combo: does not end in one of: $EXPORTERS"
  model=${combo%-"$exporter"}
  [ -f "$MODELS/$model/config.json" ] || die "$MODELS/$model is missing: run make real-models"
  arch=$(arch_of "$model")
  dir="$OUT/$combo"
  log="$WORK/$combo.log"
  if [ -f "$dir/referee.json" ]; then echo "== $combo: done before (delete $dir to redo)"; continue; fi
  if [ ! -f "$dir/.exported" ]; then
    echo "== $combo: export ($(date -u +%H:%M:%S))"
    rm -rf "$dir" "$WORK/scratch-$combo"
    set +e
    /usr/bin/time -f "export wall %e s, peak RSS %M KB" nice -n 10 "$PY" "$REFEREE_DIR/export.py" "$exporter" \
      --model "$MODELS/$model" --out "$dir" --work "$WORK/scratch-$combo" >"$log" 2>&1
    rc=$?
    set -e
    rm -rf "$WORK/scratch-$combo"
    if [ $rc -eq 3 ]; then
      echo "   unsupported: $(grep 'does not support' "$log" | tail -1)"
      continue
    elif [ $rc -ne 0 ]; then
      echo "   export FAILED (rc $rc), see $log:"; grep -v '^\s*$' "$log" | tail -4 | sed 's/^/   /'
      continue
    fi
    # export.py prints the ONNX file name(s) last, then time adds its line.
    grep -v '^export wall' "$log" | tail -1 >"$dir/.exported"
    grep '^export wall' "$log" | sed 's/^/   /'
  fi
  # Scoring reads the tokenizer and the model's config beside the ONNX
  # file (painterc score, make paper, make search-demo); not every
  # exporter writes them.
  for f in config.json tokenizer.json tokenizer_config.json; do
    [ -f "$dir/$f" ] || [ ! -f "$MODELS/$model/$f" ] || cp "$MODELS/$model/$f" "$dir/$f"
  done
  [ "$STAGE" = export ] && continue
  echo "== $combo: referee ($(date -u +%H:%M:%S))"
  set +e
  for name in $(tr ',' ' ' <"$dir/.exported"); do
    /usr/bin/time -f "referee wall %e s, peak RSS %M KB" nice -n 10 "$PY" "$REFEREE" \
      --model "$MODELS/$model" --export "$dir" --onnx "$name" --exporter "$exporter" --arch "$arch" \
      --out "$dir" --painterc "$PAINTERC" --self-check "$SELF_CHECK" >>"$log" 2>&1
    rc=$?
    [ $rc -eq 0 ] || break
  done
  set -e
  if [ $rc -ne 0 ]; then
    echo "   referee FAILED (rc $rc), see $log:"; grep -v '^\s*$' "$log" | tail -4 | sed 's/^/   /'
    rm -f "$dir/referee.json"
    continue
  fi
  grep '^schedule_referee\|^referee wall' "$log" | tail -3 | sed 's/^/   /'
done
