#!/bin/sh
# Build a mosquitto password file from environment variables, never from arguments (which
# show up in `ps`). Usage:
#   LOCK_CONTROLLER_MQTT_PASSWORD=... DEVICE_PASSWORDS="lock-1:pw1 lock-2:pw2" \
#     ./make_passwd.sh /path/to/passwd
# The controller's user is "lock-controller" (as in ./acl); a device's user is its DEVICE_ID.
set -eu
out="${1:?usage: make_passwd.sh OUTPUT_FILE}"
: "${LOCK_CONTROLLER_MQTT_PASSWORD:?LOCK_CONTROLLER_MQTT_PASSWORD is not set}"
umask 077
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
printf 'lock-controller:%s\n' "$LOCK_CONTROLLER_MQTT_PASSWORD" > "$tmp"
for pair in ${DEVICE_PASSWORDS:-}; do
  case "$pair" in
    *:*) printf '%s\n' "$pair" >> "$tmp" ;;
    *) echo "DEVICE_PASSWORDS: expected device-id:password, got an entry without ':'" >&2; exit 2 ;;
  esac
done
# -U replaces every plain password with its PBKDF2-SHA512 hash.
mosquitto_passwd -U "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out"
