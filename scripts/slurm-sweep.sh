#!/usr/bin/env bash
# Submit a painterc sweep to Slurm as a job array of N shards, each running
#   painterc sweep MODEL --out DIR --shard $SLURM_ARRAY_TASK_ID/N [flags]
# followed by a merge job that runs only when every shard succeeded
# (--dependency=afterok:ARRAY_JOB):
#   painterc sweep merge DIR
#
# usage: scripts/slurm-sweep.sh [-b PAINTERC] [-p PARALLEL] [-s "SBATCH ARGS"] [-j NAME] \
#            SHARDS DIR MODEL [painterc sweep flags: --task FILE ... --passes ... --n A..B ...]
#
#   -b PAINTERC   the painterc binary (default: bin/painterc, else painterc on PATH)
#   -p PARALLEL   run at most PARALLEL shards at once (sbatch --array=...%P)
#   -s ARGS       extra sbatch arguments for every job, e.g. "-p gpu --gres=gpu:1 -t 4:00:00"
#   -j NAME       job name prefix (default painterc-sweep)
#
# DIR must be on a file system every node sees. A shard that fails or is
# preempted can be resubmitted as it is: it resumes from its results.jsonl.
# Prints "shards JOBID merge JOBID" on stdout; the logs go to DIR/slurm/.
set -euo pipefail

painterc=""
parallel=""
sbatch_args=""
name=painterc-sweep
while getopts "b:p:s:j:h" opt; do
  case $opt in
    b) painterc=$OPTARG ;;
    p) parallel=$OPTARG ;;
    s) sbatch_args=$OPTARG ;;
    j) name=$OPTARG ;;
    h) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -lt 3 ]; then
  echo "usage: $0 [-b PAINTERC] [-p PARALLEL] [-s \"SBATCH ARGS\"] SHARDS DIR MODEL [painterc sweep flags]" >&2
  exit 2
fi
shards=$1 dir=$2 model=$3
shift 3
case $shards in
  ''|*[!0-9]*|0) echo "$0: SHARDS must be a positive whole number, not '$shards'" >&2; exit 2 ;;
esac
if [ -z "$painterc" ]; then
  if [ -x bin/painterc ]; then painterc=bin/painterc; else painterc=$(command -v painterc || true); fi
fi
if [ -z "$painterc" ] || [ ! -x "$painterc" ]; then
  echo "$0: no painterc binary: build it (make build) or give -b PATH" >&2
  exit 2
fi
command -v sbatch >/dev/null || { echo "$0: sbatch not found: this needs a Slurm client" >&2; exit 2; }

abs() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
painterc=$(abs "$painterc")
model=$(abs "$model")
mkdir -p "$dir/slurm"
dir=$(cd "$dir" && pwd)

# The job scripts carry the arguments quoted (printf %q), so file names with
# spaces or quotes reach painterc intact.
quoted=""
for a in "$@"; do quoted+=" $(printf '%q' "$a")"; done
shard_script=$dir/slurm/shard.sh
merge_script=$dir/slurm/merge.sh
cat > "$shard_script" <<EOF
#!/usr/bin/env bash
set -euo pipefail
exec $(printf '%q' "$painterc") sweep $(printf '%q' "$model") --out $(printf '%q' "$dir") --shard "\$SLURM_ARRAY_TASK_ID/$shards" -q$quoted
EOF
cat > "$merge_script" <<EOF
#!/usr/bin/env bash
set -euo pipefail
exec $(printf '%q' "$painterc") sweep merge $(printf '%q' "$dir")
EOF
chmod +x "$shard_script" "$merge_script"

array="0-$((shards - 1))"
[ -n "$parallel" ] && array+="%$parallel"
# shellcheck disable=SC2086 # sbatch_args is a list of words on purpose
jid=$(sbatch --parsable --job-name="$name-shards" --array="$array" \
  --output="$dir/slurm/shard-%a.out" $sbatch_args "$shard_script")
jid=${jid%%;*}
# shellcheck disable=SC2086
mid=$(sbatch --parsable --job-name="$name-merge" --dependency="afterok:$jid" \
  --kill-on-invalid-dep=yes --output="$dir/slurm/merge.out" $sbatch_args "$merge_script")
mid=${mid%%;*}
echo "shards $jid merge $mid"
