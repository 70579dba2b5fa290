#!/usr/bin/env bash
# Mutation testing of the numeric core with cargo-mutants: every mutant of the metrics,
# the replay engine, the results row, the detectors' deadline and level functions and
# tuning must make a test fail, or be listed in .cargo/mutants.toml with the reason it
# cannot change any output. Results go to mutants.out/ (caught.txt, missed.txt,
# timeout.txt, unviable.txt, outcomes.json); reports/mutants.md records the counts.
#
# Usage: scripts/mutants.sh [FILE...]           default: the whole numeric core
#        scripts/mutants.sh --list [FILE...]    only list the mutants (count with wc -l)
#        scripts/mutants.sh --diff REV [FILE...]  only the mutants in lines changed since REV
#        (--list and --diff combine)
#        MUTANTS_JOBS=2 MUTANTS_OUT=/tmp/m scripts/mutants.sh src/metrics.rs
#
# Each mutant is built with the `mutants` profile (dev, no debug info: incremental and
# quick to link) and tested with the library's unit tests and the golden and property
# tests of the engine, not the whole suite, so that one mutant costs a rebuild of the
# library and a minute of tests. The whole core is 1,716 mutants: days on
# two cores. Pass the files a change touches to run their share.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-mutants >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi
opts=()
files=()
while [ $# -gt 0 ]; do
    case "$1" in
        --list) opts+=(--list) ;;
        --diff)
            diff_file="$(mktemp)"
            git diff "${2:?--diff needs a revision, e.g. origin/main}" -- src > "$diff_file"
            opts+=(--in-diff "$diff_file")
            shift
            ;;
        *) files+=("$1") ;;
    esac
    shift
done
if [ ${#files[@]} -eq 0 ]; then
    files=(
        src/results.rs
        src/detector/fixed.rs
        src/sweep.rs
        src/metrics.rs
        src/detector/chen.rs
        src/detector/two_windows.rs
        src/detector/bertier.rs
        src/detector/phi.rs
        src/detector/normal.rs
        src/detector/exp_phi.rs
        src/detector/akka.rs
        src/detector/satzger.rs
        src/detector/window.rs
        src/tune.rs
        src/replay.rs
        src/replay/shifted.rs
        src/replay/general.rs
    )
fi
args=()
for f in "${files[@]}"; do
    args+=(--file "$f")
done
# A target directory that outlives the run's copy of the tree, so that the dependencies
# are built once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/mutants-build}"
exec cargo mutants "${opts[@]}" --no-shuffle "${args[@]}" \
    --profile mutants \
    --jobs "${MUTANTS_JOBS:-1}" \
    --output "${MUTANTS_OUT:-.}" \
    --cargo-arg=--lib \
    --cargo-arg=--test=golden_cli \
    --cargo-arg=--test=replay_golden \
    --cargo-arg=--test=engine_props
