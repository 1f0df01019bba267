#!/usr/bin/env bash
# Stops the engine started by start.sh (by its PID; running containers stay as they are).
set -euo pipefail
sock="${CALOR_ENGINE_SOCK:-/run/calor-podman.sock}"
pidfile="${sock%.sock}.pid"
if [[ -f "$pidfile" ]]; then
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
fi
