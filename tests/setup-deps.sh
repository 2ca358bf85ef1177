#!/bin/sh
# Installs what building, booting and testing core needs on Debian 12, and fetches the Debian
# packages the examples link (a cloud kernel and busybox) into examples/debs/. Idempotent.
set -eu
cd "$(dirname "$0")/.."

packages="build-essential pkg-config musl-tools clang libyaml-dev libarchive-dev libzstd-dev libssl-dev
  libjansson-dev libcmocka-dev libelf-dev libcurl4-openssl-dev libgit2-dev qemu-system-x86 skopeo
  docker-registry apache2-utils curl git dpkg-dev e2fsprogs openssl zstd cpio python3 bc time
  python3-jsonschema python3-yaml zlib1g-dev systemd-boot-efi isolinux syslinux-common ovmf qemu-utils
  xorriso genisoimage gdisk fdisk dosfstools mtools age diffoscope-minimal"

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup-deps: installing$missing"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

# The examples take their kernel and userland from Debian packages, read straight from the .deb.
debs=examples/debs
mkdir -p "$debs"
fetch() { # fetch PACKAGE STABLE-NAME
  [ -s "$debs/$2" ] && return 0
  tmp=$(mktemp -d)
  ( cd "$tmp" && apt-get download "$1" >/dev/null 2>&1 ) || {
    $sudo apt-get update -q >/dev/null && ( cd "$tmp" && apt-get download "$1" )
  }
  mv "$tmp"/*.deb "$debs/$2.tmp" && mv "$debs/$2.tmp" "$debs/$2"
  rmdir "$tmp" 2>/dev/null || rm -rf "$tmp"
  echo "setup-deps: fetched $1 into $debs/$2"
}
# The cloud kernel metapackage names the current kernel; take that exact package.
kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
if [ -z "$kernel_pkg" ]; then
  $sudo apt-get update -q >/dev/null
  kernel_pkg=$(apt-cache depends linux-image-cloud-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n 1)
fi
[ -n "$kernel_pkg" ] || { echo "setup-deps: cannot find the Debian cloud kernel package (linux-image-cloud-amd64)" >&2; exit 1; }
fetch "$kernel_pkg" linux-image-cloud-amd64.deb
fetch busybox-static busybox-static.deb
