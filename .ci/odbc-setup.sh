#!/usr/bin/env bash
# Registers the system ODBC DSNs the sageconnect ODBC tests and fixtures use.
# Run as root in CI, after: apt-get install -y unixodbc odbc-postgresql odbc-mariadb libsqliteodbc
# Idempotent: each DSN is removed, then written again, so a second run leaves one copy.
set -euo pipefail

if [[ "$(id -u)" -ne 0 ]]; then
  echo "odbc-setup: run as root (writes the system DSNs in /etc/odbc.ini)" >&2
  exit 1
fi
command -v odbcinst >/dev/null || { echo "odbc-setup: odbcinst not found (install unixodbc)" >&2; exit 1; }

# Drivers the Debian packages register in /etc/odbcinst.ini.
for driver in "PostgreSQL Unicode" "MariaDB Unicode" "SQLite3"; do
  if ! odbcinst -q -d -n "$driver" >/dev/null 2>&1; then
    echo "odbc-setup: ODBC driver \"$driver\" is not registered (odbcinst -q -d)" >&2
    exit 1
  fi
done

template="$(mktemp)"
trap 'rm -f "$template"' EXIT
cat >"$template" <<'INI'
[sageconnect_pg]
Description=sageconnect tests: PostgreSQL through psqlODBC
Driver=PostgreSQL Unicode
Servername=127.0.0.1
Port=5432
Database=test
Username=postgres
UseDeclareFetch=1
Fetch=2000

[sageconnect_mariadb]
Description=sageconnect tests: MariaDB through MariaDB Connector/ODBC
Driver=MariaDB Unicode
Server=127.0.0.1
Port=3306
Database=test
User=root

[sageconnect_sqlite]
Description=sageconnect tests: SQLite through sqliteodbc
Driver=SQLite3
Database=/tmp/sageconnect-sqlite-odbc.db
INI

for dsn in sageconnect_pg sageconnect_mariadb sageconnect_sqlite; do
  if odbcinst -q -s -l -n "$dsn" >/dev/null 2>&1; then
    odbcinst -u -s -l -n "$dsn" >/dev/null
  fi
done
odbcinst -i -s -l -f "$template"

echo "odbc-setup: system DSNs now registered:"
odbcinst -q -s -l
