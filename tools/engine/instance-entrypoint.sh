#!/bin/sh
# Instance entrypoint: install the renter's key for root (a key-less rental has none: it is
# reached through the web terminal); with $CALOR_JUPYTER_TOKEN set, serve JupyterLab on port 8888
# in the background (root dir /workspace, that token, restarted if it exits, log in
# /var/log/jupyter.log); then serve SSH in the foreground.
set -eu
mkdir -p /root/.ssh /run/sshd
chmod 700 /root/.ssh
if [ -n "${CALOR_SSH_AUTHORIZED_KEY:-}" ]; then
  printf '%s\n' "$CALOR_SSH_AUTHORIZED_KEY" > /root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
fi

ssh-keygen -A >/dev/null

# After the host keys: sshd's banner (the provisioner's readiness probe) must not wait for it.
if [ -n "${CALOR_JUPYTER_TOKEN:-}" ]; then
  # The token goes in a root-only config file that the server reads (JUPYTER_CONFIG_PATH), not
  # on its command line (ps) nor in its and its kernels' environment; Jupyter never prints a
  # token it did not generate (its URLs show "?token=...").
  mkdir -p /run/calor/jupyter
  chmod 700 /run/calor /run/calor/jupyter
  (umask 077 && /opt/jupyter/bin/python -c 'import json, os, sys
json.dump({"IdentityProvider": {"token": os.environ["CALOR_JUPYTER_TOKEN"]}}, open(sys.argv[1], "w"))' \
    /run/calor/jupyter/jupyter_server_config.json)
  (
    unset CALOR_JUPYTER_TOKEN CALOR_SSH_AUTHORIZED_KEY
    cd /workspace 2>/dev/null || cd /
    log=/var/log/jupyter.log
    while :; do
      # keep the log bounded across restarts
      if [ -f "$log" ] && [ "$(wc -c < "$log")" -gt 10485760 ]; then mv -f "$log" "$log.1"; fi
      rc=0
      JUPYTER_CONFIG_PATH=/run/calor/jupyter SHELL=/bin/bash LANG=C.UTF-8 \
        /opt/jupyter/bin/jupyter lab \
        --ServerApp.ip=0.0.0.0 --ServerApp.port=8888 --ServerApp.port_retries=0 \
        --ServerApp.root_dir=/workspace --ServerApp.base_url=/ \
        --ServerApp.allow_root=True --ServerApp.open_browser=False \
        --ServerApp.allow_remote_access=True --ServerApp.disable_check_xsrf=False \
        --PasswordIdentityProvider.hashed_password= \
        --PasswordIdentityProvider.allow_password_change=False \
        </dev/null >>"$log" 2>&1 || rc=$?
      echo "calor-entrypoint: jupyter exited with status $rc; restarting in 2 s" >>"$log"
      sleep 2
    done
  ) </dev/null >/dev/null 2>&1 &
fi

exec /usr/sbin/sshd -D -e
