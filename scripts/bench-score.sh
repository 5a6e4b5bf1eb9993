#!/usr/bin/env bash
# Scoring performance of eval/ortmodel, printed as ratios:
#
#  (a) LogLikelihood throughput vs a bare ONNX Runtime loop over the same
#      batches (same order, padding and feeds, the model without the
#      epilogue, logits returned and nothing else done), and
#  (b) multiple choice on a KV model (8 docs x 4 choices x 20 tokens after a
#      100-token context) from one shared prefill vs scoring each request
#      whole; both on a vocabulary-heavy and a deep Llama testmodel, measured
#      interleaved, medians of PAINTERC_BENCH_ROUNDS (default 9) rounds;
#  (c) peak RSS of scoring one batch of 8 x 512 tokens at vocabulary 128k,
#      each variant in a fresh process: the default epilogue (positions
#      gathered before the lm_head), the epilogue after the full logits, both
#      also in the ReduceLogSumExp form, and a bare session returning the
#      logits to Go.
#
# Needs `make ort`. PAINTERC_BENCH_THREADS sets ORT's intra-op threads
# (default 1). (c) peaks at about 5 GB. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/ort/libonnxruntime.so.1 ] || { echo "bench-score: run make ort first" >&2; exit 1; }
export CGO_ENABLED=1
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/ortmodel.test" ./eval/ortmodel
cd eval/ortmodel

echo "== throughput and shared-context speed-up (interleaved medians)"
"$bin/ortmodel.test" -test.run '^$' -test.bench '^BenchmarkRatios$' -test.benchtime 1x | grep '^BENCH' | sed 's/^BENCH /  /'

echo "== peak RSS, one batch of 8 x 512 tokens, vocabulary 128000"
declare -A peak
for mode in epilogue epilogue-lse after-head after-head-lse bare; do
  line=$(PAINTERC_RSS_MODE=$mode "$bin/ortmodel.test" -test.run '^$' -test.bench '^BenchmarkPeakRSS$' -test.benchtime 1x | grep '^RSS ')
  echo "  $line"
  peak[$mode]=$(sed 's/.*peak_mib=\([0-9]*\).*/\1/' <<<"$line")
done
for mode in epilogue epilogue-lse after-head after-head-lse; do
  awk -v a="${peak[$mode]}" -v b="${peak[bare]}" -v m="$mode" 'BEGIN { printf "  peak RSS %s / bare = %.2f\n", m, a / b }'
done
