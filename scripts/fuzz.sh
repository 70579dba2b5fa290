#!/usr/bin/env bash
# The long robustness run (not in CI): every reader is fed FDBENCH_FUZZ_CASES cases
# (default 100,000) of arbitrary and mutated input in a release build, one test at a
# time so that each reader's run time is printed; then the rest of the suite once.
# CI runs the same tests with the default of 2,000 cases per reader.
#
# Usage: scripts/fuzz.sh [CASES]
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-${FDBENCH_FUZZ_CASES:-100000}}"
fuzz_tests=(
    trace_csv_survives_arbitrary_bytes
    trace_csv_survives_mutations
    importers_survive_arbitrary_bytes
    importers_survive_mutations
    spec_strings_survive_arbitrary_text
    spec_strings_survive_mutations
    ranges_with_arbitrary_bounds_are_capped
    durations_survive_arbitrary_text
    rates_survive_arbitrary_text
    generator_flags_survive_arbitrary_text
    delay_models_survive_arbitrary_text
    the_packet_decoder_survives_arbitrary_and_mutated_datagrams
)
cargo test --release --no-run --test it -- robustness::
echo "| test | cases | seconds |"
echo "|---|---|---|"
for t in "${fuzz_tests[@]}"; do
    start=$(date +%s.%N)
    FDBENCH_FUZZ_CASES="$cases" cargo test -q --release --test it -- --exact "robustness::$t" >&2
    end=$(date +%s.%N)
    printf '| %s | %s | %.1f |\n' "$t" "$cases" "$(echo "$end - $start" | bc)"
done
skip=()
for t in "${fuzz_tests[@]}"; do skip+=(--skip "$t"); done
start=$(date +%s.%N)
cargo test -q --release --test it -- robustness:: "${skip[@]}" >&2
end=$(date +%s.%N)
printf '| the rest of the suite | - | %.1f |\n' "$(echo "$end - $start" | bc)"
