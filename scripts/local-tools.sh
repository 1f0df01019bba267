# Sourced by demo.sh and test.sh: makes the local chain binary, the container engine and the
# instance image ready, and exports where they are. Each step is cached on the machine:
#   CALOR_LOCALNET_BIN    surfpool-core node (tools/localnet; first build ~14 min)
#   DOCKER_HOST           Podman serving the Docker Engine API (tools/engine/start.sh), unless
#                         DOCKER_HOST already points at an engine
#   CALOR_INSTANCE_IMAGE  Debian + sshd, built locally (tools/engine/instance-image.sh)
# The engine is stopped again on exit when this script started it.
prepare_local_tools() {
  for tool in ssh ssh-keygen curl; do
    if ! command -v "$tool" >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-client curl >&2
      break
    fi
  done
  CALOR_LOCALNET_BIN=$(bash tools/localnet/build.sh)
  if [[ -z "${DOCKER_HOST:-}" ]]; then
    if ! curl -sf --unix-socket /run/calor-podman.sock http://d/v1.41/_ping >/dev/null 2>&1; then
      CALOR_STARTED_ENGINE=1
    fi
    DOCKER_HOST=$(bash tools/engine/start.sh)
  fi
  CALOR_INSTANCE_IMAGE=$(bash tools/engine/instance-image.sh)
  export CALOR_LOCALNET_BIN DOCKER_HOST CALOR_INSTANCE_IMAGE
}

stop_local_engine() {
  if [[ "${CALOR_STARTED_ENGINE:-}" == 1 ]]; then bash tools/engine/stop.sh; fi
}
