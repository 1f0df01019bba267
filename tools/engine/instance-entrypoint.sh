#!/bin/sh
# Instance entrypoint: install the renter's key for root, then serve SSH in the foreground.
set -eu
if [ -z "${CALOR_SSH_AUTHORIZED_KEY:-}" ]; then
  echo "calor-entrypoint: CALOR_SSH_AUTHORIZED_KEY is not set" >&2
  exit 64
fi
mkdir -p /root/.ssh /run/sshd
chmod 700 /root/.ssh
printf '%s\n' "$CALOR_SSH_AUTHORIZED_KEY" > /root/.ssh/authorized_keys
chmod 600 /root/.ssh/authorized_keys
ssh-keygen -A >/dev/null
exec /usr/sbin/sshd -D -e
