#!/usr/bin/env bash
# Which types a request allocates, and where:  bench/allocation-stacks.sh ROW [TYPE]
#
# Makes a throw-away database with a user and a token (the product's own CLI), then runs the in-memory pipeline
# measurement (Dot.Api.BenchHost pipeline, docs/benchmark.md "Third round") of ROW alone under
#   dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:5
# (the runtime's allocation samples, one about every 100 KB, each with its stack), and prints the types a request of
# that row allocated, by share of the sampled bytes, and for the types whose name contains TYPE the stacks they were
# allocated from (bench/Dot.Api.AllocationStacks). Run it for two rows (anonymous, hit) and compare.
#
# Rows: anonymous, live, hit, malformed, miss, query.  Needs dotnet-trace (installed with `dotnet tool install -g`).
# Settings: ALLOC_REQUESTS (per round, default 100000), ALLOC_ROUNDS (default 3), ALLOC_KEEP=1 keeps the trace.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PATH="$PATH:$HOME/.dotnet/tools"
ROW=${1:?usage: bench/allocation-stacks.sh ROW [TYPE]   (rows: anonymous live hit malformed miss query)}
TYPE=${2:-}
command -v dotnet-trace >/dev/null 2>&1 || dotnet tool install -g dotnet-trace >&2

dotnet build bench/Dot.Api.BenchHost -c Release -nologo -v q -clp:ErrorsOnly >&2
dotnet build bench/Dot.Api.AllocationStacks -c Release -nologo -v q -clp:ErrorsOnly >&2
HOST_DLL=$REPO/bench/Dot.Api.BenchHost/bin/Release/net10.0/Dot.Api.BenchHost.dll

RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dot-alloc.XXXXXX")
[ "${ALLOC_KEEP:-}" = 1 ] || trap 'rm -rf "$RUN_DIR"' EXIT
export ASPNETCORE_ENVIRONMENT=Production ConnectionStrings__Dot="Data Source=$RUN_DIR/dot.db"
dotnet "$HOST_DLL" users add --email alloc@example.com --role admin --name Alloc >/dev/null
TOKEN=$(dotnet "$HOST_DLL" tokens create --email alloc@example.com --name alloc --expires-in 30d)

dotnet-trace collect --providers "Microsoft-Windows-DotNETRuntime:0x1:5" -o "$RUN_DIR/$ROW.nettrace" -- \
  dotnet "$HOST_DLL" pipeline --token "$TOKEN" --user alloc@example.com --rows "$ROW" --alone true \
  --requests "${ALLOC_REQUESTS:-100000}" --rounds "${ALLOC_ROUNDS:-3}" >"$RUN_DIR/trace.log" 2>&1 \
  || { cat "$RUN_DIR/trace.log" >&2; exit 1; }
args=("$RUN_DIR/$ROW.nettrace")
[ -n "$TYPE" ] && args+=(--type "$TYPE")
dotnet "$REPO/bench/Dot.Api.AllocationStacks/bin/Release/net10.0/Dot.Api.AllocationStacks.dll" "${args[@]}"
[ "${ALLOC_KEEP:-}" = 1 ] && echo "trace kept: $RUN_DIR/$ROW.nettrace" >&2
exit 0
