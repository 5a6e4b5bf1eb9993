#!/usr/bin/env bash
# make bench: painterc's performance evidence, measured side by side in one
# run and printed as a table of ratios (scripts/bench_run.py does the
# measuring; scripts/bench_skip.py is the Python onnx side).
#
#  (a) compile time of a Llama-2-7B-shaped graph (32 blocks, hidden 4096)
#      whose weights are external, in one sparse file: 4x vs 1x the weight
#      bytes, and vs Python onnx doing the same skip edit;
#  (b) skip 16 of 32 blocks of a ~1 GB in-file model: painterc vs Python onnx
#      (wall time, peak RSS) and vs cp of the input;
#  (c) middle-repeat on that model: output size, and time vs cp of the output;
#  (d) ONNX Runtime latency of rewritten models vs the original.
#
# Needs `make build ort` (make bench does it), Debian's python3-onnx for
# /usr/bin/python3, GNU time at /usr/bin/time (installed with apt-get when
# missing and we may), and about 4 GB of free disk. Big files go to a fresh
# directory under $BENCH_DIR (default: $TMPDIR or /tmp), removed at the end
# whatever happens. Takes a few minutes. BENCH_ONLY=ad runs some sections;
# BENCH_REPS_FAST, BENCH_REPS_SLOW and BENCH_REPS_ORT change the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "bench: $*" >&2; exit 1; }

[ -x bin/painterc ] || die "bin/painterc is missing: run make build (or make bench)"
[ -f build/ort/libonnxruntime.so.1 ] || die "ONNX Runtime is missing: run make ort (or make bench)"
/usr/bin/python3 -c 'import onnx' 2>/dev/null ||
  die "/usr/bin/python3 cannot import onnx: install Debian's python3-onnx (apt-get install python3-onnx)"
if ! /usr/bin/time -v true >/dev/null 2>&1; then
  echo "bench: GNU time (/usr/bin/time) is missing; installing the Debian package 'time'" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null; } ||
      die "apt-get install time failed"
  else
    die "install GNU time (Debian: sudo apt-get install time) and rerun"
  fi
  /usr/bin/time -v true >/dev/null 2>&1 || die "/usr/bin/time -v still does not work"
fi

${GO:-go} build -o bin/benchmodel ./cmd/benchmodel
${GO:-go} build -o bin/ortlatency ./bench/ortlatency

base=${BENCH_DIR:-${TMPDIR:-/tmp}}
mkdir -p "$base"
need=$((4 * 1024 * 1024 * 1024))
avail=$(df -P -B1 "$base" | awk 'NR == 2 {print $4}')
[ "$avail" -ge "$need" ] || die "$base has $((avail >> 20)) MiB free; the benchmarks need 4 GiB (set BENCH_DIR elsewhere)"
work=$(mktemp -d "$base/painterc-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

mkdir -p build
echo "painterc benchmarks in $work ($(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -r))"
BENCH_RAW=build/bench-raw.json /usr/bin/python3 scripts/bench_run.py "$work" \
  --reps-fast="${BENCH_REPS_FAST:-15}" --reps-slow="${BENCH_REPS_SLOW:-5}" --reps-ort="${BENCH_REPS_ORT:-40}" |
  tee build/bench-results.txt
echo "(table saved in build/bench-results.txt, every sample in build/bench-raw.json)"

# The sweep's own cost: the default sweep of an 8-block testmodel on ONNX
# Runtime, wall time over the sum of the variants' scoring times (goal <= 1.1).
echo
echo "sweep overhead (go test ./sweep -bench SweepOverhead):"
${GO:-go} test ./sweep -run '^$' -bench SweepOverhead -benchtime 3x | awk '/^BenchmarkSweepOverhead/ {for (i = 1; i <= NF; i++) if ($i == "wall/score") print "  wall / sum of scoring times: " $(i-1) "x"}'
