#!/usr/bin/env bash
# Two Dot API instances behind HAProxy on one PostgreSQL database, all on loopback, for trying out (or testing) the
# multi-instance set-up. Prints the URL once everything answers; Ctrl-C (or SIGTERM, or an error) stops everything
# it started and deletes its temporary directory.
#
#   deploy/run.sh                      a throw-away PostgreSQL cluster (initdb) and a build of src/Dot.Api.Host
#   DOT_CONNECTION_STRING='Host=…;Database=…;Username=…;Password=…' deploy/run.sh     an existing database
#
# Settings (environment):
#   DOT_CONNECTION_STRING   Npgsql connection string; unset: initdb a cluster in the temporary directory
#   DOT_PG_PORT             port of that throw-away cluster (default 54329)
#   DOT_BIND, DOT_PORT      where HAProxy listens (default 127.0.0.1:8080)
#   DOT_INSTANCE_PORTS      the two instances' ports (default "5081 5082"); they listen on 127.0.0.1 only
#   DOT_API_DLL             a built Dot.Api.dll; unset: dotnet build src/Dot.Api.Host and use that
# Any other variable (Dot__Auth__MaxFailuresPerMinute=…, Dot__Tokens__UsageFlushSeconds=…) reaches both instances.
# The CLI works against the same database: run.sh prints the command for the first admin.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
bind=${DOT_BIND:-127.0.0.1}
port=${DOT_PORT:-8080}
read -r -a instance_ports <<<"${DOT_INSTANCE_PORTS:-5081 5082}"
[ "${#instance_ports[@]}" -eq 2 ] || { echo "run.sh: DOT_INSTANCE_PORTS must name two ports" >&2; exit 2; }
command -v haproxy >/dev/null || { echo "run.sh: haproxy is not installed (apt-get install -y --no-install-recommends haproxy)" >&2; exit 1; }
command -v curl >/dev/null || { echo "run.sh: curl is not installed" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dot-deploy.XXXXXX")
pids=()
pg_bin=""
pg_data=""
as_postgres=()

stop_all() {
  trap - EXIT INT TERM
  # Instances first (a graceful stop flushes last-used data), then HAProxy, then the database.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pg_data" ] && [ -d "$pg_data" ]; then
    "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" stop -m fast -w >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  echo "run.sh: stopped"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL -------------------------------------------------------------------------------------------------
connection=${DOT_CONNECTION_STRING:-}
if [ -z "$connection" ]; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$pg_bin/initdb" ] || { echo "run.sh: no PostgreSQL server (apt-get install postgresql) and no DOT_CONNECTION_STRING" >&2; exit 1; }
  pg_port=${DOT_PG_PORT:-54329}
  password=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
  if [ "$(id -u)" = 0 ]; then
    as_postgres=(runuser -u postgres --) # PostgreSQL refuses to run as root
    chown postgres "$work"
  fi
  pg_data="$work/pg"
  printf '%s\n' "$password" >"$work/pwfile"
  [ "${#as_postgres[@]}" -eq 0 ] || chown postgres "$work/pwfile"
  "${as_postgres[@]}" "$pg_bin/initdb" -D "$pg_data" -U dot --pwfile="$work/pwfile" --auth=scram-sha-256 -E UTF8 --locale=C >/dev/null
  rm -f "$work/pwfile"
  "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$work/postgres.log" -w \
    -o "-p $pg_port -k $work -c listen_addresses=127.0.0.1" start >/dev/null
  PGPASSWORD=$password "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U dot dot
  connection="Host=127.0.0.1;Port=$pg_port;Database=dot;Username=dot;Password=$password"
  echo "run.sh: PostgreSQL on 127.0.0.1:$pg_port (data in $pg_data, log $work/postgres.log)"
fi

# --- the server ---------------------------------------------------------------------------------------------------
dll=${DOT_API_DLL:-}
if [ -z "$dll" ]; then
  echo "run.sh: building src/Dot.Api.Host"
  dotnet build "$repo/src/Dot.Api.Host/Dot.Api.Host.csproj" -nologo -v quiet -o "$work/app" >/dev/null
  dll="$work/app/Dot.Api.dll"
fi
[ -f "$dll" ] || { echo "run.sh: $dll not found" >&2; exit 1; }

export Dot__Database__Provider=postgres
export ConnectionStrings__Dot="$connection"
export Dot__ForwardedHeaders__KnownProxies=127.0.0.1
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production}

for i in 0 1; do
  p=${instance_ports[$i]}
  Dot__Sync__InstanceName="dot$((i + 1))" dotnet "$dll" --urls "http://127.0.0.1:$p" >"$work/dot$((i + 1)).log" 2>&1 &
  pids+=("$!")
  echo "run.sh: instance dot$((i + 1)) on http://127.0.0.1:$p (pid $!, log $work/dot$((i + 1)).log)"
done

# Both ready (each migrates under an advisory lock; one does the work), or a dead instance ends the script.
for i in 0 1; do
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "http://127.0.0.1:${instance_ports[$i]}/healthz" 2>/dev/null && break
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "run.sh: instance dot$((i + 1)) exited:" >&2; tail -n 20 "$work/dot$((i + 1)).log" >&2; exit 1; }
    sleep 0.1
  done
done

# --- HAProxy ------------------------------------------------------------------------------------------------------
export DOT_BIND="$bind" DOT_PORT="$port"
export DOT_INSTANCE1="127.0.0.1:${instance_ports[0]}" DOT_INSTANCE2="127.0.0.1:${instance_ports[1]}"
haproxy -c -q -f "$here/haproxy.cfg"
haproxy -db -f "$here/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://$bind:$port/healthz/live" 2>/dev/null && break
  kill -0 "${pids[2]}" 2>/dev/null || { echo "run.sh: haproxy exited:" >&2; cat "$work/haproxy.log" >&2; exit 1; }
  sleep 0.1
done

# The store settings for the CLI, readable by this user only (the connection string may hold a password).
(umask 077 && printf 'Dot__Database__Provider=postgres\nConnectionStrings__Dot=%q\n' "$connection" >"$work/env")
echo "run.sh: first admin: (set -a; . $work/env; dotnet $dll users add --email you@example.com --role admin)"
echo "Dot API: http://$bind:$port"
echo "run.sh: Ctrl-C stops everything"

# Until a signal, or until any process of the set dies (then the rest are stopped too).
wait -n "${pids[@]}" || true
echo "run.sh: a process of the set exited; stopping the rest" >&2
exit 1
