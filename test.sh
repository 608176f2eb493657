#!/usr/bin/env bash
# Every test, on both stores: the whole suite on SQLite (the default store; its test projects run side by side),
# then what depends on the store again (tests/postgres.slnf: Dot.Api.Tests and Dot.Api.SystemTests) with
# DOT_TEST_STORE=postgres (a throw-away PostgreSQL cluster the tests start; one database per test, copied from a
# template the product's PostgreSQL migrations built). Extra arguments go to both `dotnet test` runs (e.g. a --filter).
# Results: TestResults/*.trx (override with TEST_RESULTS=dir).
set -uo pipefail
cd "$(dirname "$0")"
results=${TEST_RESULTS:-TestResults}
dotnet build Dot.Api.sln -nologo -v quiet || exit 1
status=0
echo "== tests on SQLite"
DOT_TEST_STORE=sqlite dotnet test Dot.Api.sln --no-build --logger "trx;LogFilePrefix=sqlite" --results-directory "$results" "$@" || status=1
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || [ "${CI:-}" = true ]; then
  echo "== tests on PostgreSQL"
  # Only what depends on the store runs again. Left out, having run in the first pass already: tests that are
  # PostgreSQL whatever the store (several server processes on one database, haproxy), [Trait("Store", "postgres-always")];
  # tests whose behaviour does not depend on the store, [Trait("Store", "any")]: pure unit tests and tests that run on
  # both stores whatever DOT_TEST_STORE says; and tests/Dot.Api.Connectors.Tests, not in the filter (each connector
  # driven directly against its target, a fake or a real database; its sync through the server, the store's part, is
  # in tests/Dot.Api.Tests, Sync/ConnectorSyncTests.cs, and runs again).
  DOT_TEST_STORE=postgres dotnet test tests/postgres.slnf --no-build --logger "trx;LogFilePrefix=postgres" --results-directory "$results" \
    --filter "Store!=postgres-always&Store!=any" "$@" || status=1
else
  echo "== tests on PostgreSQL skipped: no PostgreSQL server binaries (apt-get install postgresql); CI=true makes this a failure"
fi
exit $status
