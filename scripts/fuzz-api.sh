#!/usr/bin/env bash
# Property-based fuzzing of the HTTP API: schemathesis generates requests for every operation of
# the server's own OpenAPI document (`/api/openapi.json`), valid and invalid ones, and sequences
# of calls that follow the links it infers (create, then read, change, delete what was made),
# sends them authenticated, and checks every answer: no 5xx, every status, content type, header
# and body as the document describes them.
#
#   bash scripts/fuzz-api.sh                        # both backends, 100 examples per operation
#   BACKENDS=sqlite EXAMPLES=20 bash scripts/fuzz-api.sh  # a quicker look
#   PROFILE=dev bash scripts/fuzz-api.sh             # a debug build (quicker to build, where one is warm)
#
# Needs a Rust toolchain, python3 (schemathesis is installed into target/fuzz-venv from PyPI,
# pinned below), curl, and for the PostgreSQL run a server at PGBASE reachable as user
# postgres without a password (database `orchestore_fuzz` is dropped and created) and psql.
# Results: target/fuzz-api/<backend>/ (schemathesis' JUnit and NDJSON reports, the server's
# log) and target/fuzz-api/summary.txt. Exits non-zero when any check failed, when the server
# logged an error, or when schemathesis itself failed (its errors are listed in the summary).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BACKENDS="${BACKENDS:-sqlite postgres}"
EXAMPLES="${EXAMPLES:-100}"
SEED="${SEED:-1}"
PGBASE="${PGBASE:-postgresql://postgres@127.0.0.1:5432}"
OUT="${OUT:-$ROOT/target/fuzz-api}"
SCHEMATHESIS_VERSION=4.32.5
VENV="$ROOT/target/fuzz-venv"
# The checks that say "no 5xx and nothing the document does not describe".
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance

mkdir -p "$OUT"
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

PROFILE="${PROFILE:-release}"
echo "==> building the server ($PROFILE)"
(cd "$ROOT" && cargo build --profile "$PROFILE" --locked -p orchestore-server --bin orchestore)
case "$PROFILE" in dev) dir=debug ;; *) dir="$PROFILE" ;; esac
BIN="$(bash "$ROOT/scripts/cargo-target-dir.sh")/$dir/orchestore"

SERVER_PID=
WORK="$(mktemp -d)"
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts the server on the database URL $1, logging to $2; sets SERVER_PID and BASE.
start_server() {
  local port
  port="$(free_port)"
  ORCHESTORE__SERVER__HOST=127.0.0.1 ORCHESTORE__SERVER__PORT="$port" \
    ORCHESTORE__DATABASE__URL="$1" "$BIN" >"$2" 2>&1 &
  SERVER_PID=$!
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -fs "$BASE/health/ready" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$2" >&2; return 1; }
    sleep 0.2
  done
  echo "the server did not become ready: see $2" >&2
  return 1
}

# A key of the generated owner: the fuzzer cannot end a key's session the way it could end a
# token's (`/auth/logout`, `DELETE /sessions`), so every request stays authenticated.
owner_key() {
  local log="$1" password token
  password="$(sed -n 's/.*generated admin password for admin@localhost: \([^ ]*\) .*/\1/p' "$log" | head -n 1)"
  [ -n "$password" ] || { echo "no generated admin password in $log" >&2; return 1; }
  token="$(curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"organization\":\"default\",\"email\":\"admin@localhost\",\"password\":\"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
  curl -fs "$BASE/api/v1/me/api-keys" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"fuzz"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["secret"])'
}

status=0
: >"$OUT/summary.txt"
for backend in $BACKENDS; do
  case "$backend" in
    sqlite) url="sqlite://$WORK/fuzz.db?mode=rwc" ;;
    postgres)
      psql "$PGBASE/postgres" -qc 'DROP DATABASE IF EXISTS orchestore_fuzz' -c 'CREATE DATABASE orchestore_fuzz'
      url="$PGBASE/orchestore_fuzz"
      ;;
    *) echo "unknown backend $backend (sqlite, postgres)" >&2; exit 2 ;;
  esac
  dir="$OUT/$backend"
  rm -rf "$dir" && mkdir -p "$dir"
  echo "==> $backend: starting the server"
  start_server "$url" "$dir/server.log"
  key="$(owner_key "$dir/server.log")"
  echo "==> $backend: schemathesis, every phase, $EXAMPLES examples per operation"
  set +e
  "$VENV/bin/schemathesis" run "$BASE/api/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks "$CHECKS" \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$EXAMPLES" --seed "$SEED" \
    --generation-database none \
    --workers 2 --request-timeout 30 --no-color \
    --report junit,ndjson --report-dir "$dir" 2>&1 | tee "$dir/schemathesis.txt"
  result=${PIPESTATUS[0]}
  # The fuzzing phase fills a path parameter from the ids the run has seen (a `DELETE
  # /…/{id}` then has a few dozen requests at most, all of real resources); once more, every value
  # drawn from the document alone, so that each operation with an input gets its examples.
  printf '[phases.fuzzing.extra-data-sources]\nresponses = false\n' >"$dir/drawn-values.toml"
  # The first pass calls every operation, revoking API keys among them: the second must not
  # fuzz on a key it lost (every answer a documented 401, nothing tested).
  if ! curl -fs -o /dev/null "$BASE/api/v1/me" -H "authorization: Bearer $key"; then
    echo "==> $backend: the fuzzing key was revoked by the first pass: a new one"
    key="$(owner_key "$dir/server.log")" || key=
  fi
  if [ -z "$key" ]; then
    echo "$backend: no working key for the fuzzing on drawn values" >&2
    result=1
  else
    echo "==> $backend: schemathesis, fuzzing on drawn values alone"
    "$VENV/bin/schemathesis" --config-file "$dir/drawn-values.toml" run "$BASE/api/openapi.json" \
      --header "Authorization: Bearer $key" \
      --checks "$CHECKS" \
      --phases fuzzing \
      --max-examples "$EXAMPLES" --seed "$SEED" \
      --generation-database none \
      --workers 2 --request-timeout 30 --no-color \
      --report junit,ndjson --report-dir "$dir" 2>&1 | tee "$dir/schemathesis-drawn.txt"
    drawn=${PIPESTATUS[0]}
    [ "$drawn" -eq 0 ] || result=$drawn
  fi
  set -e
  kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
  if grep -q ' ERROR \| panicked' "$dir/server.log"; then
    echo "$backend: the server logged errors (see $dir/server.log)" >&2
    result=1
  fi
  python3 "$ROOT/scripts/fuzz-api-summary.py" "$backend" "$dir" "$EXAMPLES" | tee -a "$OUT/summary.txt"
  [ "$result" -eq 0 ] || status=1
done
exit "$status"
