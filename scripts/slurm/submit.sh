#!/bin/bash
# Submit a sharded fdbench sweep to Slurm: an array job of TASKS shards, at most
# THROTTLE running at once, and the merge job chained after it (afterok).
#
#   scripts/slurm/submit.sh TASKS[%THROTTLE] OUT TRACE... [SWEEP FLAGS]
#   scripts/slurm/submit.sh 16%4 out/ big.csv -d 'phi:threshold=0.5..16:0.01'
#
# Prints the two job ids. The results are OUT/results.csv once the merge job is done;
# each task's log is OUT/slurm-fdbench-sweep-<array id>_<task>.out.
# Extra sbatch options (partition, account, time limit) go in SBATCH_EXTRA, e.g.
# SBATCH_EXTRA='--partition=short --time=01:00:00'.
set -euo pipefail
if [ $# -lt 3 ]; then
    sed -n '2,11p' "$0" >&2
    exit 2
fi
tasks=$1; out=$2; shift 2
count=${tasks%%%*}
case $tasks in *%*) throttle=%${tasks#*%} ;; *) throttle= ;; esac
if ! [[ $count =~ ^[1-9][0-9]*$ ]]; then
    echo "submit.sh: TASKS '$tasks' must be a positive count, optionally %THROTTLE (e.g. 16%4)" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_EXTRA:-} --array="0-$((count - 1))$throttle" \
    --output="$out/slurm-%x-%A_%a.out" --export="ALL,OUT=$out" "$here/sweep-array.sbatch" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_EXTRA:-} --dependency="afterok:$array" --kill-on-invalid-dep=yes \
    --output="$out/slurm-%x-%j.out" --export="ALL,OUT=$out" "$here/merge.sbatch")
merge=${merge%%;*}
echo "array job $array ($count tasks), merge job $merge: results in $out/results.csv"
