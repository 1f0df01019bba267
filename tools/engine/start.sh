#!/usr/bin/env bash
# Starts a container engine that serves the Docker Engine API: Podman (Debian) on a unix
# socket, installed on first use. Prints the DOCKER_HOST to use. A machine with Docker Engine
# can skip this and point DOCKER_HOST at it instead.
#   runc, not crun (crun fails here on hybrid cgroups); cgroupfs (no systemd).
set -euo pipefail
sock="${CALOR_ENGINE_SOCK:-/run/calor-podman.sock}"
pidfile="${sock%.sock}.pid"
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  echo "engine: installing podman and runc (Debian packages)" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >&2
fi
if curl -sf --unix-socket "$sock" http://d/v1.41/_ping >/dev/null 2>&1; then
  echo "unix://$sock"; exit 0
fi
rm -f "$sock"
# Run from the socket's folder: conmon leaves files (an `oom` marker after an OOM kill) in the
# service's working directory, which would otherwise be the caller's checkout.
cd "$(dirname "$sock")"
nohup podman --runtime /usr/bin/runc --cgroup-manager cgroupfs \
  system service --time=0 "unix://$sock" >"${sock%.sock}.log" 2>&1 &
echo $! > "$pidfile"
# A machine restarted or restored under running instances leaves the engine recording them as
# running with their monitors (conmon) gone. Their port rules stay and shadow the same host
# ports when a new instance gets them (its SSH then refuses connections), so they are removed
# with their networks and volumes before anything uses the engine.
remove_stale_instances() {
  local podman=(podman --runtime /usr/bin/runc --cgroup-manager cgroupfs) id conmon
  for id in $("${podman[@]}" ps -q --no-trunc --filter label=calor.rental); do
    conmon=$("${podman[@]}" inspect --format '{{.State.ConmonPid}}' "$id" 2>/dev/null || echo 0)
    if ! grep -qs -- "$id" "/proc/$conmon/cmdline"; then
      echo "engine: removing instance $id (its monitor is gone)" >&2
      "${podman[@]}" rm -f -t 0 "$id" >/dev/null 2>&1 || true
    fi
  done
  "${podman[@]}" network prune -f --filter label=calor.rental >/dev/null 2>&1 || true
  "${podman[@]}" volume prune -f --filter label=calor.rental >/dev/null 2>&1 || true
}
for _ in $(seq 1 100); do
  if curl -sf --unix-socket "$sock" http://d/v1.41/_ping >/dev/null 2>&1; then
    remove_stale_instances
    echo "unix://$sock"; exit 0
  fi
  sleep 0.1
done
echo "engine: podman did not come up; see ${sock%.sock}.log" >&2
exit 1
