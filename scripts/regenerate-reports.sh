#!/usr/bin/env bash
# Regenerates every committed report under reports/: the default scenario, one report
# per shipped dataset in datasets/, and the PlanetLab sender-stall scenario (real send
# times from ../shared/datasets/planetlab-lip6-sender with a modelled network; skipped
# with a note when that folder is absent). Run from anywhere; takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
fd="$PWD/target/release/fdbench"

echo "== default scenario"
$fd report -o reports/default

for f in datasets/*.csv.gz; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .csv.gz)
  echo "== dataset $name"
  $fd report --trace "$f" -o "reports/$name"
done

shared=../shared/datasets/planetlab-lip6-sender
if [ -d "$shared" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for node in node7 node8; do
    src="$shared/${node}_sentinterval.csv"
    [ -e "$src" ] || continue
    echo "== PlanetLab sender stalls: $node"
    # Real send times (with the sender's real stalls) on a modelled WAN path.
    # The trace is named as the command below names it, so the report shows that name.
    (cd "$tmp" && "$fd" import --format send-times "$OLDPWD/$src" --delay 'lognormal:40ms,0.4' --loss 0.001 --seed 1 \
      -o "planetlab-$node.csv")
    (cd "$tmp" && "$fd" report --trace "planetlab-$node.csv" -o "$OLDPWD/reports/planetlab-$node-sender-stalls")
  done
else
  echo "note: $shared not found; the PlanetLab sender-stall reports were not regenerated" >&2
fi
echo "done: $(ls -d reports/*/ | tr '\n' ' ')"
