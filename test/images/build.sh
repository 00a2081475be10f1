#!/usr/bin/env bash
# Builds the local images the Docker integration tests run in. No registry is
# reachable from the test machines, so nothing is pulled: each image is a
# root filesystem made from Debian packages and loaded with `docker import`.
#
#   modelrun-test/busybox   busybox-static: a shell and the usual tools
#   modelrun-test/node      the same plus Debian's nodejs, for the example model
#
# Usage: test/images/build.sh [--force]   (skips images that already exist)
set -euo pipefail

force=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have_image() { [[ "$force" != --force ]] && docker image inspect "$1" >/dev/null 2>&1; }

# Unpacks Debian packages (downloaded, not installed) into a folder.
unpack() {
  local root=$1
  shift
  (cd "$work" && apt-get -qq -o APT::Sandbox::User=root download "$@")
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  rm -f "$work"/*.deb
}

busybox_rootfs() {
  local root=$1
  mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,app/run}
  unpack "$root" busybox-static
  # Every applet as a link, so /bin/sh, sleep, cat, sha256sum … exist.
  for applet in $("$root/bin/busybox" --list); do
    [[ -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}

import_rootfs() {
  local root=$1 tag=$2
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["/bin/sh"]' - "$tag" >/dev/null
  echo "built $tag ($(docker image inspect --format '{{.Size}}' "$tag") bytes)"
}

if ! have_image modelrun-test/busybox; then
  busybox_rootfs "$work/busybox"
  import_rootfs "$work/busybox" modelrun-test/busybox
fi

if ! have_image modelrun-test/node; then
  busybox_rootfs "$work/node"
  # Debian's own nodejs, whatever other nodejs the host has installed, and
  # the libraries it links, glibc included.
  debian_version() { apt-cache madison "$1" | awk '/debian\.org/ { print $3; exit }'; }
  unpack "$work/node" "nodejs=$(debian_version nodejs)" "libnode108=$(debian_version libnode108)" libc6 libgcc-s1 libstdc++6 libuv1 libbrotli1 \
    libc-ares2 libicu72 libnghttp2-14 libssl3 zlib1g node-acorn node-cjs-module-lexer node-undici
  import_rootfs "$work/node" modelrun-test/node
fi
