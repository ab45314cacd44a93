#!/usr/bin/env bash
# Optional helper for bench/http.sh on Debian 12 (bookworm), as root: install PostgreSQL 15,
# allow trust auth on loopback TCP (benchmark machines only), start the cluster on
# 127.0.0.1:5432 and create database `bench`. Also installs wrk. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v pg_ctlcluster >/dev/null || ! pg_lsclusters -h | grep -q "^15 *main"; then
  apt-get update
  apt-get install -y postgresql postgresql-contrib wrk
fi
HBA="$(pg_conftool -s 15 main show hba_file)"
# loopback TCP: scram-sha-256 -> trust (benchmark only)
sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)scram-sha-256/\1trust/' "$HBA"
if pg_lsclusters -h | awk '$1==15 && $2=="main"{print $4}' | grep -q online; then
  pg_ctlcluster 15 main reload
else
  pg_ctlcluster 15 main start
fi
pg_lsclusters
psql -h 127.0.0.1 -U postgres -Atc "select 1 from pg_database where datname='bench'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "create database bench"
psql -h 127.0.0.1 -U postgres -d bench -Atc "select version()"
