#!/bin/sh
# Generates, once, every secret of the economy that DIR does not hold yet.
#
#   sh deploy/init-secrets.sh DIR [OWNER]
#
# - `docker compose up` runs it as the one-shot `secrets` service (docker-compose.override.yml)
#   into the named volume `secrets`, mounted read-only at /run/secrets in every service;
#   OWNER (10001:10001, the image's user `app`) then owns the files.
# - For Swarm, run it on the manager before `docker stack deploy` (docker-stack.yml turns the
#   files of SECRETS_DIR, default ./secrets, into Docker secrets).
#
# A file that exists and is not empty is kept, so a restart keeps every wallet's seed;
# `docker compose down -v` deletes the volume and with it the secrets. Names ending in
# `_seed` get 81 trytes (A-Z and 9), every other name 32 hex digits (128 bits; safe in
# mqtt:// URLs). Only names are printed, never a value.
#
# Adding a secret: add its name to SECRETS below, then read it in the service with
# `<VARIABLE>_FILE: /run/secrets/<name>` (docker-compose.yml) and list it for the service
# in docker-stack.yml.
set -eu

SECRETS="
devnet_faucet_seed
devnet_coordinator_seed
devnet_faucet_token
robot1_seed
robot2_seed
wind_seed
solar_seed
grid_seed
producer_seed
consumer1_seed
consumer2_seed
battery_seed
machine_token
lock_admin_password
lock_mqtt_password
lock_device_mqtt_password
lock_channel_seed
postgres_password
ledger_admin_password
ledger_grid_key
ledger_producer_key
ledger_consumer_key
"

dir="${1:?usage: init-secrets.sh DIR [OWNER]}"
owner="${2:-}"
umask 077
mkdir -p "$dir"

generate() {
    case "$1" in
        # tr keeps only the 27 tryte characters of uniformly random bytes: uniform trytes.
        *_seed) LC_ALL=C tr -dc 'A-Z9' </dev/urandom | head -c 81 ;;
        *) od -An -tx1 -N16 /dev/urandom | tr -d ' \n' ;;
    esac
}

made=0
kept=0
for name in $SECRETS; do
    file="$dir/$name"
    if [ -s "$file" ]; then
        kept=$((kept + 1))
        continue
    fi
    generate "$name" >"$file.tmp"
    # rename: a reader never sees a half-written secret
    mv "$file.tmp" "$file"
    made=$((made + 1))
    echo "event=secret_generated name=$name"
done
# The ledger participants' public keys (docs/ledger.md), from their generated private keys:
# every participant reads the others' public key files, and only its own private key.
# Needs the app's Python (the `secrets` service runs in the app image).
for name in ledger_grid ledger_producer ledger_consumer; do
    if [ ! -s "$dir/${name}_public_key" ]; then
        (cd /app 2>/dev/null || cd "$(dirname "$0")/.."; python -m services.ledger public-key-of "$dir/${name}_key") >"$dir/${name}_public_key.tmp"
        mv "$dir/${name}_public_key.tmp" "$dir/${name}_public_key"
        echo "event=public_key_made name=${name}_public_key"
    fi
done
# libpq's password file for docker-compose.postgres.yml, made from the same password.
if [ ! -s "$dir/postgres_pgpass" ]; then
    printf '*:*:*:economy:%s\n' "$(cat "$dir/postgres_password")" >"$dir/postgres_pgpass.tmp"
    mv "$dir/postgres_pgpass.tmp" "$dir/postgres_pgpass"
fi
if [ -n "$owner" ]; then
    chown "$owner" "$dir" "$dir"/*
fi
chmod 0700 "$dir"
chmod 0400 "$dir"/*
echo "event=secrets_ready generated=$made kept=$kept dir=$dir"
