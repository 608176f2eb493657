#!/usr/bin/env bash
# Where a request's time goes, layer by layer:  bench/profile.sh [ROW ...]     (default: bare healthz anon hit)
#
# Starts the bench host (the product plus /bench routes, as bench/run.sh does) and the bare comparator on loopback,
# pinned to cpu 0 with wrk on cpu 1, warms each row up, then for each row runs wrk while `dotnet-trace collect
# --profile dotnet-sampled-thread-time` samples the server's threads, and `dotnet-counters collect` reads the
# runtime's and ASP.NET Core's counters. bench/profile/layers.py attributes every busy sample to the deepest layer on
# its stack (Kestrel, hosting, each middleware, authentication, authorization, routing, endpoint, serialization) and
# prints each layer's share and CPU microseconds per request. See docs/benchmark.md, "Where the time goes".
#
# Rows: bare (the bare comparator's /me), healthz (GET /healthz/live), anon (GET /bench/anonymous),
#       hit (GET /api/auth/me with API-KEY), query (the URL token), malformed, unknown.
# Settings: PROFILE_SECONDS (trace length, default 10), PROFILE_WARMUP_SECONDS (per row, default 20),
#           BENCH_CONNECTIONS (32), BENCH_PORT (18180), PROFILE_KEEP=1 keeps the traces and prints where.
# Needs dotnet-trace and dotnet-counters (installed with `dotnet tool install -g` when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PATH="$PATH:$HOME/.dotnet/tools"
SECONDS_TRACE=${PROFILE_SECONDS:-10}
WARMUP=${PROFILE_WARMUP_SECONDS:-20}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18180}
ROWS=("$@"); [ ${#ROWS[@]} -gt 0 ] || ROWS=(bare healthz anon hit)
log() { printf '%s\n' "$*" >&2; }
die() { log "profile: $*"; exit 1; }

for tool in dotnet-trace dotnet-counters; do
  command -v "$tool" >/dev/null 2>&1 || { log "== installing $tool"; dotnet tool install -g "$tool" >&2; }
done
command -v wrk >/dev/null 2>&1 || die "wrk is needed (bench/run.sh installs it, or apt-get install wrk)"
PIN_SERVER=(); PIN_WRK=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then PIN_SERVER=(taskset -c 0); PIN_WRK=(taskset -c 1); fi

log "== building Release"
dotnet build bench/Dot.Api.BenchHost -c Release -nologo -v q -clp:ErrorsOnly >&2
dotnet build bench/Dot.Api.Bare -c Release -nologo -v q -clp:ErrorsOnly >&2
HOST_DLL=$REPO/bench/Dot.Api.BenchHost/bin/Release/net10.0/Dot.Api.BenchHost.dll
BARE_DLL=$REPO/bench/Dot.Api.Bare/bin/Release/net10.0/Dot.Api.Bare.dll

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dot-profile.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  if [ "${PROFILE_KEEP:-0}" = 1 ]; then log "traces kept in $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
}
trap cleanup EXIT
cd "$RUN_DIR"
export ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__Dot="Data Source=$RUN_DIR/profile.db"
dotnet "$HOST_DLL" users add --email profile@example.com --role admin --name Profile >/dev/null
TOKEN=$(dotnet "$HOST_DLL" tokens create --email profile@example.com --name profile --expires-in 30d)
dotnet "$HOST_DLL" gen-tokens --count 1000 --kind unknown >unknown.txt
dotnet "$HOST_DLL" gen-tokens --count 1000 --kind malformed >malformed.txt

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() { local p=$1; for _ in $(seq 1 20); do port_free "$p" && { echo "$p"; return; }; p=$((p + 1)); done; die "no free port from $1"; }
PORT=$(free_port "$PORT"); BASE=http://127.0.0.1:$PORT
"${PIN_SERVER[@]}" dotnet "$HOST_DLL" --urls "$BASE" >server.log 2>&1 & SERVER_PID=$!; PIDS+=("$SERVER_PID")
BARE_PORT=$(free_port $((PORT + 1))); BARE=http://127.0.0.1:$BARE_PORT
"${PIN_SERVER[@]}" dotnet "$BARE_DLL" --urls "$BARE" >bare.log 2>&1 & BARE_PID=$!; PIDS+=("$BARE_PID")
for _ in $(seq 1 120); do curl -fs -o /dev/null "$BASE/healthz/live" && curl -fs -o /dev/null "$BARE/me" && break; sleep 0.5; done
curl -fs -o /dev/null "$BASE/healthz/live" || { cat server.log >&2; die "the server did not start"; }

declare -A URL HDR FILE PID_OF STATS
for row in bare healthz anon hit query malformed unknown; do PID_OF[$row]=$SERVER_PID; STATS[$row]=$BASE/bench/stats; done
URL[bare]=$BARE/me; PID_OF[bare]=$BARE_PID; STATS[bare]=$BARE/stats
URL[healthz]=$BASE/healthz/live
URL[anon]=$BASE/bench/anonymous
URL[hit]=$BASE/api/auth/me; HDR[hit]="API-KEY: $TOKEN"
URL[query]="$BASE/bench/query/me?user_id=profile%40example.com&api_token=$TOKEN"
URL[malformed]=$BASE/api/auth/me; FILE[malformed]=$RUN_DIR/malformed.txt
URL[unknown]=$BASE/api/auth/me; FILE[unknown]=$RUN_DIR/unknown.txt

run_wrk() {  # row seconds -> prints the request count
  local row=$1 args=()
  [ -z "${HDR[$row]:-}" ] || args=(-H "${HDR[$row]}")
  "${PIN_WRK[@]}" wrk -t1 -c"$CONNECTIONS" -d"$2s" --timeout 5s -s "$REPO/bench/wrk/bench.lua" "${args[@]}" "${URL[$row]}" \
    -- "${FILE[$row]:-}" "${FILE[$row]:+API-KEY}" | sed -n 's/^WRK_RESULT.* requests=\([0-9]*\).*/\1/p'
}
allocated() { curl -fs "$1" | sed -n 's/.*"allocated_bytes":\([0-9]*\).*/\1/p'; }

for row in "${ROWS[@]}"; do
  [ -n "${URL[$row]:-}" ] || die "unknown row '$row' (bare healthz anon hit query malformed unknown)"
  log "== $row: warming up ${WARMUP} s"
  run_wrk "$row" "$WARMUP" >/dev/null
  log "== $row: tracing ${SECONDS_TRACE} s under load"
  before=$(allocated "${STATS[$row]}")
  run_wrk "$row" $((SECONDS_TRACE + 4)) >"$row.requests" &
  WRK_PID=$!
  sleep 2
  dotnet-trace collect -p "${PID_OF[$row]}" --profile dotnet-sampled-thread-time --duration "00:00:00:$(printf '%02d' "$SECONDS_TRACE")" \
    -o "$row.nettrace" >"$row.trace.log" 2>&1 || { cat "$row.trace.log" >&2; die "dotnet-trace failed"; }
  wait "$WRK_PID"
  after=$(allocated "${STATS[$row]}")
  requests=$(cat "$row.requests")
  # Requests during the trace: the wrk run's rate times the trace's length (the trace starts 2 s in, ends 2 s early).
  traced=$(awk -v r="$requests" -v s="$SECONDS_TRACE" 'BEGIN { printf "%.0f", r * s / (s + 4) }')
  log "== $row: counters over ${SECONDS_TRACE} s"
  run_wrk "$row" $((SECONDS_TRACE + 2)) >"$row.counted" &
  WRK_PID=$!
  sleep 1
  dotnet-counters collect -p "${PID_OF[$row]}" --format csv -o "$row.counters.csv" --duration "00:00:00:$(printf '%02d' "$SECONDS_TRACE")" \
    --counters System.Runtime,Microsoft.AspNetCore.Hosting >/dev/null 2>&1 || true
  wait "$WRK_PID"
  dotnet-trace convert --format speedscope "$row.nettrace" -o "$row" >/dev/null 2>&1 \
    || die "dotnet-trace convert failed for $row"
  echo
  echo "## $row: ${URL[$row]%%\?*}  ($(awk -v r="$requests" -v s=$((SECONDS_TRACE + 4)) 'BEGIN { printf "%.0f", r / s }') req/s under the trace;" \
    "$(awk -v a="$before" -v b="$after" -v r="$requests" 'BEGIN { printf "%.0f", (b - a) / r }') B/req)"
  python3 "$REPO/bench/profile/layers.py" "$row.speedscope.json" "$traced"
  python3 "$REPO/bench/profile/layers.py" --counters "$row.counters.csv" \
    "$(awk -v r="$(cat "$row.counted")" -v s=$((SECONDS_TRACE + 2)) 'BEGIN { printf "%.0f", r / s }')"
done
