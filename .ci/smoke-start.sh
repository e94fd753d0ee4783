#!/usr/bin/env bash
# Starts Tessera exactly as the README says (embedded PostgreSQL, fresh data folder), drives it
# like a front-end would, and stops it with SIGTERM.
set -euo pipefail
port=${SMOKE_PORT:-4517}
data=$(mktemp -d)
log=$(mktemp)
url="http://127.0.0.1:$port/graphql"

# Its own process group, so that the signal reaches npm and the server it started alike.
env -u DATABASE_URL PORT=$port EMBEDDED_POSTGRES_PORT=$((port + 1)) TESSERA_DATA_DIR="$data" setsid npm start >"$log" 2>&1 &
pid=$!
cleanup() { kill -TERM -- -"$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$log"; }
trap cleanup EXIT

for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "server exited early"; exit 1; fi
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/healthz" || { cat "$log"; echo "server never became healthy"; exit 1; }
echo

gql() { curl -sS -X POST "$url" -H 'content-type: application/json' ${2:+-H "authorization: Bearer $2"} -d "$1"; }
expect() { if ! grep -q "$2" <<<"$1"; then echo "expected $2 in: $1"; exit 1; fi; }

signup=$(gql '{"query":"mutation { signup(input:{username:\"smoke\", email:\"smoke@example.com\", password:\"smoke test password\"}) { accessToken user { username } } }"}')
expect "$signup" '"username":"smoke"'
login=$(gql '{"query":"mutation { login(input:{usernameOrEmail:\"SMOKE\", password:\"smoke test password\"}) { accessToken tokenType } }"}')
expect "$login" '"tokenType":"Bearer"'
token=$(sed -E 's/.*"accessToken":"([^"]+)".*/\1/' <<<"$login")
me=$(gql '{"query":"{ me { username email roles } }"}' "$token")
expect "$me" '"email":"smoke@example.com"'
echo "signup, login and me answered: $me"
page=$(curl -sf "http://127.0.0.1:$port/")
expect "$page" '<title>Tessera demo</title>'
echo "the demo page is served at /"

kill -TERM -- -"$pid"
wait "$pid" || true
for _ in $(seq 1 40); do
  if grep -q '"msg":"stopped"' "$log" && ! pgrep -f "postgres -D $data" >/dev/null; then
    echo "server drained, closed the database and stopped the embedded PostgreSQL on SIGTERM"
    exit 0
  fi
  sleep 0.25
done
cat "$log"; echo "server did not stop cleanly"; exit 1
