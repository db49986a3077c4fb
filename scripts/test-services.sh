#!/usr/bin/env bash
# What the test suite uses for real: a PostgreSQL server on 127.0.0.1:5432 (distributed Optuna
# tests) with the role/database of SB3_ATARI_TEST_POSTGRES's default URL, and Debian's headless
# Chromium (dashboard tests, driven by Playwright). Idempotent; needs root (apt-get,
# pg_ctlcluster) the first time on a machine without them.
# A server this script starts is stopped again when the test run ends: it leaves the file
# .test-services-started (the cluster's version), which the suite's session end reads
# (tests/conftest.py) to stop it; `bash scripts/test-services.sh stop` does the same by hand.
set -euo pipefail
marker="$(dirname "$0")/../.test-services-started"
if [ "${1:-}" = "stop" ]; then
    if [ -f "$marker" ]; then
        pg_ctlcluster "$(cat "$marker")" main stop || true
        rm -f "$marker"
    fi
    exit 0
fi
missing=()
if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    missing+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | grep -q "^${version} main"; then
    pg_createcluster "${version}" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^${version} main .* online"; then
    pg_ctlcluster "${version}" main start
    echo "${version}" > "$marker"
fi
for _ in $(seq 1 30); do
    su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" && break
    sleep 1
done
# the password appears nowhere else (not in the role's or the database's name), so the tests' secret
# scans look for it anywhere in what runs write and the dashboard sends, in any form
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_roles WHERE rolname='sb3atari'\"" | grep -q 1 ||
    su postgres -c "psql -q -c \"CREATE ROLE sb3atari LOGIN CREATEDB\""
su postgres -c "psql -q -c \"ALTER ROLE sb3atari PASSWORD 'pw-only-in-tests-4f9c'\""
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname='sb3atari_test'\"" | grep -q 1 ||
    su postgres -c "psql -q -c \"CREATE DATABASE sb3atari_test OWNER sb3atari\""
echo "PostgreSQL ${version} on 127.0.0.1:5432, database sb3atari_test; $(chromium --version)"
