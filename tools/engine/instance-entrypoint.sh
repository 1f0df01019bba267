#!/bin/sh
# Instance entrypoint: install the renter's key for root (a key-less rental has none: it is
# reached through the web terminal), then serve SSH in the foreground.
set -eu
mkdir -p /root/.ssh /run/sshd
chmod 700 /root/.ssh
if [ -n "${CALOR_SSH_AUTHORIZED_KEY:-}" ]; then
  printf '%s\n' "$CALOR_SSH_AUTHORIZED_KEY" > /root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
fi
ssh-keygen -A >/dev/null
exec /usr/sbin/sshd -D -e
