#!/usr/bin/env bash
# Records a heartbeat trace between two network namespaces of this host, joined by a
# veth pair: `fdbench record send` runs in one, `fdbench record listen` in the other.
# Both share this host's clock, so --assume-synced is honest and the trace has send times.
#
# Usage: scripts/record-netns.sh -o OUT.csv [--interval 10ms] [--duration 60s]
#            [--load N] [--delay MODEL] [--loss P] [--seed S] [--key FILE] [--bin PATH]
#
#   --load N       run N busy loops during the recording (CPU contention: real scheduling stalls)
#   --delay MODEL  add one-way delay with a user-space relay in the receiver's namespace
#                  (constant:10ms, uniform:5ms..15ms, lognormal:10ms,0.5); the kernel may have no netem
#   --loss P       drop each heartbeat with probability P in that relay
#   --key FILE     authenticate every datagram with this key (both ends read it)
#   --bin PATH     the fdbench binary (default: target/release/fdbench, else target/debug/fdbench)
#
# Needs root and `ip` (iproute2: apt-get install -y iproute2). Exits with status 77 when
# it cannot run here (not root, no ip, namespaces not permitted). Everything it creates
# (namespaces, veth pair, processes) is removed on exit, also on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

interval=10ms duration=60s out="" load=0 delay="" loss=0 seed=1 bin="" key=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--output) out=$2; shift 2 ;;
        --interval) interval=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --load) load=$2; shift 2 ;;
        --delay) delay=$2; shift 2 ;;
        --loss) loss=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --key) key=(--key "$(realpath "$2")"); shift 2 ;;
        --bin) bin=$2; shift 2 ;;
        -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1'; see --help" >&2; exit 2 ;;
    esac
done
[ -n "$out" ] || { echo "error: give the output trace with -o OUT.csv" >&2; exit 2; }
if [ -z "$bin" ]; then
    if [ -x target/release/fdbench ]; then bin=target/release/fdbench; else bin=target/debug/fdbench; fi
fi
[ -x "$bin" ] || { echo "error: $bin not found; run cargo build --release or pass --bin" >&2; exit 2; }
bin=$(realpath "$bin")
[ "$(id -u)" -eq 0 ] || { echo "skipped: network namespaces need root" >&2; exit 77; }
command -v ip >/dev/null || { echo "skipped: 'ip' not found; apt-get install -y iproute2" >&2; exit 77; }

tag=$$
ns_send=fdbench-send-$tag ns_recv=fdbench-recv-$tag
veth_s=fdbs$tag veth_r=fdbr$tag
addr_s=10.213.0.1 addr_r=10.213.0.2
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$ns_send" 2>/dev/null || true
    ip netns del "$ns_recv" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup() {
    ip netns add "$ns_send" &&
    ip netns add "$ns_recv" &&
    ip link add "$veth_s" type veth peer name "$veth_r" &&
    ip link set "$veth_s" netns "$ns_send" &&
    ip link set "$veth_r" netns "$ns_recv" &&
    ip -n "$ns_send" addr add "$addr_s/30" dev "$veth_s" &&
    ip -n "$ns_recv" addr add "$addr_r/30" dev "$veth_r" &&
    ip -n "$ns_send" link set lo up &&
    ip -n "$ns_recv" link set lo up &&
    ip -n "$ns_send" link set "$veth_s" up &&
    ip -n "$ns_recv" link set "$veth_r" up
}
if ! err=$(setup 2>&1); then
    echo "skipped: cannot create network namespaces and a veth pair here ($err)" >&2
    exit 77
fi

for _ in $(seq 1 "$load"); do
    sh -c 'while :; do :; done' &
    pids+=($!)
done

# The sender targets port 9000 in the receiver's namespace: the listener itself, or the
# relay in front of it (which forwards from its own address to port 9001).
if [ -n "$delay" ] || [ "$loss" != "0" ]; then
    ip netns exec "$ns_recv" "$bin" record relay "$addr_r:9000" "$addr_r:9001" \
        --delay "${delay:-constant:0s}" --loss "$loss" --seed "$seed" --allow-nonloopback -q &
    pids+=($!)
    listen_addr=$addr_r:9001 from=$addr_r:9000
else
    listen_addr=$addr_r:9000 from=$addr_s:0
fi
ip netns exec "$ns_recv" "$bin" record listen "$listen_addr" --from "$from" --assume-synced \
    --allow-nonloopback "${key[@]}" -o "$out" &
listener=$!
pids+=("$listener")
# Wait until the listener's socket is bound (bounded: 10 s).
for _ in $(seq 1 100); do
    ip netns exec "$ns_recv" ss -uln 2>/dev/null | grep -q "${listen_addr}" && break
    sleep 0.1
done
ip netns exec "$ns_send" "$bin" record send "$addr_r:9000" --bind "$addr_s:0" \
    --interval "$interval" --duration "$duration" --allow-nonloopback "${key[@]}"
sleep 1
kill -INT "$listener"
status=0
wait "$listener" || status=$?
exit "$status"
