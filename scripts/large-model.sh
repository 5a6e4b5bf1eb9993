#!/usr/bin/env bash
# Scores a model whose external weights exceed 2 GiB (a 12-block Llama testmodel,
# 2.26 GiB of float32 weights), as it is and with its middle blocks skipped, and
# prints each run's peak RSS against the weight bytes and against ONNX Runtime
# alone loading the same model by path (painterc run). Each run is a child
# process; see TestScoreOver2GiB in cmd/painterc/large_test.go.
#
#   scripts/large-model.sh          sparse weights (zeros; no disk, little RSS)
#   scripts/large-model.sh --fill   weights filled with small random floats
#                                   (writes about 4 GB to $TMPDIR; the figures
#                                   in docs/large-models.md come from this)
#
# Needs `make ort` and about 5 GB of memory.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/ort/libonnxruntime.so.1 ] || { echo "large-model: run make ort first" >&2; exit 1; }
fill=0
[ "${1:-}" = "--fill" ] && fill=1
PAINTERC_LARGE=1 PAINTERC_LARGE_FILL=$fill CGO_ENABLED=1 \
  go test ./cmd/painterc -run '^TestScoreOver2GiB$' -count=1 -v -timeout 30m | grep -E '^(LARGE|--- |ok|FAIL)'
