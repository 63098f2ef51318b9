#!/usr/bin/env bash
# Creates the application role and database with PostGIS, if missing. The role is a superuser
# because PostGIS is not a trusted extension and pytest creates (and drops) its own test database
# with the extension in it. Works on trust auth (CI machines) and on a stock Debian install (peer
# auth on the socket for `postgres`, password auth for the app on 127.0.0.1).
set -euo pipefail

DB_NAME=${GEOPERA_DB_NAME:-geopera}
DB_USER=${GEOPERA_DB_USER:-geopera}
DB_PASSWORD=${GEOPERA_DB_PASSWORD:-geopera}

as_postgres() {
  if [[ $(id -un) == postgres ]]; then "$@";
  elif [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@";
  else sudo -u postgres "$@"; fi
}
psql_admin() { PGOPTIONS="--client-min-messages=warning" as_postgres psql -v ON_ERROR_STOP=1 -qtA "$@"; }

if [[ -z $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'") ]]; then
  psql_admin -c "CREATE ROLE \"$DB_USER\" LOGIN SUPERUSER PASSWORD '$DB_PASSWORD'"
fi
if [[ -z $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'") ]]; then
  psql_admin -c "CREATE DATABASE \"$DB_NAME\" OWNER \"$DB_USER\""
fi
psql_admin -d "$DB_NAME" -c "CREATE EXTENSION IF NOT EXISTS postgis"
# Test databases are copies of template1: give them PostGIS too.
psql_admin -d template1 -c "CREATE EXTENSION IF NOT EXISTS postgis"
