#!/usr/bin/env bash
# Builds the instance image locally (no registry is needed): a minimal Debian bookworm root with
# openssh-server, python3 (with venv) and JupyterLab from PyPI in a venv at /opt/jupyter, imported
# into the engine as localhost/calor-instance:<key>. The root filesystem tarball is cached under
# ~/.cache/calor/images and JupyterLab's wheels (cp311, manylinux x86_64, downloaded by the host's
# pip) under ~/.cache/calor/wheels, so a machine builds it once (debootstrap and the venv take a
# few minutes) and later runs only import it. Prints the image reference.
#
# The image's contract with the provisioner (docs/provisioner.md): the entrypoint installs
# $CALOR_SSH_AUTHORIZED_KEY for root, creates host keys and runs sshd on port 22 in the foreground;
# with $CALOR_JUPYTER_TOKEN set it also serves JupyterLab on port 8888 (root dir /workspace).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${CALOR_CACHE:-$HOME/.cache/calor}"
cache="$cache_root/images"
# keyed by the three files' contents only: the same image whatever the checkout's path
key=$(cat "$here/instance-image.sh" "$here/instance-entrypoint.sh" "$here/jupyter-constraints.txt" \
  | sha256sum | cut -c1-12)
image="localhost/calor-instance:$key"
tarball="$cache/calor-instance-$key.tar"
# The image's python3 is bookworm's 3.11: binary wheels only, for CPython 3.11 on glibc <= 2.36.
jupyterlab="jupyterlab==4.6.4"
wheels="$cache_root/wheels/jupyterlab-4.6.4-cp311-manylinux-x86_64-$(sha256sum < "$here/jupyter-constraints.txt" | cut -c1-8)"

if podman image exists "$image" 2>/dev/null; then echo "$image"; exit 0; fi

if [[ ! -s "$tarball" ]]; then
  command -v debootstrap >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2; }
  rootfs=$(mktemp -d /var/tmp/calor-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs" "$wheels.tmp.$$"' EXIT
  if [[ ! -f "$wheels/.complete" ]]; then
    echo "instance image: downloading $jupyterlab and its dependencies (wheels)" >&2
    platforms=()
    for tag in manylinux2014 manylinux_2_17 manylinux_2_28 manylinux_2_34 manylinux_2_35 manylinux_2_36; do
      platforms+=(--platform "${tag}_x86_64")
    done
    python3 -m pip download --quiet --disable-pip-version-check --dest "$wheels.tmp.$$" \
      --only-binary=:all: "${platforms[@]}" --python-version 3.11 --implementation cp \
      --abi cp311 -c "$here/jupyter-constraints.txt" "$jupyterlab" >&2
    touch "$wheels.tmp.$$/.complete"
    rm -rf "$wheels" && mkdir -p "$(dirname "$wheels")" && mv "$wheels.tmp.$$" "$wheels"
  fi
  echo "instance image: debootstrap bookworm + openssh-server + python3 (first time on this machine)" >&2
  debootstrap --variant=minbase --include=openssh-server,iproute2,python3,python3-venv bookworm \
    "$rootfs" http://deb.debian.org/debian >&2
  echo "instance image: JupyterLab venv at /opt/jupyter" >&2
  mkdir -p "$rootfs/tmp/calor-wheels"
  cp "$wheels"/*.whl "$rootfs/tmp/calor-wheels/"
  in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
  in_root python3 -m venv /opt/jupyter >&2
  in_root /opt/jupyter/bin/pip install --quiet --disable-pip-version-check --no-cache-dir \
    --no-index --find-links /tmp/calor-wheels "$jupyterlab" >&2
  rm -rf "$rootfs/tmp/calor-wheels" "$rootfs/root/.cache"
  ln -s /opt/jupyter/bin/jupyter "$rootfs/usr/local/bin/jupyter"
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
  --change 'EXPOSE 8888/tcp' \
  --change 'WORKDIR /workspace' "$tarball" "$image" >/dev/null
echo "$image"
