#!/usr/bin/env bash
# The browser test of the /docs page: builds the server, starts it on a new SQLite database and
# a free port, logs in as the generated admin, and runs docs-browser-test/docs-browser-test.js
# in headless Chromium (Debian's chromium, installed with apt when missing; playwright-core,
# pinned by docs-browser-test/package-lock.json, installed under Cargo's target directory (as
# scripts/cargo-target-dir.sh finds it) and never with a browser of its own). Exits non-zero on
# any failure; the server is stopped on exit.
#
#   scripts/docs-browser-test.sh [--release] [--screenshot FILE.png]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
profile=debug
screenshot=
while [[ $# -gt 0 ]]; do
  case $1 in
    --release) profile=release; shift ;;
    --screenshot) screenshot=$(realpath -m "${2:?--screenshot needs a file}"); shift 2 ;;
    *) echo "usage: $0 [--release] [--screenshot FILE.png]" >&2; exit 2 ;;
  esac
done
cd "$root"

if [[ $profile == release ]]; then
  cargo build --locked --release -p orchestore-server --bin orchestore
else
  cargo build --locked -p orchestore-server --bin orchestore
fi
# Cargo's target directory, wherever CARGO_TARGET_DIR or a Cargo config puts it.
target=$(bash scripts/cargo-target-dir.sh)
binary=$target/$profile/orchestore

if [[ ! -x /usr/bin/chromium ]]; then
  echo "installing Debian's chromium" >&2
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

# playwright-core from the committed lock file, reinstalled only when the lock file changes.
runner=$target/docs-browser-test
mkdir -p "$runner"
cp scripts/docs-browser-test/docs-browser-test.js scripts/docs-browser-test/package.json "$runner/"
if ! cmp -s scripts/docs-browser-test/package-lock.json "$runner/package-lock.json" \
  || [[ ! -d $runner/node_modules/playwright-core ]]; then
  cp scripts/docs-browser-test/package-lock.json "$runner/"
  (cd "$runner" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

scratch=$(mktemp -d)
server_pid=
stop() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$scratch"
}
trap stop EXIT

log=$scratch/server.log
# Port 0 lets the server pick a free port, which it logs. The lowest bcrypt cost: the admin's
# password is hashed and checked once, and a debug build is slow at it.
ORCHESTORE__DATABASE__URL="sqlite://$scratch/orchestore.db?mode=rwc" \
  ORCHESTORE__SERVER__HOST=127.0.0.1 \
  ORCHESTORE__SERVER__PORT=0 \
  ORCHESTORE__AUTH__BCRYPT_COST=4 \
  ORCHESTORE__LOG__FORMAT=text \
  NO_COLOR=1 \
  "$binary" serve >"$log" 2>&1 &
server_pid=$!

port=
for _ in $(seq 120); do
  port=$(sed -n 's/.*listening.* port=\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
  [[ -n $port ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server stopped:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.5
done
if [[ -z $port ]]; then
  echo "the server did not start listening within a minute:" >&2
  cat "$log" >&2
  exit 1
fi
base=http://127.0.0.1:$port

password=$(sed -n 's/.*generated admin password for admin@localhost: \([A-Za-z0-9]*\).*/\1/p' "$log")
if [[ -z $password ]]; then
  echo "no generated admin password in the server's log:" >&2
  cat "$log" >&2
  exit 1
fi
# The generated password is alphanumeric: it needs no escaping in JSON.
login="{\"organization\":\"default\",\"email\":\"admin@localhost\",\"password\":\"$password\"}"
token=$(curl -sS --fail-with-body "$base/api/v1/auth/login" \
  -H 'content-type: application/json' -d "$login" \
  | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => process.stdout.write(JSON.parse(s).access_token ?? ""))')
if [[ -z $token ]]; then
  echo "the login gave no access token" >&2
  exit 1
fi
echo "server at $base, logged in as admin@localhost"

DOCS_BASE_URL=$base DOCS_TOKEN=$token DOCS_SCREENSHOT=$screenshot node "$runner/docs-browser-test.js"
echo "the /docs browser test passed"
