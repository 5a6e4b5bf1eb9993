#!/usr/bin/env bash
# painterc's compile cost on the real exports (issue 14, item 6): wall time
# and peak RSS of `painterc --pass=...` against Python onnx loading and saving
# the same file, on the fp32 and int4 exports of both real decoders.
#
#   scripts/referee/compile_perf.sh [EXPORT_DIR ...]
#     (default: build/real/{smollm2-135m-instruct,gemma3-270m}-{genai,genai-int4})
#
# For each export, in rotating order over REPS rounds (default 3), one process
# each, timed by GNU time (/usr/bin/time -v: wall clock and maximum resident
# set size):
#   onnx      python -c 'm = onnx.load(F); onnx.save(m, OUT)', the referee
#             venv's onnx (1.19); weights stay external when the input's were;
#   identity  painterc --pass=identity F -o OUT (the same bytes out);
#   skip      painterc --pass=skip F -o OUT (the paper's default N = T/4).
# painterc runs with its defaults (output fsynced); the onnx side does not
# fsync. Prints a table of medians and the ratios onnx / painterc (time) and
# painterc / onnx (RSS); every sample goes to build/compile-perf.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-build/venv/bin/python}
PAINTERC=${PAINTERC:-bin/painterc}
REPS=${REPS:-3}
die() { echo "compile_perf: $*" >&2; exit 1; }
[ -x "$PY" ] || die "$PY is missing: run make pyenv (or set PY)"
[ -x "$PAINTERC" ] || die "$PAINTERC is missing: run make build"
/usr/bin/time -v true >/dev/null 2>&1 || die "GNU time (/usr/bin/time) is missing: apt-get install time"

DIRS=${*:-$(for m in smollm2-135m-instruct gemma3-270m; do for e in genai genai-int4; do echo "build/real/$m-$e"; done; done)}
work=$(mktemp -d "${TMPDIR:-/tmp}/painterc-compile-perf.XXXXXX")
trap 'rm -rf "$work"' EXIT
samples=build/compile-perf.jsonl
: >"$samples"

measure() { # measure LABEL DIR CMD...: one timed process, one JSON line
  local label=$1 dir=$2; shift 2
  local t="$work/time.txt"
  /usr/bin/time -v -o "$t" "$@" >"$work/out.txt" 2>&1 || { cat "$work/out.txt" >&2; die "$label on $dir failed"; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$t")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  echo "{\"export\": \"$dir\", \"what\": \"$label\", \"wall_s\": $wall, \"rss_kb\": $rss}" >>"$samples"
  rm -rf "$work/out"
}

echo "compile perf: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), REPS=$REPS, $($PY -c 'import onnx; print("onnx", onnx.__version__)'), $($PAINTERC version | head -1)"
for dir in $DIRS; do
  model="$dir/$(ls "$dir" | grep -m1 '\.onnx$')"
  [ -f "$model" ] || die "$dir has no .onnx file: run scripts/referee/export_real.sh"
  external=False
  ls "$dir" | grep -q '\.onnx\.data$\|\.data$' && external=True
  onnx_cmd=("$PY" -c "import sys, onnx; m = onnx.load(sys.argv[1]); onnx.save(m, sys.argv[2], save_as_external_data=$external)")
  pflags=()
  [ "$external" = True ] && pflags=(--external-data)
  for r in $(seq 1 "$REPS"); do
    order=(onnx identity skip)
    for k in $(seq 1 $(( (r - 1) % 3 ))); do order=("${order[@]:1}" "${order[0]}"); done
    for what in "${order[@]}"; do
      mkdir -p "$work/out"
      case $what in
        onnx) measure onnx "$dir" "${onnx_cmd[@]}" "$model" "$work/out/model.onnx";;
        identity) measure identity "$dir" "$PAINTERC" -q --pass=identity "${pflags[@]}" "$model" -o "$work/out/model.onnx";;
        skip) measure skip "$dir" "$PAINTERC" -q --pass=skip "${pflags[@]}" "$model" -o "$work/out/model.onnx";;
      esac
    done
  done
done

"$PY" - "$samples" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = {}
for r in rows:
    med.setdefault((r["export"], r["what"]), []).append(r)
def m(d, w, k):
    return statistics.median(x[k] for x in med[(d, w)])
print("| export | Python onnx load+save | painterc identity | painterc skip | time onnx/identity | time onnx/skip | RSS identity/onnx | RSS skip/onnx |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for d in dict.fromkeys(r["export"] for r in rows):
    o, i, s = (m(d, w, "wall_s") for w in ("onnx", "identity", "skip"))
    ro, ri, rs = (m(d, w, "rss_kb") / 1024 for w in ("onnx", "identity", "skip"))
    print(f"| {d.split('/')[-1]} | {o:.2f} s, {ro:.0f} MB | {i:.2f} s, {ri:.0f} MB | {s:.2f} s, {rs:.0f} MB "
          f"| {o / i:.1f}× | {o / s:.1f}× | {ri / ro:.3f}× | {rs / ro:.3f}× |")
EOF
echo "(samples in $samples)"
