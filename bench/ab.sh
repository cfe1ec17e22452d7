#!/usr/bin/env bash
# Interleaved A/B runs of Parley builds or settings under one parley-bench scenario: the way
# every performance change is judged on this shared, noisy machine (one run says little; runs
# of A and B taken in turns, several times, say whether a difference is beyond the noise).
#
# usage: bench/ab.sh REPS CONFIG [CONFIG ...] -- <parley-bench arguments>
#   CONFIG   NAME:VAR=VALUE;VAR=VALUE...   environment for `parley serve` in that configuration;
#            BIN=/path/to/parley runs another build (default: build/release/parley);
#            THREADS=N its io threads (1); SCPUS=LIST and LCPUS=LIST the server's and the
#            generator's CPUs (0 and 1); PEER=node runs the Node peer (bench/peer) instead, so that
#            a ratio to Node comes from the same rotation
# example: bench/ab.sh 3 "now:" "old:BIN=/tmp/parley-old" "nowait:PARLEY_COMMIT_DELAY_US=0" \
#              -- fanout --chats 100 --members 10 --duration 10
#
# Like `make bench`, the server runs with --threads 1 pinned to CPU 0 and parley-bench on CPU 1,
# unless a configuration says otherwise.
# Each line: server CPU µs per delivered message (per connect for bigroom, per cycle for churn),
# the first latency the bench prints (ack; bigroom: connect to joined; churn: a cycle), the
# bench's checks, and the store's writes per commit over the whole run and how many commits took
# over 50 ms (a stalling disk, not the server), both from /metrics.
set -euo pipefail

if [ $# -lt 3 ]; then
    # The header comment, whatever its length: every line before `set`.
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/release"
reps=$1
shift
configs=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    configs+=("$1")
    shift
done
[ "${1:-}" = "--" ] && shift
work=$(mktemp -d /tmp/parley-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT

for ((rep = 1; rep <= reps; rep++)); do
    for config in "${configs[@]}"; do
        name=${config%%:*}
        settings=${config#*:}
        bin="$build/parley"
        threads=1
        scpus=0
        lcpus=1
        peer=
        envs=()
        IFS=';' read -ra pairs <<<"$settings"
        for pair in "${pairs[@]}"; do
            [ -z "$pair" ] && continue
            case "${pair%%=*}" in
            BIN) bin=${pair#BIN=} ;;
            THREADS) threads=${pair#THREADS=} ;;
            SCPUS) scpus=${pair#SCPUS=} ;;
            LCPUS) lcpus=${pair#LCPUS=} ;;
            PEER) peer=${pair#PEER=} ;;
            *) envs+=("$pair") ;;
            esac
        done
        data="$work/data-$name-$rep"
        mkdir -p "$data"
        if [ "$peer" = node ]; then
            env "${envs[@]}" taskset -c "$scpus" node "$root/bench/peer/server.mjs" --port 0 --jwt-secret ab-secret \
                >"$data.log" 2>&1 &
        elif [ -n "$peer" ]; then
            echo "$name: PEER=$peer: only PEER=node exists" >&2
            exit 2
        else
            env "${envs[@]}" taskset -c "$scpus" "$bin" serve --port 0 --threads "$threads" --data-dir "$data" \
                --jwt-secret ab-secret --max-connections-per-ip 0 --handshakes-per-second 0 >"$data.log" 2>&1 &
        fi
        server=$!
        port=
        for _ in $(seq 200); do
            port=$(grep -aoE "listening on [0-9.]+:[0-9]+" "$data.log" | head -1 | awk -F: '{print $2}' || true)
            [ -n "$port" ] && break
            sleep 0.1
        done
        if [ -z "$port" ]; then
            echo "$name: the server did not start:" >&2
            tail -5 "$data.log" >&2
            kill "$server" 2>/dev/null || true
            exit 1
        fi
        taskset -c "$lcpus" "$build/parley-bench" "$@" --url "http://127.0.0.1:$port" --secret ab-secret \
            --server-pid "$server" >"$work/bench.json" 2>"$work/bench.err" || true
        perCommit=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^parley_store_commits_total/ {c = $2}
            /^parley_store_committed_writes_total/ {w = $2}
            /^parley_store_commit_seconds_bucket\{le="0.05"\}/ {fast = $2} /^parley_store_commit_seconds_count/ {t = $2}
            END {if (c) printf "writes/commit %.2f", w / c; if (t) printf "  commits>50ms %d", t - fast}')
        kill "$server"
        wait "$server" 2>/dev/null || true
        # CPU per delivered message, or per connect for the scenarios that connect (bigroom).
        unit=delivery
        cpu=$(grep -o "server: [0-9.]* us CPU per delivered" "$work/bench.err" | awk '{print $2}' || true)
        if [ -z "$cpu" ]; then
            cpu=$(grep -oE "server: [0-9.]+ us CPU per (connect|cycle)" "$work/bench.err" | awk '{print $2}' || true)
            unit=$(grep -oE "server: [0-9.]+ us CPU per (connect|cycle)" "$work/bench.err" | awk '{print $6}' || true)
        fi
        latency=$(grep -o "p50 [0-9.]*  p90 [0-9.]*  p99 [0-9.]*" "$work/bench.err" | head -1 || true)
        checks=$(grep -o "checks: .*" "$work/bench.err" || true)
        printf "%-10s %8s us/%s  %s  %s  %s\n" "$name" "${cpu:--}" "$unit" "$latency" "$checks" "$perCommit"
        [ -z "$cpu" ] && tail -3 "$work/bench.err"
        rm -rf "$data" "$data.log"
    done
done
