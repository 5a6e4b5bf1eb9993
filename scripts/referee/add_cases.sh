#!/usr/bin/env bash
# Add referee cases for new schedules to existing fixtures without
# regenerating them: each fixture's export stays as it is, the referee
# (schedule_referee.py --append) recomputes its self-check on the
# regenerated tiny models and appends one prefill (and decode) case per
# schedule, then MANIFEST.json is rewritten with the new files' hashes.
#   scripts/referee/add_cases.sh SCHEDULE ...        (every fixture)
# FIXTURES picks fixtures (default: every folder of testdata/real); PY the
# referee venv's python (default build/venv/bin/python); JOBS how many run
# at once (default 8).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-build/venv/bin/python}
OUT=testdata/real
WORK=${WORK:-build/real-fixtures}
JOBS=${JOBS:-8}
export PYTHONHASHSEED=0 OMP_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
[ $# -gt 0 ] || { echo "usage: $0 SCHEDULE ..."; exit 2; }
FIXTURES=${FIXTURES:-$(cd "$OUT" && ls -d */ | tr -d /)}
archs=$(for f in $FIXTURES; do echo "${f%%-*}"; done | sort -u | paste -sd,)
[ -d "$WORK/tiny" ] || nice "$PY" scripts/referee/tiny.py --out "$WORK/tiny" --seed 0 --arch "$archs" >/dev/null
mkdir -p "$WORK/logs"
for f in $FIXTURES; do echo "$f"; done | xargs -P "$JOBS" -I{} bash -c '
  f={}; dir='"$OUT"'/$f
  read -r model arch exporter < <("'"$PY"'" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d[\"model\"], d[\"arch\"], d[\"exporter\"])" "$dir/referee.json")
  nice "'"$PY"'" scripts/referee/schedule_referee.py --model "'"$WORK"'/tiny/$arch" --export "$dir" --onnx "$model" \
    --exporter "$exporter" --arch "$arch" --out "$dir" --append "$@" >"'"$WORK"'/logs/$f.append.log" 2>&1 \
    || { echo "referee $f failed:"; tail -5 "'"$WORK"'/logs/$f.append.log"; exit 255; }
  size=$(du -sb "$dir" | cut -f1)
  [ "$size" -le 2097152 ] || { echo "$dir is $size bytes, over 2 MB"; exit 255; }
  echo "$f: $(grep -c . "$dir/referee.json") lines, $size bytes"
' _ "$@"
"$PY" scripts/referee/manifest.py --out "$OUT" --work "$WORK" --seed 0
