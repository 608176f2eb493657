#!/usr/bin/env bash
# Where one row's CPU goes, without a sampler's bias:  bench/cpu-profile.sh ROW [ROW …]
#
# For each ROW, makes a throw-away database with a user and a token (the product's own CLI), runs the in-memory
# pipeline measurement (Dot.Api.BenchHost pipeline, docs/benchmark.md "Third round") of that row alone, and after a
# warm-up records `perf record -e cpu-clock -g` (a timer interrupt, so samples land wherever the CPU is, native code
# and OpenSSL included, not only at the runtime's safe points) for PROFILE_SECONDS. The runtime writes a perf map
# (DOTNET_PerfMapEnabled=1; DOTNET_EnableWriteXorExecute=0 so perf can map the JIT's code, DOTNET_ReadyToRun=0 so
# every method is in the map). Prints each row's ns/request and its top functions by self time; with two rows or
# more, then each function's self time per request in every row beside the first (a share × the row's ns/request).
#
# Rows: anonymous, live, hit, malformed, miss, query.  Needs perf (Debian: linux-perf; installed when missing).
# Settings: PROFILE_SECONDS (default 8), PROFILE_WARMUP_SECONDS (default 14), PROFILE_TOP (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
[ $# -gt 0 ] || { echo "usage: bench/cpu-profile.sh ROW [ROW ...]   (rows: anonymous live hit malformed miss query)" >&2; exit 2; }
if ! command -v perf >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-perf >/dev/null
fi
PIN=(); command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ] && PIN=(taskset -c 0)

dotnet build bench/Dot.Api.BenchHost -c Release -nologo -v q -clp:ErrorsOnly >&2
HOST_DLL=$REPO/bench/Dot.Api.BenchHost/bin/Release/net10.0/Dot.Api.BenchHost.dll
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dot-cpu.XXXXXX")
trap 'rm -rf "$RUN_DIR"' EXIT
export ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__Dot="Data Source=$RUN_DIR/dot.db"
dotnet "$HOST_DLL" users add --email cpu@example.com --role admin --name Cpu >/dev/null
TOKEN=$(dotnet "$HOST_DLL" tokens create --email cpu@example.com --name cpu --expires-in 30d)

for row in "$@"; do
  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 DOTNET_ReadyToRun=0 "${PIN[@]}" dotnet "$HOST_DLL" pipeline \
    --token "$TOKEN" --user cpu@example.com --rows "$row" --alone true --requests 20000 --rounds 1000000 >"$RUN_DIR/$row.out" 2>&1 &
  pid=$!
  sleep "${PROFILE_WARMUP_SECONDS:-14}"
  perf record -F 4999 -e cpu-clock -g -p "$pid" -o "$RUN_DIR/$row.data" -- sleep "${PROFILE_SECONDS:-8}" >/dev/null 2>&1
  kill "$pid"; wait "$pid" 2>/dev/null || true
  perf report -i "$RUN_DIR/$row.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' >"$RUN_DIR/$row.txt" || true
done

# The rows' ns/request: the profiled run is stopped before it prints, so each row is timed by a short run of its own.
for row in "$@"; do
  "${PIN[@]}" dotnet "$HOST_DLL" pipeline --token "$TOKEN" --user cpu@example.com --rows "$row" --alone true \
    --requests 2000 --rounds 101 2>/dev/null | awk -v r="$row" '$1 == r { print $2 }' >"$RUN_DIR/$row.ns"
done

python3 - "$RUN_DIR" "${PROFILE_TOP:-30}" "$@" <<'PY'
import re, sys
run, top, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def load(row):
    shares = {}
    for line in open(f"{run}/{row}.txt"):
        m = re.match(r"\s+([0-9.]+)%\s+\[.\]\s+(.*?)(\s+-\s+-)?\s*$", line)
        if m:
            name = re.sub(r"\(.*", "", m.group(2)).replace("instance ", "")
            shares[name] = shares.get(name, 0) + float(m.group(1))
    ns = float(open(f"{run}/{row}.ns").read().strip() or 0)
    return shares, ns
data = {r: load(r) for r in rows}
for r in rows:
    shares, ns = data[r]
    print(f"== {r}: {ns:.0f} ns/request in memory; top functions by self time")
    for name, share in sorted(shares.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {share:5.1f} %  {share * ns / 100:6.0f} ns  {name[-150:]}")
if len(rows) > 1:
    base, (bshares, bns) = rows[0], data[rows[0]]
    for r in rows[1:]:
        shares, ns = data[r]
        print(f"== {r} − {base}: {ns - bns:+.0f} ns/request; the functions that make the difference (self ns per request)")
        names = set(shares) | set(bshares)
        diffs = sorted(((shares.get(n, 0) * ns - bshares.get(n, 0) * bns) / 100, n) for n in names)
        for d, n in reversed(diffs[-top:]):
            print(f"  {d:+6.0f} ns  {n[-150:]}")
PY
