#!/usr/bin/env bash
# Side by side: Buildbot 3.7 and Yardmaster on the Buildbot peer harness
# (../shared/bench/buildbot-peer/), with the same unmodified buildbot-worker processes, then
# bench/RESULTS.md with both columns and the ratio. Slow (about 20 min with the defaults);
# not part of `npm test`. See bench/README.md.
#
#   bench/peer-bench.sh [SCRATCH]      SCRATCH (default ${TMPDIR:-/tmp}/yardmaster-peer) must be
#                                      outside the repository; setup.sh fills it
#
# Knobs (env), besides bench.sh's own BENCH_* (passed through):
#   PEER_RUNS=3            rounds; each round runs, in this order: the workers' ceilings
#                          (ideal-master.mjs, ideal-log.mjs), one Buildbot cycle, one Yardmaster
#                          cycle (interleaved, so a disturbance hits both sides alike)
#   PEER_SIDES="buildbot yardmaster"     drop one to measure only the other
#   PEER_CEILINGS=1        0: skip the ideal-master / ideal-log ceilings
#   PEER_OWN_WORKER=1      0: skip the log ingest with our own worker (bench/own-worker-logs.sh)
#   PEER_IDEAL_SECS=15     ideal-master.mjs run time (SECS), as the harness README runs it
#   PEER_RESULTS=bench/RESULTS.md        where the report goes ('' = only the run directory)
#   BB_PEER_DIR            the harness (default <repo>/../shared/bench/buildbot-peer)
#   YM_REPO                the Yardmaster checkout whose built master is measured (default this
#                          repository; e.g. a clean clone at a given commit)
#   PEER_BUILD=1           0: do not run `npm run build` in YM_REPO first
#   PEER_BB_EVENTS=sse PEER_YM_EVENTS=sse    BENCH_EVENTS per side: how (a) and (c) see builds
#                          finish. Buildbot 3.7 refuses the client's poll query (400 "cannot
#                          filter on un-selected fields"), so it needs sse; PEER_YM_EVENTS=poll
#                          for a Yardmaster without /sse (polling every 100 ms can only add to
#                          its wall times).
# Defaults differ from bench.sh's where both masters must be observed alike: Yardmaster has no
# PB port, so BENCH_PROTOS=msgpack-quiet; latency is seen both ways on both sides
# (BENCH_LAT_MODES="poll sse"; the harness README compares on b_poll_*).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="$(cd "${BB_PEER_DIR:-$REPO/../shared/bench/buildbot-peer}" && pwd)"
YM_REPO="$(cd "${YM_REPO:-$REPO}" && pwd)"
SCRATCH="${1:-${TMPDIR:-/tmp}/yardmaster-peer}"
mkdir -p "$SCRATCH"
SCRATCH="$(cd "$SCRATCH" && pwd)"
for top in "$REPO" "$YM_REPO"; do
  case "$SCRATCH/" in "$top"/*) echo "refusing: scratch dir $SCRATCH is inside $top" >&2; exit 1 ;; esac
done

PEER_RUNS="${PEER_RUNS:-3}"
PEER_SIDES="${PEER_SIDES:-buildbot yardmaster}"
PEER_CEILINGS="${PEER_CEILINGS:-1}"
PEER_OWN_WORKER="${PEER_OWN_WORKER:-1}"
PEER_IDEAL_SECS="${PEER_IDEAL_SECS:-15}"
PEER_RESULTS="${PEER_RESULTS-$REPO/bench/RESULTS.md}"
export BENCH_PROTOS="${BENCH_PROTOS:-msgpack-quiet}"
PEER_BB_EVENTS="${PEER_BB_EVENTS:-sse}"
PEER_YM_EVENTS="${PEER_YM_EVENTS:-sse}"
export BENCH_LAT_MODES="${BENCH_LAT_MODES:-poll sse}"
export BENCH_STEPS10_B="${BENCH_STEPS10_B:-40}"
export BENCH_RUNS=1   # one cycle per bench.sh call; the rounds are ours

log() { echo "[peer-bench $(date +%H:%M:%S)] $*" >&2; }

if [[ "${PEER_BUILD:-1}" == 1 ]]; then
  log "building Yardmaster in $YM_REPO"
  (cd "$YM_REPO" && npx tsc -b packages/master packages/worker packages/testkit)
fi

log "setting up the peer in $SCRATCH"
"$PEER/setup.sh" "$SCRATCH" >&2
set -a
# shellcheck disable=SC1091
source "$SCRATCH/master/peer.env"
set +a

OUT="$SCRATCH/peer-bench/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
log "results -> $OUT"

YM_BASEDIR="$SCRATCH/ym"
YM_CONFIG="$REPO/bench/peer/master.config.ts"
YM_MASTER_CMD="node $YM_REPO/packages/master/bin/yardmaster.js start --config $YM_CONFIG --basedir $YM_BASEDIR"
YM_RESET_CMD="rm -rf $YM_BASEDIR && mkdir -p $YM_BASEDIR"

{
  echo "date: $(date -Is)"
  echo "cpus: $(nproc)"
  echo "cpu_model: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1024/1024}' /proc/meminfo)"
  echo "kernel: $(uname -sr)"
  echo "node: $(node --version)"
  echo "buildbot: $(/usr/bin/buildbot --version | tr '\n' ' ')"
  echo "yardmaster_commit: $(git -C "$YM_REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$YM_REPO" diff --quiet HEAD -- packages 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "settings: PEER_RUNS=$PEER_RUNS PEER_SIDES='$PEER_SIDES' BENCH_PROTOS=$BENCH_PROTOS BENCH_EVENTS: Buildbot $PEER_BB_EVENTS, Yardmaster $PEER_YM_EVENTS; BENCH_LAT_MODES='$BENCH_LAT_MODES' BENCH_B=${BENCH_B:-200} BENCH_CONC=${BENCH_CONC:-8} BENCH_LAT_N=${BENCH_LAT_N:-20} BENCH_STEPS10_B=$BENCH_STEPS10_B BENCH_LOG_BYTES=${BENCH_LOG_BYTES:-20000000} BENCH_LOG_LINE_BYTES='${BENCH_LOG_LINE_BYTES:-80 2}' BENCH_WRK='${BENCH_WRK:--t2 -c20 -d10s}' N=$BB_WORKERS DB=$BB_DB_URL"
  echo "command_buildbot: $PEER/bench.sh $SCRATCH"
  echo "command_yardmaster: MASTER_CMD=\"$YM_MASTER_CMD\" MASTER_RESET_CMD=\"$YM_RESET_CMD\" $PEER/bench.sh $SCRATCH"
} > "$OUT/env.txt"
cat "$OUT/env.txt" >&2

# ---- the workers' own ceilings (harness README: ideal-master.mjs, ideal-log.mjs) ----
IDEAL="$SCRATCH/ideal"
setup_ideal() {
  mkdir -p "$IDEAL"
  cp "$PEER/ideal-master.mjs" "$PEER/ideal-log.mjs" "$IDEAL/"
  if [[ ! -d "$IDEAL/node_modules/@msgpack/msgpack" || ! -d "$IDEAL/node_modules/ws" ]]; then
    log "installing ws and @msgpack/msgpack for the ideal masters into $IDEAL"
    (cd "$IDEAL" && { [[ -f package.json ]] || echo '{"private":true}' > package.json; } &&
      npm install --no-audit --no-fund --silent ws @msgpack/msgpack >&2)
  fi
}

WORKER_PIDS=()
start_bb_workers() {  # start_bb_workers N: msgpack buildbot-workers w1..wN, debug logging off
  local n=$1 i dir starters=()
  WORKER_PIDS=()
  for i in $(seq 1 "$n"); do
    dir="$SCRATCH/workers/msgpack/w$i"
    rm -f "$dir"/twistd.log*
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" LANG=C.UTF-8 BB_MSGPACK_QUIET=1 \
      /usr/bin/buildbot-worker start "$dir" > /dev/null &
    starters+=($!)
  done
  for i in "${starters[@]}"; do wait "$i" || log "a buildbot-worker failed to start"; done
  for i in $(seq 1 "$n"); do WORKER_PIDS+=("$(cat "$SCRATCH/workers/msgpack/w$i/twistd.pid")"); done
}
stop_pids() {
  local pid i alive
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 1 100); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}
IDEAL_PID=""
cleanup() {
  ((${#WORKER_PIDS[@]})) && stop_pids "${WORKER_PIDS[@]}"
  [[ -n "$IDEAL_PID" ]] && stop_pids "$IDEAL_PID"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ideal() {  # ideal SCRIPT WORKERS ENV...: an ideal master on the msgpack port; its line -> $IDEAL/out.txt
  local script=$1 n=$2
  shift 2
  (cd "$IDEAL" && exec env PORT="$BB_MSGPACK_PORT" "$@" node "$script") > "$IDEAL/out.txt" 2>&1 &
  IDEAL_PID=$!
  sleep 0.5
  start_bb_workers "$n"
  wait "$IDEAL_PID" || true
  IDEAL_PID=""
  stop_pids "${WORKER_PIDS[@]}"
  WORKER_PIDS=()
  log "$script $*: $(tail -1 "$IDEAL/out.txt")"
}

ceilings() {  # ceilings ROUND: RESULT lines into ceilings.tsv
  local round=$1 v lb
  ideal ideal-master.mjs "$BB_WORKERS" SECS="$PEER_IDEAL_SECS"
  v=$(tail -1 "$IDEAL/out.txt" | sed -n 's/.*: \([0-9.]*\) commands\/s.*/\1/p')
  printf 'RESULT\tideal_noop_commands_per_s\tbuildbot-worker\t%s\t%s\tcommands/s\n' "$round" "$v" >> "$OUT/ceilings.tsv"
  for lb in ${BENCH_LOG_LINE_BYTES:-80 2}; do
    ideal ideal-log.mjs 1 LINE="$lb" BYTES="${BENCH_LOG_BYTES:-20000000}"
    v=$(tail -1 "$IDEAL/out.txt" | sed -n 's/.*: \([0-9.]*\) MB\/s.*/\1/p')
    printf 'RESULT\tideal_logs_L%s_MB_per_s\tbuildbot-worker\t%s\t%s\tMB/s\n' "$lb" "$round" "$v" >> "$OUT/ceilings.tsv"
  done
}

bench_side() {  # bench_side SIDE ROUND: one bench.sh cycle, RESULT lines into SIDE.tsv
  local side=$1 round=$2 before
  before=$( (ls -1 "$SCRATCH/results" 2>/dev/null || true) | sort | tail -1)
  echo "round $round $side: loadavg $(cut -d' ' -f1-3 /proc/loadavg) at $(date +%H:%M:%S)" >> "$OUT/load.txt"
  ps -eo pcpu,etimes,args --sort=-pcpu | head -6 | cut -c1-110 >> "$OUT/load.txt"
  local status=0
  if [[ $side == buildbot ]]; then
    (unset MASTER_CMD MASTER_RESET_CMD; BENCH_EVENTS="$PEER_BB_EVENTS" "$PEER/bench.sh" "$SCRATCH") \
      > "$OUT/bench-$side-$round.out" || status=$?
  else
    MASTER_CMD="$YM_MASTER_CMD" MASTER_RESET_CMD="$YM_RESET_CMD" BENCH_EVENTS="$PEER_YM_EVENTS" \
      "$PEER/bench.sh" "$SCRATCH" > "$OUT/bench-$side-$round.out" || status=$?
  fi
  local dir f
  dir="$SCRATCH/results/$(ls -1 "$SCRATCH/results" | sort | tail -1)"
  if [[ "$(basename "$dir")" == "$before" ]]; then
    log "bench.sh ($side, round $round) left no results directory"
    return 0
  fi
  # label the cycle with our round number (bench.sh numbers its single run 1)
  awk -F'\t' -v OFS='\t' -v r="$round" '$1 == "RESULT" { $4 = r; print }' "$dir/results.tsv" >> "$OUT/$side.tsv"
  for f in "$dir"/master-*.log; do [[ -f $f ]] && cp "$f" "$OUT/master-$side-$round.log"; done
  if ((status != 0)); then
    log "bench.sh ($side, round $round) failed with status $status; see $OUT/bench-$side-$round.out"
    echo "round $round $side: bench.sh failed (status $status)" >> "$OUT/failures.txt"
  fi
  echo "round $round $side: done at $(date +%H:%M:%S), loadavg $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/load.txt"
}

[[ $PEER_CEILINGS == 1 ]] && setup_ideal
for round in $(seq 1 "$PEER_RUNS"); do
  log "round $round of $PEER_RUNS"
  [[ $PEER_CEILINGS == 1 ]] && ceilings "$round"
  for side in $PEER_SIDES; do
    log "round $round: $side"
    bench_side "$side" "$round"
  done
done

if [[ $PEER_OWN_WORKER == 1 ]]; then
  log "log ingest with Yardmaster's own worker"
  YM_REPO="$YM_REPO" "$REPO/bench/own-worker-logs.sh" "$SCRATCH" > "$OUT/own-worker.tsv"
fi

args=(--dir "$OUT")
[[ -n "$PEER_RESULTS" ]] && args+=(--out "$PEER_RESULTS")
node "$REPO/bench/peer-results.mjs" "${args[@]}"
log "done: $OUT${PEER_RESULTS:+ and $PEER_RESULTS}"
