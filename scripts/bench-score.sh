#!/usr/bin/env bash
# Scoring performance of eval/ortmodel, printed as ratios:
#
#  (a) LogLikelihood throughput vs a bare ONNX Runtime loop over the same
#      batches (same order, padding and feeds, the model without the
#      epilogue, logits returned and nothing else done), and
#  (b) multiple choice on a KV model (8 docs x 4 choices x 20 tokens after a
#      100-token context) from one shared prefill vs scoring each request
#      whole; both on a vocabulary-heavy and a deep Llama testmodel, measured
#      interleaved, medians of PAINTERC_BENCH_ROUNDS (default 9) rounds
#      (BenchmarkRatios);
#  (c) peak RSS of scoring one batch of 8 x 512 tokens at vocabulary 128k,
#      each variant in a fresh process: the default epilogue (positions
#      gathered before the lm_head), the epilogue after the full logits, both
#      also in the ReduceLogSumExp form, and a bare session returning the
#      logits to Go (BenchmarkPeakRSS);
#  (d) greedy generation with the KV cache vs recomputation (BenchmarkGenerate).
#
# It also writes the table the README shows to bench/score.md, with the
# machine and its load; `go test ./bench -run TestREADMEBenchTables -update`
# copies it into README.md.
#
# Needs `make ort`. PAINTERC_BENCH_THREADS sets ORT's intra-op threads
# (default 1). (c) peaks at about 5 GB. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/ort/libonnxruntime.so.1 ] || { echo "bench-score: run make ort first" >&2; exit 1; }
export CGO_ENABLED=1
root=$PWD
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/ortmodel.test" ./eval/ortmodel
load0=$(cut -d' ' -f1 /proc/loadavg)
cd eval/ortmodel

echo "== throughput and shared-context speed-up (interleaved medians)"
ratios=$("$bin/ortmodel.test" -test.run '^$' -test.bench '^BenchmarkRatios$' -test.benchtime 1x)
grep '^BENCH' <<<"$ratios" | sed 's/^BENCH /  /'
metric() { awk -v m="$1" '/^BenchmarkRatios/ {for (i = 1; i <= NF; i++) if ($i == m) printf "%.2f", $(i-1)}' <<<"$ratios"; }

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

echo "== greedy generation, 8 x 32 tokens after 100: recomputed / cached"
gen=$("$bin/ortmodel.test" -test.run '^$' -test.bench '^BenchmarkGenerate$' -test.benchtime 3x)
genratio=$(awk '/^BenchmarkGenerate\/cached/ {c = $3} /^BenchmarkGenerate\/recomputed/ {r = $3} END {printf "%.1f", r / c}' <<<"$gen")
echo "  $genratio"
load1=$(cut -d' ' -f1 /proc/loadavg)

{
  echo "| what | ratio |"
  echo "|---|---|"
  echo "| \`eval/ortmodel\` throughput / a bare ORT loop over the same batches, deep model (8×256, vocabulary 2048) | $(metric deep-ortmodel/bare)× |"
  echo "| same, vocabulary-heavy model (4×256, vocabulary 8192) | $(metric vocab-heavy-ortmodel/bare)× |"
  echo "| multiple choice, 4 choices of 20 tokens after 100: shared KV prefill / uncached, deep model | $(metric deep-shared/uncached)× |"
  echo "| same, vocabulary-heavy model (the LM head is 45% of the weights) | $(metric vocab-heavy-shared/uncached)× |"
  awk -v a="${peak[epilogue]}" -v b="${peak[bare]}" 'BEGIN { printf "| peak RSS, 8 × 512 tokens at vocabulary 128k: epilogue / logits handed to Go | %.2f× (%d MiB vs %d MiB) |\n", a / b, a, b }'
  awk -v a="${peak[after-head]}" -v b="${peak[bare]}" 'BEGIN { printf "| same, the epilogue after the full logits / logits handed to Go | %.2f× |\n", a / b }'
  echo "| greedy generation, 8 rows × 32 tokens after 100: recomputation / KV cache, time | ${genratio}× |"
  echo
  echo "(\`scripts/bench-score.sh\`, $(date -u +%Y-%m-%d), $(nproc) CPUs, ONNX Runtime on ${PAINTERC_BENCH_THREADS:-1} thread(s), load average $load0 at the start and $load1 at the end.)"
} > "$root/bench/score.md"
echo "(table written to bench/score.md; go test ./bench -run TestREADMEBenchTables -update puts it in README.md)"
