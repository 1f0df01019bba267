#!/usr/bin/env bash
# Builds the instance image locally (no registry is needed): a minimal Debian bookworm root with
# openssh-server, imported into the engine as localhost/calor-instance:<key>. The root filesystem
# tarball is cached under ~/.cache/calor/images, so a machine builds it once (debootstrap takes a
# few minutes) and later runs only import it. Prints the image reference.
#
# The image's contract with the provisioner (docs/provisioner.md): the entrypoint installs
# $CALOR_SSH_AUTHORIZED_KEY for root, creates host keys and runs sshd on port 22 in the foreground.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${CALOR_CACHE:-$HOME/.cache/calor}/images"
# keyed by the two files' contents only: the same image whatever the checkout's path
key=$(cat "$here/instance-image.sh" "$here/instance-entrypoint.sh" | sha256sum | cut -c1-12)
image="localhost/calor-instance:$key"
tarball="$cache/calor-instance-$key.tar"

if podman image exists "$image" 2>/dev/null; then echo "$image"; exit 0; fi

if [[ ! -s "$tarball" ]]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2; }
  rootfs=$(mktemp -d /var/tmp/calor-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "instance image: debootstrap bookworm + openssh-server (first time on this machine)" >&2
  debootstrap --variant=minbase --include=openssh-server,iproute2 bookworm "$rootfs" \
    http://deb.debian.org/debian >&2
  install -m 0755 "$here/instance-entrypoint.sh" "$rootfs/usr/local/bin/calor-entrypoint"
  # Keys only: no passwords, root may log in with a key.
  cat > "$rootfs/etc/ssh/sshd_config.d/calor.conf" <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
CONF
  rm -f "$rootfs"/etc/ssh/ssh_host_*
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  mkdir -p "$rootfs/workspace" "$rootfs/run/sshd" "$cache"
  tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
fi

podman import --change 'CMD ["/usr/local/bin/calor-entrypoint"]' --change 'EXPOSE 22/tcp' \
  --change 'WORKDIR /workspace' "$tarball" "$image" >/dev/null
echo "$image"
