#!/bin/bash
# One database and one owner per component (crm_<component>): no component can read another's
# tables. Run by the postgres image on its first start (docker-entrypoint-initdb.d); safe to
# run again on an existing server, e.g. after adding a component:
#   docker compose exec postgres /docker-entrypoint-initdb.d/init-databases.sh
#
#   CRM_DATABASES    components, space separated (set in docker-compose.yml)
#   CRM_DB_PASSWORD  the password of every component user (a development default in compose;
#                    production gives each user its own, see docs/operations.md)
set -euo pipefail

: "${CRM_DATABASES:?CRM_DATABASES lists the components, e.g. \"customers gateway\"}"
: "${CRM_DB_PASSWORD:?CRM_DB_PASSWORD is the password of the component users}"

for component in $CRM_DATABASES; do
    name="crm_${component}"
    echo "init-databases: database and user ${name}"
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        --set name="$name" --set password="$CRM_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'name')
    WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'name', :'password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
    WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \gexec
SQL
done
