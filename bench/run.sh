#!/usr/bin/env bash
# The authentication benchmark, in one command:  bench/run.sh
#
# Builds Release, starts the real server (bench/Dot.Api.BenchHost: the product as shipped plus the
# /bench routes) and a bare comparator (bench/Dot.Api.Bare: CreateSlimBuilder and one MapGet answering the same JSON,
# no product code) on loopback with throttling off and logging at Warning, drives them with wrk, and
# prints ONE table of medians over interleaved rounds, then the miss path at 1,000 vs 1,000,000
# tokens in the database and the server's peak RSS. See docs/benchmark.md.
#
# Settings (environment):
#   BENCH_ROUNDS          interleaved rounds; each row's figure is the median       (default 5)
#   BENCH_SECONDS         seconds per measurement (one row, one round)              (default 10)
#   BENCH_WARMUP_SECONDS  least warm-up in total, before anything is measured       (default 60)
#   BENCH_CONNECTIONS     wrk connections (one wrk thread)                          (default 32)
#   BENCH_PORT            first loopback port tried                                 (default 18080)
#   BENCH_BIG_TOKENS      tokens in the database for the second miss-path figure    (default 1000000)
#   BENCH_KEEP=1          keep the run directory (database, server log, token files)
#   BENCH_START_ROUNDS    rounds of the start-to-ready and CLI timings (published, ReadyToRun) (default 5)
#   BENCH_STORE=postgres  also measure the server on PostgreSQL (a throw-away cluster made with initdb in the
#                         run directory): hit, miss at 1,000 and BENCH_BIG_TOKENS tokens, with its own anonymous
#                         baseline interleaved, printed beside SQLite's figures in the same report
# Smoke run:  BENCH_ROUNDS=1 BENCH_SECONDS=2 BENCH_WARMUP_SECONDS=4 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

ROUNDS=${BENCH_ROUNDS:-5}
MEASURE_SECONDS=${BENCH_SECONDS:-10}
WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-60}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
PORT=${BENCH_PORT:-18080}
BIG_TOKENS=${BENCH_BIG_TOKENS:-1000000}
START_ROUNDS=${BENCH_START_ROUNDS:-5}
SMALL_TOKENS=1000
EMAIL=bench@example.com

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }
tail_word() { local words=($1); echo "${words[-1]}"; }

for n in ROUNDS MEASURE_SECONDS WARMUP_SECONDS CONNECTIONS PORT BIG_TOKENS START_ROUNDS; do
  [[ ${!n} =~ ^[0-9]+$ ]] && [ "${!n}" -gt 0 ] || die "$n must be a positive whole number (got '${!n}')"
done
[ "$BIG_TOKENS" -gt "$SMALL_TOKENS" ] || die "BENCH_BIG_TOKENS must be more than $SMALL_TOKENS"

STORE=${BENCH_STORE:-sqlite}
[ "$STORE" = sqlite ] || [ "$STORE" = postgres ] || die "BENCH_STORE must be sqlite or postgres (got '$STORE')"

# --- tools -----------------------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  log "== installing wrk (Debian package)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null 2>&1 || die "curl is needed"

# Server on one core, wrk on another, when there are two to pin to.
PIN_SERVER=()
PIN_WRK=()
PINNING="not pinned"
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  PIN_SERVER=(taskset -c 0)
  PIN_WRK=(taskset -c 1)
  PINNING="server on cpu 0, wrk on cpu 1"
fi

# --- build -----------------------------------------------------------------------------------------
log "== building Release"
dotnet build bench/Dot.Api.BenchHost -c Release -nologo -v q -clp:ErrorsOnly >&2
dotnet build bench/Dot.Api.Bare -c Release -nologo -v q -clp:ErrorsOnly >&2
HOST_DLL=$REPO/bench/Dot.Api.BenchHost/bin/Release/net10.0/Dot.Api.BenchHost.dll
BARE_DLL=$REPO/bench/Dot.Api.Bare/bin/Release/net10.0/Dot.Api.Bare.dll
LUA=$REPO/bench/wrk/bench.lua

# --- run directory, database, tokens ---------------------------------------------------------------
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dot-bench.XXXXXX")
SERVER_PID=""
BARE_PID=""
PG_STOP=""
cleanup() {
  if [ -n "$BARE_PID" ]; then kill -TERM "$BARE_PID" 2>/dev/null || true; wait "$BARE_PID" 2>/dev/null || true; fi
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$PG_STOP" ]; then (cd / && eval "$PG_STOP") >/dev/null 2>&1 || true; fi
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "run directory kept: $RUN_DIR"; else rm -rf "$RUN_DIR"; fi
}
trap cleanup EXIT
cd "$RUN_DIR"
export ASPNETCORE_ENVIRONMENT=Production
export ConnectionStrings__Dot="Data Source=$RUN_DIR/bench.db"

host() { dotnet "$HOST_DLL" "$@"; }

log "== database: a user, a token, $SMALL_TOKENS tokens in all"
host users add --email "$EMAIL" --role admin --name Bench >/dev/null
TOKEN=$(host tokens create --email "$EMAIL" --name bench --expires-in 30d)
host seed-tokens --count $((SMALL_TOKENS - 1)) --email "$EMAIL" >&2
# A user of their own for the database-backed row, with the three tokens a real user has (the bench user has a thousand).
host users add --email "lister@example.com" --role user --name Lister >/dev/null
LIST_TOKEN=$(host tokens create --email "lister@example.com" --name laptop --expires-in 30d)
host tokens create --email "lister@example.com" --name ci --expires-in 30d >/dev/null
host tokens create --email "lister@example.com" --name notebook --expires-in 30d >/dev/null
host gen-tokens --count 1000 --kind unknown >unknown.txt
host gen-tokens --count 1000 --kind malformed >malformed.txt

# --- start to ready, and one CLI command: the published server (ReadyToRun), beside the bare comparator --------
# Interleaved rounds, medians. "ready" is from exec until GET /healthz/live (the bare comparator's /me) answers,
# polled every 10 ms; the server opens the migrated database the rows below use. The CLI command is `users list`;
# its baseline is the bare comparator's `hello` (start the runtime, print, exit): the floor under any .NET command.
case "$(uname -m)" in x86_64) RID=linux-x64 ;; aarch64) RID=linux-arm64 ;; *) RID="" ;; esac
[ -n "$RID" ] || die "no runtime identifier for $(uname -m): cannot publish ReadyToRun"
log "== publishing the server (Release, $RID, ReadyToRun) for the start and CLI timings"
dotnet publish "$REPO/src/Dot.Api.Host" -c Release -r "$RID" --self-contained false -o "$RUN_DIR/publish" -nologo -v q -clp:ErrorsOnly >&2
PUB_DLL=$RUN_DIR/publish/Dot.Api.dll
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
time_command() {  # prints the milliseconds "$@" took; it must succeed
  local start end
  start=$(now_ms)
  "${PIN_SERVER[@]}" "$@" >/dev/null 2>&1 || die "failed: $*"
  end=$(now_ms)
  echo $((end - start))
}
time_ready() {  # URL COMMAND...: prints the milliseconds from exec until URL answers, then stops the process
  local url=$1 start end pid
  shift
  start=$(now_ms)
  "${PIN_SERVER[@]}" "$@" >/dev/null 2>&1 &
  pid=$!
  until curl -fs -o /dev/null "$url"; do
    kill -0 "$pid" 2>/dev/null || die "exited before it was ready: $*"
    [ $(( $(now_ms) - start )) -lt 60000 ] || die "not ready within 60 s: $*"
    sleep 0.01
  done
  end=$(now_ms)
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo $((end - start))
}
START_PORT=$((PORT + 50))
log "== timing start to ready and one CLI command: $START_ROUNDS rounds"
T_HELLO="" T_CLI="" T_BARE_READY="" T_READY=""
for round in $(seq 1 "$START_ROUNDS"); do
  T_HELLO+="$(time_command dotnet "$BARE_DLL" hello) "
  T_CLI+="$(time_command dotnet "$PUB_DLL" users list) "
  T_BARE_READY+="$(time_ready "http://127.0.0.1:$START_PORT/me" dotnet "$BARE_DLL" --urls "http://127.0.0.1:$START_PORT") "
  T_READY+="$(time_ready "http://127.0.0.1:$START_PORT/healthz/live" dotnet "$PUB_DLL" --urls "http://127.0.0.1:$START_PORT") "
  log "   round $round: hello $(tail_word "$T_HELLO") ms, users list $(tail_word "$T_CLI") ms, bare ready $(tail_word "$T_BARE_READY") ms, server ready $(tail_word "$T_READY") ms"
done

# --- server ----------------------------------------------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 20); do port_free "$PORT" && break; PORT=$((PORT + 1)); done
port_free "$PORT" || die "no free loopback port from ${BENCH_PORT:-18080}"
BASE=http://127.0.0.1:$PORT

log "== starting the server on $BASE ($PINNING)"
"${PIN_SERVER[@]}" dotnet "$HOST_DLL" --urls "$BASE" >server.log 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "$BASE/healthz/live" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat server.log >&2; die "the server exited"; }
  sleep 0.5
done
curl -fs -o /dev/null "$BASE/healthz/live" || { cat server.log >&2; die "the server did not answer within 60 s"; }

# The bare comparator: no product code, the same JSON as /api/auth/me, pinned where the server is (one of the two
# servers is idle at any time: the rows are measured one after another).
BARE_PORT=$((PORT + 1)); for _ in $(seq 1 20); do port_free "$BARE_PORT" && break; BARE_PORT=$((BARE_PORT + 1)); done
BARE=http://127.0.0.1:$BARE_PORT
"${PIN_SERVER[@]}" dotnet "$BARE_DLL" --urls "$BARE" >bare.log 2>&1 &
BARE_PID=$!
for _ in $(seq 1 60); do curl -fs -o /dev/null "$BARE/me" && break; sleep 0.5; done
curl -fs -o /dev/null "$BARE/me" || { cat bare.log >&2; die "the bare comparator did not answer"; }

# The /bench routes answering proves the hosting startup loaded; its settings must be in force.
STATS=$(curl -fs "$BASE/bench/stats") || die "GET /bench/stats failed: the bench hosting startup did not load"
[[ $STATS == *'"throttle_enabled":false'* ]] || die "throttling is on: $STATS"
[[ $STATS == *'"log_level":"Warning"'* ]] || die "logging is not at Warning: $STATS"

JWT=$(curl -fs "$BASE/bench/jwt/issue?email=$EMAIL") || die "could not get a JWT from /bench/jwt/issue"
USER_Q="user_id=${EMAIL/@/%40}"

# --- rows ------------------------------------------------------------------------------------------
# name | path | header (static) | tokens file | header for the file | expected status
ROWS=(bare live anon hit tokens query jwt unknown malformed)
declare -A LABEL PATH_OF HEADER FILE FILE_HEADER STATUS BASE_OF STATS_OF
LABEL[bare]="bare minimal API";         PATH_OF[bare]="/me";                                      STATUS[bare]=200
BASE_OF[bare]=$BARE;                    STATS_OF[bare]=$BARE/stats
LABEL[live]="product, no credential";  PATH_OF[live]="/healthz/live";                           STATUS[live]=200
LABEL[anon]="anonymous baseline";       PATH_OF[anon]="/bench/anonymous";                         STATUS[anon]=200
LABEL[hit]="API-KEY (cache hit)";       PATH_OF[hit]="/api/auth/me";                              STATUS[hit]=200
HEADER[hit]="API-KEY: $TOKEN"
# A database-backed endpoint with a valid token: what the cheap token check is worth on a real route (#26).
LABEL[tokens]="GET /api/tokens (3, DB)";   PATH_OF[tokens]="/api/tokens";                            STATUS[tokens]=200
HEADER[tokens]="API-KEY: $LIST_TOKEN"
LABEL[query]="URL token";               PATH_OF[query]="/bench/query/me?$USER_Q&api_token=$TOKEN"; STATUS[query]=200
LABEL[jwt]="JwtBearer HS256";           PATH_OF[jwt]="/bench/jwt/me";                             STATUS[jwt]=200
HEADER[jwt]="Authorization: Bearer $JWT"
LABEL[unknown]="unknown token (miss)";  PATH_OF[unknown]="/api/auth/me";                          STATUS[unknown]=401
FILE[unknown]=$RUN_DIR/unknown.txt;     FILE_HEADER[unknown]="API-KEY"
LABEL[malformed]="malformed token";     PATH_OF[malformed]="/api/auth/me";                        STATUS[malformed]=401
FILE[malformed]=$RUN_DIR/malformed.txt; FILE_HEADER[malformed]="API-KEY"

# What the route answers to curl with the row's first credential: the status must be the row's.
probe() {
  local row=$1 args=()
  if [ -n "${HEADER[$row]:-}" ]; then args=(-H "${HEADER[$row]}"); fi
  if [ -n "${FILE[$row]:-}" ]; then args=(-H "${FILE_HEADER[$row]}: $(head -n 1 "${FILE[$row]}")"); fi
  local code
  code=$(curl -s -o "probe-$row.json" -w '%{http_code}' "${args[@]}" "${BASE_OF[$row]:-$BASE}${PATH_OF[$row]}")
  [ "$code" = "${STATUS[$row]}" ] || die "${LABEL[$row]}: GET ${PATH_OF[$row]%%\?*} answered $code, expected ${STATUS[$row]}: $(cat "probe-$row.json")"
}

# One wrk run of a row for $2 seconds. Sets RPS, P50_US, P99_US, REQUESTS, UNEXPECTED, ALLOC_PER_REQ.
measure() {
  local row=$1 secs=$2 args=() before after out line
  if [ -n "${HEADER[$row]:-}" ]; then args+=(-H "${HEADER[$row]}"); fi
  before=$(allocated "${STATS_OF[$row]:-}")
  out=$("${PIN_WRK[@]}" wrk -t1 -c"$CONNECTIONS" -d"${secs}s" --timeout 5s -s "$LUA" "${args[@]}" \
    "${BASE_OF[$row]:-$BASE}${PATH_OF[$row]}" -- "${FILE[$row]:-}" "${FILE_HEADER[$row]:-}" 2>&1) || die "wrk failed: $out"
  after=$(allocated "${STATS_OF[$row]:-}")
  line=$(grep '^WRK_RESULT' <<<"$out") || die "wrk printed no result: $out"
  field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
  REQUESTS=$(field requests)
  local duration non2xx socket
  duration=$(field duration_us); non2xx=$(field non2xx); socket=$(field socket_errors)
  P50_US=$(field p50_us); P99_US=$(field p99_us)
  RPS=$(awk -v r="$REQUESTS" -v d="$duration" 'BEGIN { printf "%.1f", (d > 0 ? r * 1e6 / d : 0) }')
  # Every answer must have the row's status: non-2xx counts all of them on a 401 row, none on a 200 row.
  if [ "${STATUS[$row]}" = 200 ]; then UNEXPECTED=$((non2xx + socket)); else UNEXPECTED=$((REQUESTS - non2xx + socket)); fi
  ALLOC_PER_REQ=$(awk -v a="$before" -v b="$after" -v r="$REQUESTS" 'BEGIN { printf "%.0f", (r > 0 ? (b - a) / r : 0) }')
}

# One field of a stats answer (the server's /bench/stats or the bare comparator's /stats): stat URL FIELD.
stat() { curl -fs "$1" | sed -n "s/.*\"$2\":\([0-9a-z]*\).*/\1/p"; }
allocated() { stat "${1:-$BASE/bench/stats}" allocated_bytes; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
peak_rss_mb() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/${1:-$SERVER_PID}/status"; }
gc_committed_mb() { stat "$1" gc_committed_bytes | awk '{ printf "%.0f", $1 / 1048576 }'; }

for row in "${ROWS[@]}"; do probe "$row"; done

# --- warm-up: every row in turn, until the total is reached and each row's last two windows agree --
warm_up() {
  local rows=("$@") window total=0 limit settled
  window=$((WARMUP_SECONDS / ${#rows[@]}))
  [ "$window" -ge 1 ] || window=1
  [ "$window" -le 5 ] || window=5
  limit=$((3 * WARMUP_SECONDS))
  declare -A previous=()
  log "== warming up: ${window} s windows, at least ${WARMUP_SECONDS} s, until each row's last two windows are within 5%"
  while :; do
    settled=1
    local summary=""
    for row in "${rows[@]}"; do
      measure "$row" "$window"
      total=$((total + window))
      summary+=" $row=${RPS%.*}"
      if [ -z "${previous[$row]:-}" ] || ! awk -v a="$RPS" -v b="${previous[$row]}" 'BEGIN { exit !(b > 0 && (a - b) / b <= 0.05 && (b - a) / b <= 0.05) }'; then
        settled=0
      fi
      previous[$row]=$RPS
    done
    log "   ${total} s:${summary}"
    if [ "$total" -ge "$WARMUP_SECONDS" ] && [ "$settled" = 1 ]; then break; fi
    if [ "$total" -ge "$limit" ]; then log "   (not settled within ${limit} s; measuring anyway)"; break; fi
  done
}

warm_up "${ROWS[@]}"

# --- measurement: interleaved rounds -----------------------------------------------------------------
declare -A RPS_OF P50_OF P99_OF ALLOC_OF BAD_OF
log "== measuring: $ROUNDS rounds x ${#ROWS[@]} rows x ${MEASURE_SECONDS} s"
GC0_BEFORE=$(stat "$BASE/bench/stats" gen0_collections); PAUSE_BEFORE=$(stat "$BASE/bench/stats" gc_pause_microseconds); ROUNDS_START=$(date +%s%N)
for round in $(seq 1 "$ROUNDS"); do
  summary=""
  for row in "${ROWS[@]}"; do
    measure "$row" "$MEASURE_SECONDS"
    RPS_OF[$row]+="$RPS "; P50_OF[$row]+="$P50_US "; P99_OF[$row]+="$P99_US "; ALLOC_OF[$row]+="$ALLOC_PER_REQ "
    BAD_OF[$row]=$(( ${BAD_OF[$row]:-0} + UNEXPECTED ))
    summary+=" $row=${RPS%.*}"
  done
  log "   round $round:${summary}"
done
ROUNDS_END=$(date +%s%N); GC0_AFTER=$(stat "$BASE/bench/stats" gen0_collections); PAUSE_AFTER=$(stat "$BASE/bench/stats" gc_pause_microseconds)
PEAK_MAIN=$(peak_rss_mb)
PEAK_BARE=$(peak_rss_mb "$BARE_PID")
GC_BARE=$(gc_committed_mb "$BARE/stats")
GC_MODE_BARE=$(stat "$BARE/stats" server_gc)

med() { tr ' ' '\n' <<<"$1" | grep . | median; }
declare -A M_RPS M_P50 M_P99 M_ALLOC
for row in "${ROWS[@]}"; do
  M_RPS[$row]=$(med "${RPS_OF[$row]}"); M_P50[$row]=$(med "${P50_OF[$row]}")
  M_P99[$row]=$(med "${P99_OF[$row]}"); M_ALLOC[$row]=$(med "${ALLOC_OF[$row]}")
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# --- miss path with a big table ------------------------------------------------------------------------
log "== seeding the database to $BIG_TOKENS tokens (the server keeps running)"
"${PIN_WRK[@]}" dotnet "$HOST_DLL" seed-tokens --count $((BIG_TOKENS - SMALL_TOKENS)) --email "$EMAIL" >&2
BIG_WARMUP=$((WARMUP_SECONDS / 4)); [ "$BIG_WARMUP" -ge 2 ] || BIG_WARMUP=2
measure unknown "$BIG_WARMUP"
log "== measuring the miss path with $BIG_TOKENS tokens: $ROUNDS rounds (anonymous interleaved, to show drift)"
BIG_RPS="" BIG_ANON="" BIG_BAD=0
for round in $(seq 1 "$ROUNDS"); do
  measure unknown "$MEASURE_SECONDS"; BIG_RPS+="$RPS "; BIG_BAD=$((BIG_BAD + UNEXPECTED))
  measure anon "$MEASURE_SECONDS"; BIG_ANON+="$RPS "
done
M_BIG=$(med "$BIG_RPS")
M_BIG_ANON=$(med "$BIG_ANON")
PEAK_ALL=$(peak_rss_mb)
GC_ALL=$(gc_committed_mb "$BASE/bench/stats")
GC_MODE=$(stat "$BASE/bench/stats" server_gc)

# --- export -----------------------------------------------------------------------------------------
# GET /api/export_history?format=ndjson over the default window, at EXPORT_MESSAGES and twice that:
# the time, and how far the server's RSS rises above where it stood before (sampled every 0.1 s).
EXPORT_MESSAGES=${BENCH_EXPORT_MESSAGES:-1000000}
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
export_once() {  # prints "seconds peak_rise_mb bytes"
  local before peak now start end bytes sampler_out
  before=$(rss_mb)
  sampler_out=$(mktemp)
  ( peak=$before; while kill -0 "$SERVER_PID" 2>/dev/null; do now=$(rss_mb); [ "$now" -gt "$peak" ] && peak=$now; echo "$peak" > "$sampler_out"; sleep 0.1; done ) &
  local sampler=$!
  start=$(date +%s.%N)
  bytes=$("${PIN_WRK[@]}" curl -fsS -o /dev/null -w '%{size_download}' -H "API-KEY: $TOKEN" "$BASE/api/export_history?format=ndjson")
  end=$(date +%s.%N)
  sleep 0.3
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  peak=$(cat "$sampler_out"); rm -f "$sampler_out"
  awk -v s="$start" -v e="$end" -v p="$peak" -v b="$before" -v n="$bytes" 'BEGIN { printf "%.1f %d %d\n", e - s, p - b, n }'
}
log "== export: seeding $EXPORT_MESSAGES messages"
"${PIN_WRK[@]}" dotnet "$HOST_DLL" seed-messages --count "$EXPORT_MESSAGES" >&2
curl -fsS -o /dev/null -H "API-KEY: $TOKEN" "$BASE/api/export_history?format=ndjson&start_date=2000-01-01&end_date=2000-01-02"  # warm the route
read -r EXPORT_T1 EXPORT_RISE1 EXPORT_BYTES1 < <(export_once)
log "== export: seeding $EXPORT_MESSAGES more"
"${PIN_WRK[@]}" dotnet "$HOST_DLL" seed-messages --count "$EXPORT_MESSAGES" >&2
read -r EXPORT_T2 EXPORT_RISE2 EXPORT_BYTES2 < <(export_once)
EXPORT_NOTE=$(printf '%s messages: %s s, %s MB, RSS +%s MB; %s messages: %s s, %s MB, RSS +%s MB; time ratio %s' \
  "$EXPORT_MESSAGES" "$EXPORT_T1" "$((EXPORT_BYTES1 / 1048576))" "$EXPORT_RISE1" \
  "$((EXPORT_MESSAGES * 2))" "$EXPORT_T2" "$((EXPORT_BYTES2 / 1048576))" "$EXPORT_RISE2" "$(ratio "$EXPORT_T2" "$EXPORT_T1")")

# --- PostgreSQL (BENCH_STORE=postgres) -------------------------------------------------------------------
# The same server on a throw-away PostgreSQL cluster: the SQLite server is stopped first, PostgreSQL's own
# processes share wrk's core. Rows: anonymous (this store's baseline, interleaved), hit, miss at 1,000 tokens,
# then miss at BENCH_BIG_TOKENS.
if [ "$STORE" = postgres ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$PG_BIN/initdb" ] || die "BENCH_STORE=postgres needs PostgreSQL's server binaries (apt-get install postgresql)"
  kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
  # Its own directory, outside the 0700 run directory: under root the cluster runs as the postgres user.
  PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dot-bench-pg.XXXXXX")
  as_pg=()
  if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); chown postgres "$PG_DIR"; fi
  PG_PASSWORD=bench-$RANDOM$RANDOM
  echo "$PG_PASSWORD" >"$PG_DIR/pw"; [ ${#as_pg[@]} -eq 0 ] || chown postgres "$PG_DIR/pw"
  PG_PORT=$((PORT + 100)); for _ in $(seq 1 20); do port_free "$PG_PORT" && break; PG_PORT=$((PG_PORT + 1)); done
  log "== PostgreSQL: initdb and start on 127.0.0.1:$PG_PORT"
  cd "$PG_DIR"
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U bench --pwfile="$PG_DIR/pw" --auth=scram-sha-256 -E UTF8 --locale=C >/dev/null
  "${PIN_WRK[@]}" "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" start >/dev/null
  rm -f "$PG_DIR/pw"
  cd "$RUN_DIR"
  PG_STOP="${as_pg[*]} $PG_BIN/pg_ctl -D $PG_DIR/data -m fast stop; rm -rf $PG_DIR"
  export Dot__Database__Provider=postgres
  export ConnectionStrings__Dot="Host=127.0.0.1;Port=$PG_PORT;Username=bench;Password=$PG_PASSWORD;Database=dot"
  PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U bench -d postgres -qc "CREATE DATABASE dot" >/dev/null
  host users add --email "$EMAIL" --role admin --name Bench >/dev/null
  PG_TOKEN=$(host tokens create --email "$EMAIL" --name bench --expires-in 30d)
  host seed-tokens --count $((SMALL_TOKENS - 1)) --email "$EMAIL" >&2
# A user of their own for the database-backed row, with the three tokens a real user has (the bench user has a thousand).
host users add --email "lister@example.com" --role user --name Lister >/dev/null
LIST_TOKEN=$(host tokens create --email "lister@example.com" --name laptop --expires-in 30d)
host tokens create --email "lister@example.com" --name ci --expires-in 30d >/dev/null
host tokens create --email "lister@example.com" --name notebook --expires-in 30d >/dev/null
  "${PIN_SERVER[@]}" dotnet "$HOST_DLL" --urls "$BASE" >server-pg.log 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    curl -fs -o /dev/null "$BASE/healthz/live" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat server-pg.log >&2; die "the PostgreSQL server exited"; }
    sleep 0.5
  done
  HEADER[hit]="API-KEY: $PG_TOKEN"
  PG_ROWS=(anon hit unknown)
  for row in "${PG_ROWS[@]}"; do probe "$row"; done
  warm_up "${PG_ROWS[@]}"
  declare -A PG_RPS_OF PG_ALLOC_OF PG_BAD_OF
  log "== measuring on PostgreSQL: $ROUNDS rounds x ${#PG_ROWS[@]} rows x ${MEASURE_SECONDS} s"
  for round in $(seq 1 "$ROUNDS"); do
    summary=""
    for row in "${PG_ROWS[@]}"; do
      measure "$row" "$MEASURE_SECONDS"
      PG_RPS_OF[$row]+="$RPS "; PG_ALLOC_OF[$row]+="$ALLOC_PER_REQ "
      PG_BAD_OF[$row]=$(( ${PG_BAD_OF[$row]:-0} + UNEXPECTED ))
      summary+=" $row=${RPS%.*}"
    done
    log "   round $round:${summary}"
  done
  log "== seeding PostgreSQL to $BIG_TOKENS tokens (the server keeps running)"
  "${PIN_WRK[@]}" dotnet "$HOST_DLL" seed-tokens --count $((BIG_TOKENS - SMALL_TOKENS)) --email "$EMAIL" >&2
  measure unknown "$BIG_WARMUP"
  PG_BIG_RPS="" PG_BIG_ANON="" PG_BIG_BAD=0
  for round in $(seq 1 "$ROUNDS"); do
    measure unknown "$MEASURE_SECONDS"; PG_BIG_RPS+="$RPS "; PG_BIG_BAD=$((PG_BIG_BAD + UNEXPECTED))
    measure anon "$MEASURE_SECONDS"; PG_BIG_ANON+="$RPS "
  done
  PG_PEAK=$(peak_rss_mb)
fi

# --- report ------------------------------------------------------------------------------------------
ms() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'; }
anon=${M_RPS[anon]}

echo
echo "Dot API authentication benchmark: medians of $ROUNDS interleaved rounds x ${MEASURE_SECONDS} s, wrk -t1 -c$CONNECTIONS, $PINNING"
echo "($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
bare=${M_RPS[bare]}
printf '| %-22s | %-36s | %9s | %7s | %7s | %7s | %7s | %7s | %-6s |\n' row route "req/s" "p50 ms" "p99 ms" "x bare" "x anon" "B/req" status
echo "|------------------------|--------------------------------------|----------:|--------:|--------:|--------:|--------:|--------:|--------|"
for row in "${ROWS[@]}"; do
  route=${PATH_OF[$row]%%\?*}
  [ "$row" = query ] && route="$route?user_id&api_token"
  status=${STATUS[$row]}
  [ "${BAD_OF[$row]}" = 0 ] || status="$status!${BAD_OF[$row]}"
  printf '| %-22s | %-36s | %9.0f | %7s | %7s | %7s | %7s | %7s | %-6s |\n' "${LABEL[$row]}" "$route" "${M_RPS[$row]}" \
    "$(ms "${M_P50[$row]}")" "$(ms "${M_P99[$row]}")" "$(ratio "${M_RPS[$row]}" "$bare")" "$(ratio "${M_RPS[$row]}" "$anon")" "${M_ALLOC[$row]}" "$status"
done
echo
miss_ratio=$(ratio "$M_BIG" "${M_RPS[unknown]}")
printf 'miss path, %s tokens in the database:   %9.0f req/s (the "unknown token" row)\n' "$SMALL_TOKENS" "${M_RPS[unknown]}"
printf 'miss path, %s tokens in the database: %9.0f req/s  = %s x  (anonymous meanwhile: %.0f req/s, %s x the table'"'"'s)\n' \
  "$BIG_TOKENS" "$M_BIG" "$miss_ratio" "$M_BIG_ANON" "$(ratio "$M_BIG_ANON" "$anon")"
# The two miss-path figures are minutes apart: if the baseline moved meanwhile, the machine did.
drift=$(ratio "$M_BIG_ANON" "$anon")
corrected=$(awk -v big="$M_BIG" -v bigAnon="$M_BIG_ANON" -v small="${M_RPS[unknown]}" -v anon="$anon" \
  'BEGIN { printf "%.2f", (bigAnon > 0 && small > 0 ? (big / bigAnon) / (small / anon) : 0) }')
if awk -v d="$drift" 'BEGIN { exit !(d < 0.9 || d > 1.1) }'; then
  echo "  !! the baseline moved by more than 10% between the two figures: the machine is not quiet."
  echo "     Relative to the baseline measured beside each: $corrected x. Rerun on a quiet machine."
fi
[ "$BIG_BAD" = 0 ] || echo "  !! $BIG_BAD answers of the big-table miss path were not 401"
echo "server peak RSS (VmHWM): ${PEAK_MAIN} MB after the table, ${PEAK_ALL} MB at the end (GC committed ${GC_ALL} MB);" \
  "bare comparator ${PEAK_BARE} MB (GC committed ${GC_BARE} MB)"
# The GC sizes its youngest generation from the cache size the machine reports (a VM may report hundreds of MB of L3):
# most of what either process adds under load. docs/benchmark.md, "Memory".
gc_env=$(env | grep -E '^(DOTNET|COMPlus)_(GC|gc)' | sort | tr '\n' ' ' || true)
gc_pause_share=$(awk -v p=$((PAUSE_AFTER - PAUSE_BEFORE)) -v t=$(((ROUNDS_END - ROUNDS_START) / 1000)) 'BEGIN { printf "%.2f", (t > 0 ? 100 * p / t : 0) }')
echo "GC during the measured rounds: $((GC0_AFTER - GC0_BEFORE)) gen0 collections, paused $(((PAUSE_AFTER - PAUSE_BEFORE) / 1000)) ms (${gc_pause_share} % of the time; the bare comparator's row included)"
echo "GC: server GC ${GC_MODE} (bare: ${GC_MODE_BARE}), L3 $(lscpu 2>/dev/null | sed -n 's/^L3 cache: *//p' | head -n 1), settings from the environment: ${gc_env:-none}"
echo "export: $EXPORT_NOTE"
echo
M_HELLO=$(med "$T_HELLO"); M_CLI=$(med "$T_CLI"); M_BARE_READY=$(med "$T_BARE_READY"); M_READY=$(med "$T_READY")
echo "start and CLI, published ReadyToRun ($RID), medians of $START_ROUNDS rounds, on cpu 0:"
printf '  %-52s %6s ms   (bare comparator: %s ms)\n' "start to ready (exec until GET /healthz/live answers)" "$M_READY" "$M_BARE_READY" \
  "one CLI command (users list)" "$M_CLI" "$M_HELLO"
echo
echo "targets (issue #15: ratios to the bare comparator measured in the same rounds):"
ok_at_least() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 >= t + 0 ? "ok" : "BELOW") }'; }
ok_at_most() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 <= t + 0 ? "ok" : "ABOVE") }'; }
x_bare() { ratio "${M_RPS[$1]}" "$bare"; }
hit_anon=$(ratio "${M_RPS[hit]}" "$anon")
hit_extra=$(( ${M_ALLOC[hit]%.*} - ${M_ALLOC[anon]%.*} ))
start_s=$(awk -v m="$M_READY" 'BEGIN { printf "%.2f", m / 1000 }'); cli_s=$(awk -v m="$M_CLI" 'BEGIN { printf "%.2f", m / 1000 }')
printf '  %-52s %7s  %s\n' \
  "anonymous request >= 0.85 x bare" "$(x_bare anon)" "$(ok_at_least "$(x_bare anon)" 0.85)" \
  "anonymous request >= 0.95 x bare (#26 guard)" "$(x_bare anon)" "$(ok_at_least "$(x_bare anon)" 0.95)" \
  "API-KEY cache hit >= 0.90 x bare (#26 guard)" "$(x_bare hit)" "$(ok_at_least "$(x_bare hit)" 0.90)" \
  "  (GET /api/tokens with a valid token, for reference)" "$(x_bare tokens)" "-" \
  "  (the product's /healthz/live, for reference)" "$(x_bare live)" "-" \
  "API-KEY cache hit >= 0.80 x bare" "$(x_bare hit)" "$(ok_at_least "$(x_bare hit)" 0.80)" \
  "API-KEY cache hit >= 0.95 x anonymous" "$hit_anon" "$(ok_at_least "$hit_anon" 0.95)" \
  "URL token >= 0.75 x bare" "$(x_bare query)" "$(ok_at_least "$(x_bare query)" 0.75)" \
  "malformed token >= 0.80 x bare" "$(x_bare malformed)" "$(ok_at_least "$(x_bare malformed)" 0.80)" \
  "unknown token (miss) >= 0.50 x bare (SQLite)" "$(x_bare unknown)" "$(ok_at_least "$(x_bare unknown)" 0.50)" \
  "a hit allocates <= 512 B more than anonymous" "$hit_extra" "$(ok_at_most "$hit_extra" 512)" \
  "start to ready <= 1.5 s (published)" "$start_s" "$(ok_at_most "$start_s" 1.5)" \
  "one CLI command <= 0.8 s (published)" "$cli_s" "$(ok_at_most "$cli_s" 0.8)" \
  "peak RSS <= 200 MB" "$PEAK_ALL" "$(ok_at_most "$PEAK_ALL" 200)"
echo "earlier targets, still held:"
hit_jwt=$(ratio "${M_RPS[hit]}" "${M_RPS[jwt]}")
printf '  %-52s %7s  %s\n' \
  "API-KEY cache hit >= 1.2 x JwtBearer" "$hit_jwt" "$(ok_at_least "$hit_jwt" 1.2)" \
  "miss path at ${BIG_TOKENS} >= 0.8 x at ${SMALL_TOKENS}" "$miss_ratio" "$(ok_at_least "$miss_ratio" 0.8)" \
  "export ${EXPORT_MESSAGES} raises RSS < 100 MB" "$EXPORT_RISE1" "$(awk -v v="$EXPORT_RISE1" 'BEGIN { print (v < 100 ? "ok" : "ABOVE") }')"
export_ratio=$(ratio "$EXPORT_T2" "$EXPORT_T1")
printf '  %-52s %7s  %s\n' "export of twice the messages <= 2.2 x time" "$export_ratio" "$(ok_at_most "$export_ratio" 2.2)"

if [ "$STORE" = postgres ]; then
  pg_anon=$(med "${PG_RPS_OF[anon]}")
  echo
  echo "PostgreSQL beside SQLite (same run; each store's rows against its own anonymous baseline, measured interleaved):"
  printf '| %-30s | %12s | %7s | %14s | %7s | %7s |\n' row "SQLite req/s" "x anon" "PostgreSQL req/s" "x anon" "B/req"
  echo "|--------------------------------|-------------:|--------:|-----------------:|--------:|--------:|"
  for row in "${PG_ROWS[@]}"; do
    pg_rps=$(med "${PG_RPS_OF[$row]}")
    status=""; [ "${PG_BAD_OF[$row]}" = 0 ] || status=" (!${PG_BAD_OF[$row]} unexpected)"
    printf '| %-30s | %12.0f | %7s | %16.0f | %7s | %7s |%s\n' "${LABEL[$row]}" "${M_RPS[$row]}" "$(ratio "${M_RPS[$row]}" "$anon")" \
      "$pg_rps" "$(ratio "$pg_rps" "$pg_anon")" "$(med "${PG_ALLOC_OF[$row]}")" "$status"
  done
  pg_big=$(med "$PG_BIG_RPS"); pg_big_anon=$(med "$PG_BIG_ANON")
  printf '| %-30s | %12.0f | %7s | %16.0f | %7s | %7s |\n' "miss, ${BIG_TOKENS} tokens" "$M_BIG" "$(ratio "$M_BIG" "$M_BIG_ANON")" \
    "$pg_big" "$(ratio "$pg_big" "$pg_big_anon")" "-"
  pg_miss_ratio=$(ratio "$pg_big" "$(med "${PG_RPS_OF[unknown]}")")
  echo "PostgreSQL miss path at ${BIG_TOKENS} = ${pg_miss_ratio} x at ${SMALL_TOKENS}; server peak RSS on PostgreSQL ${PG_PEAK} MB"
  echo "PostgreSQL unknown token (miss), reported (issue #15): $(ratio "$(med "${PG_RPS_OF[unknown]}")" "$bare") x bare (the bare comparator of the SQLite rows), $(ratio "$(med "${PG_RPS_OF[unknown]}")" "$pg_anon") x its own anonymous"
  [ "$PG_BIG_BAD" = 0 ] || echo "  !! $PG_BIG_BAD answers of PostgreSQL's big-table miss path were not 401"
fi
