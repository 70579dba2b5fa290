#!/usr/bin/env bash
# Mutation testing of the numeric core with cargo-mutants: every mutant of the metrics,
# the replay engine, the results row, the detectors' deadline and level functions and
# tuning must make a test fail, or be listed in .cargo/mutants.toml with the reason it
# cannot change any output. reports/mutants.md records the counts of the last run.
#
# Usage: scripts/mutants.sh [FILE...]              default: the whole numeric core
#        scripts/mutants.sh --list [FILE...]       only list the mutants (count with wc -l),
#                                                  from the work tree: a run going on in
#                                                  the scratch directory is left alone
#        scripts/mutants.sh --diff REV [FILE...]   only the mutants in lines changed since REV
#        (--list and --diff combine)
#        MUTANTS_OUT=/tmp/m scripts/mutants.sh src/metrics.rs
#        MUTANTS_RE='Goal::|snap' scripts/mutants.sh src/tune.rs   only the mutants whose
#        name (as --list prints it) matches the regex
#
# The files are tested in groups, each with only the tests that exercise it:
#   results    src/metrics.rs src/results.rs src/sweep.rs src/tune.rs: the library's
#              unit tests and the hand-computed goldens (tests/it/golden_cli.rs: sweep,
#              replay and tune outputs; tests/it/replay_golden.rs: the engine's metrics;
#              tests/it/report_golden.rs: the report's tuned.csv)
#   engine     the detectors and src/replay*: the unit tests, the goldens and the engine's
#              properties (tests/it/engine_props.rs: one pass equals one replay per knob,
#              exact equals sampled) and `explain` (tests/it/explain.rs: the estimators'
#              state at each mistake)
# Results go to $MUTANTS_OUT/GROUP/mutants.out/ (caught.txt, missed.txt, timeout.txt,
# unviable.txt, outcomes.json); a summary line per group is printed at the end.
#
# Each mutant is built with the `mutants` profile (opt-level 1 and incremental for the
# crate, the dependencies fully optimised and built once), so a mutant costs an
# incremental rebuild and a few seconds of tests. The work tree is copied (its sources
# touched, so that no build of an earlier run's last mutant passes for fresh) to a
# scratch directory that outlives the run, MUTANTS_SCRATCH (default
# target/mutants-src), and mutated there in place, one mutant at a time: cargo's
# incremental state for that path, in target/mutants-build, serves every later run, and
# the work tree itself is never mutated. (Two mutants at a time would share that target
# directory and wait on its lock: no faster.) MUTANTS_TIMEOUT (seconds, default 300)
# bounds each test run; MUTANTS_BUDGET (seconds) stops the run after that long, keeping
# what was tested.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-mutants >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi
opts=()
listing=0
if [ -n "${MUTANTS_RE:-}" ]; then
    opts+=(--re "$MUTANTS_RE")
fi
files=()
while [ $# -gt 0 ]; do
    case "$1" in
        --list)
            opts+=(--list)
            listing=1
            ;;
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
group_results=(src/metrics.rs src/results.rs src/sweep.rs src/tune.rs)
group_engine=(
    src/detector/fixed.rs
    src/detector/chen.rs
    src/detector/two_windows.rs
    src/detector/bertier.rs
    src/detector/nfd_s.rs
    src/detector/phi.rs
    src/detector/normal.rs
    src/detector/exp_phi.rs
    src/detector/akka.rs
    src/detector/akka/family.rs
    src/detector/akka/tuning.rs
    src/detector/satzger.rs
    src/detector/window.rs
    src/detector/mod.rs
    src/replay.rs
    src/replay/shifted.rs
    src/replay/general.rs
    src/replay/monotone.rs
)
# The test targets of each group (cargo arguments) and the names the test binaries are
# filtered to (empty: every test of those targets).
tests_results=(--lib --test=it)
filters_results=(tests:: golden_cli:: replay_golden:: report_golden::)
tests_engine=(--lib --test=it)
filters_engine=(tests:: golden_cli:: replay_golden:: engine_props:: explain::)
if [ ${#files[@]} -eq 0 ]; then
    files=("${group_results[@]}" "${group_engine[@]}")
fi
group_of() {
    local g f
    for g in results engine; do
        local -n members="group_$g"
        for f in "${members[@]}"; do
            [ "$f" = "$1" ] && { echo "$g"; return; }
        done
    done
    echo "engine"
}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/mutants-build}"
out="$(realpath -m "${MUTANTS_OUT:-mutants.out.d}")"
scratch="$(realpath -m "${MUTANTS_SCRATCH:-target/mutants-src}")"
if [ "$listing" = 1 ]; then
    dir=(--dir .)
else
    rm -rf "$scratch/src" "$scratch/tests"
    mkdir -p "$scratch"
    git ls-files -z --cached --others --exclude-standard --deduplicate \
        | tar --null --ignore-failed-read -cf - -T - 2>/dev/null | tar -xf - -C "$scratch"
    # A run leaves the build of its last mutant behind, newer than the work tree's
    # times: the sources are touched so that cargo rebuilds from them (rustc's
    # incremental cache, which goes by content, still saves most of the work).
    find "$scratch/src" "$scratch/tests" -type f -exec touch {} +
    dir=(--dir "$scratch" --in-place)
fi
start=$(date +%s)
summary=()
for g in results engine; do
    args=()
    for f in "${files[@]}"; do
        [ "$(group_of "$f")" = "$g" ] && args+=(--file "$f")
    done
    [ ${#args[@]} -eq 0 ] && continue
    local_tests="tests_$g[@]"
    test_args=()
    for a in "${!local_tests}"; do
        test_args+=("--cargo-arg=$a")
    done
    local_filters="filters_$g[@]"
    filters=("${!local_filters}")
    if [ ${#filters[@]} -gt 0 ]; then
        filters=(-- -- "${filters[@]}")
    fi
    budget=()
    if [ -n "${MUTANTS_BUDGET:-}" ]; then
        left=$((MUTANTS_BUDGET - ($(date +%s) - start)))
        if [ "$left" -le 0 ]; then
            echo "== $g: not run, the budget of ${MUTANTS_BUDGET} s is spent" >&2
            summary+=("$g: not run (budget spent)")
            continue
        fi
        budget=(timeout --signal=INT --kill-after=60 "$left")
    fi
    mkdir -p "$out/$g"
    echo "== $g: ${args[*]}" >&2
    status=0
    "${budget[@]}" cargo mutants "${opts[@]}" --no-shuffle "${args[@]}" \
        "${dir[@]}" \
        --profile mutants \
        --timeout "${MUTANTS_TIMEOUT:-300}" \
        --output "$out/$g" \
        "${test_args[@]}" "${filters[@]}" || status=$?
    # cargo-mutants exits 0 when every mutant was caught or unviable, 2 when some were
    # missed, 3 on a timeout; 124 or 130 is the budget running out.
    if [ "$listing" = 0 ]; then
        d="$out/$g/mutants.out"
        n() { [ -f "$d/$1" ] && wc -l < "$d/$1" || echo 0; }
        total=$([ -f "$d/mutants.json" ] && grep -c '"diff":' "$d/mutants.json" || echo 0)
        tested=$(( $(n caught.txt) + $(n missed.txt) + $(n timeout.txt) + $(n unviable.txt) ))
        summary+=("$g: $total mutants: caught $(n caught.txt), missed $(n missed.txt), timeout $(n timeout.txt), unviable $(n unviable.txt), not tested $((total - tested)) (exit $status)")
    fi
done
if [ ${#summary[@]} -gt 0 ]; then
    echo "== summary ($(( $(date +%s) - start )) s)"
    printf '%s\n' "${summary[@]}"
    if printf '%s\n' "${summary[@]}" | grep -q -E 'missed [1-9]|timeout [1-9]'; then
        exit 2
    fi
fi
