#!/usr/bin/env bash
# Records a cluster: N network namespaces of this host on one bridge, every node sending
# heartbeats to every other (`fdbench record send`) and recording every other
# (`fdbench record listen`), into a cluster folder (one trace per (monitor, target)
# pair and a cluster.json manifest) that `fdbench stats/sweep/tune` read. All nodes
# share this host's clock, so --assume-synced is honest and the traces have send times.
#
# Usage: scripts/record-cluster.sh -o DIR [--nodes 4] [--interval 10ms] [--duration 60s]
#            [--netem SPEC] [--link I-J=SPEC]... [--load NODE:N]... [--bin PATH]
#
#   --nodes N          nodes n1..nN (2 to 15)
#   --netem SPEC       tc netem on every link, e.g. "delay 5ms 1ms loss 0.5%"
#   --link I-J=SPEC    tc netem on the link from node I to node J only (repeatable),
#                      e.g. --link 1-3="delay 20ms 5ms"; overrides --netem for that link
#   --load NODE:N      run N busy loops on node NODE's CPU (repeatable); with any --load,
#                      every node's processes are pinned to CPU (node - 1) mod nproc, so
#                      the load competes with that node's sender and receivers
#   --bin PATH         the fdbench binary (default: target/release/fdbench)
#
# Needs root, `ip` and `tc` (iproute2) and, for --netem/--link, the kernel's sch_netem.
# Exits with status 77 when it cannot run here. Everything it creates (namespaces, the
# bridge, veth pairs, processes) is removed on exit, also on Ctrl-C. The traces are
# gzip-compressed when the recording ends.
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=4 interval=10ms duration=60s out="" netem="" bin=""
links=() loads=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--output) out=$2; shift 2 ;;
        --nodes) nodes=$2; shift 2 ;;
        --interval) interval=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --netem) netem=$2; shift 2 ;;
        --link) links+=("$2"); shift 2 ;;
        --load) loads+=("$2"); shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1'; see --help" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] || { echo "error: give the cluster folder with -o DIR" >&2; exit 2; }
case "$nodes" in ''|*[!0-9]*) echo "error: --nodes $nodes: give a number from 2 to 15" >&2; exit 2 ;; esac
[ "$nodes" -ge 2 ] && [ "$nodes" -le 15 ] || { echo "error: --nodes $nodes: give a number from 2 to 15" >&2; exit 2; }
for l in "${links[@]}"; do
    [[ "$l" =~ ^([0-9]+)-([0-9]+)=(.+)$ ]] || { echo "error: --link '$l': write I-J=SPEC, e.g. 1-3=\"delay 20ms\"" >&2; exit 2; }
    i=${BASH_REMATCH[1]} j=${BASH_REMATCH[2]}
    [ "$i" -ge 1 ] && [ "$i" -le "$nodes" ] && [ "$j" -ge 1 ] && [ "$j" -le "$nodes" ] && [ "$i" -ne "$j" ] \
        || { echo "error: --link '$l': nodes are 1 to $nodes, and I differs from J" >&2; exit 2; }
done
for l in "${loads[@]}"; do
    [[ "$l" =~ ^([0-9]+):([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le "$nodes" ] \
        || { echo "error: --load '$l': write NODE:N with NODE from 1 to $nodes" >&2; exit 2; }
done
if [ -z "$bin" ]; then
    if [ -x target/release/fdbench ]; then bin=target/release/fdbench; else bin=target/debug/fdbench; fi
fi
[ -x "$bin" ] || { echo "error: $bin not found; run cargo build --release or pass --bin" >&2; exit 2; }
bin=$(realpath "$bin")
[ "$(id -u)" -eq 0 ] || { echo "skipped: network namespaces need root" >&2; exit 77; }
command -v ip >/dev/null && command -v tc >/dev/null \
    || { echo "skipped: 'ip' or 'tc' not found; apt-get install -y iproute2" >&2; exit 77; }
mkdir -p "$out"
out=$(realpath "$out")

tag=$$
bridge=fdbbr$tag
ns() { echo "fdbench-n$1-$tag"; }
addr() { echo "10.214.0.$1"; }
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for i in $(seq 1 "$nodes"); do ip netns del "$(ns "$i")" 2>/dev/null || true; done
    ip link del "$bridge" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup() {
    ip link add "$bridge" type bridge && ip link set "$bridge" up || return 1
    for i in $(seq 1 "$nodes"); do
        local n; n=$(ns "$i")
        ip netns add "$n" &&
        ip link add "fdbv$i-$tag" type veth peer name "fdbp$i-$tag" &&
        ip link set "fdbv$i-$tag" netns "$n" &&
        ip link set "fdbp$i-$tag" master "$bridge" &&
        ip link set "fdbp$i-$tag" up &&
        ip -n "$n" link set "fdbv$i-$tag" name eth0 &&
        ip -n "$n" addr add "$(addr "$i")/24" dev eth0 &&
        ip -n "$n" link set lo up &&
        ip -n "$n" link set eth0 up || return 1
    done
}
if ! err=$(setup 2>&1); then
    echo "skipped: cannot create network namespaces on a bridge here ($err)" >&2
    exit 77
fi

# Per-link impairment: a prio qdisc with one band per destination node on each
# sender's eth0, netem in the bands of impaired links, u32 filters by destination.
spec_for() { # I J -> the netem spec of link I->J, or empty
    local s=$netem l
    for l in "${links[@]}"; do [[ "$l" == "$1-$2="* ]] && s=${l#*=}; done
    echo "$s"
}
if [ -n "$netem" ] || [ "${#links[@]}" -gt 0 ]; then
    for i in $(seq 1 "$nodes"); do
        n=$(ns "$i")
        if ! err=$(ip netns exec "$n" tc qdisc add dev eth0 root handle 1: prio bands 16 2>&1); then
            echo "skipped: cannot add a prio qdisc ($err)" >&2; exit 77
        fi
        for j in $(seq 1 "$nodes"); do
            [ "$i" -eq "$j" ] && continue
            s=$(spec_for "$i" "$j")
            [ -n "$s" ] || continue
            # shellcheck disable=SC2086
            if ! err=$(ip netns exec "$n" tc qdisc add dev eth0 parent "1:$j" handle "$((j + 20)):" netem $s 2>&1); then
                echo "skipped: tc netem '$s' on link $i->$j failed; the kernel may have no sch_netem ($err)" >&2
                exit 77
            fi
            ip netns exec "$n" tc filter add dev eth0 parent 1: protocol ip prio 1 u32 \
                match ip dst "$(addr "$j")/32" flowid "1:$j"
        done
    done
fi

ncpu=$(nproc)
pin() { # NODE -> a taskset prefix when nodes are pinned
    if [ "${#loads[@]}" -gt 0 ]; then echo "taskset -c $(( ($1 - 1) % ncpu ))"; fi
}
for l in "${loads[@]}"; do
    node=${l%%:*} count=${l#*:}
    for _ in $(seq 1 "$count"); do
        # shellcheck disable=SC2046
        ip netns exec "$(ns "$node")" $(pin "$node") sh -c 'while :; do :; done' &
        pids+=($!)
    done
done

# Monitor M listens for target T on port 9000 + T; the listener accepts only T's address.
listeners=()
for m in $(seq 1 "$nodes"); do
    for t in $(seq 1 "$nodes"); do
        [ "$m" -eq "$t" ] && continue
        # shellcheck disable=SC2046
        ip netns exec "$(ns "$m")" $(pin "$m") "$bin" record listen "$(addr "$m"):$((9000 + t))" \
            --from "$(addr "$t"):0" --assume-synced --allow-nonloopback -q -o "$out/n$m-n$t.csv" &
        listeners+=($!)
        pids+=($!)
    done
done
# Wait until every listener's socket is bound (bounded: 10 s).
for m in $(seq 1 "$nodes"); do
    for _ in $(seq 1 100); do
        [ "$(ip netns exec "$(ns "$m")" ss -uln 2>/dev/null | grep -c "$(addr "$m"):9")" -ge $((nodes - 1)) ] && break
        sleep 0.1
    done
done
# One sender per node: every heartbeat goes to all the other nodes (one seq, one send
# time), so the traces of a target describe the same heartbeats.
senders=()
for t in $(seq 1 "$nodes"); do
    dests=()
    for m in $(seq 1 "$nodes"); do
        [ "$m" -eq "$t" ] && continue
        if [ "${#dests[@]}" -eq 0 ]; then dests+=("$(addr "$m"):$((9000 + t))"); else dests+=(--also "$(addr "$m"):$((9000 + t))"); fi
    done
    # shellcheck disable=SC2046
    ip netns exec "$(ns "$t")" $(pin "$t") "$bin" record send "${dests[@]}" \
        --bind "$(addr "$t"):0" --interval "$interval" --duration "$duration" --allow-nonloopback &
    senders+=($!)
    pids+=($!)
done
status=0
for p in "${senders[@]}"; do wait "$p" || status=$?; done
sleep 1
for p in "${listeners[@]}"; do kill -INT "$p"; done
for p in "${listeners[@]}"; do wait "$p" || status=$?; done
[ "$status" -eq 0 ] || { echo "error: a sender or receiver failed (status $status)" >&2; exit "$status"; }

pairs=""
for m in $(seq 1 "$nodes"); do
    for t in $(seq 1 "$nodes"); do
        [ "$m" -eq "$t" ] && continue
        gzip -9 -n -f "$out/n$m-n$t.csv"
        pairs+="${pairs:+,
}    {\"monitor\": \"n$m\", \"target\": \"n$t\", \"trace\": \"n$m-n$t.csv.gz\"}"
    done
done
names=$(seq 1 "$nodes" | sed 's/^/"n/; s/$/"/' | paste -sd, | sed 's/,/, /g')
tmp="$out/.cluster.json.tmp$$"
printf '{\n  "nodes": [%s],\n  "pairs": [\n%s\n  ]\n}\n' "$names" "$pairs" > "$tmp"
mv "$tmp" "$out/cluster.json"
echo "recorded a cluster of $nodes nodes into $out" >&2
