#!/usr/bin/env bash
# Builds the CPU runtime image (docker/Dockerfile.cpu) with Debian's buildah
# from the project's own build: the auroraedge-server and auroraedge-cli that
# the build tree holds (the binaries the test suite ran), the shared libraries
# they load on this machine, and the shipped demo model. Nothing is compiled
# in the image; the build machine must be Debian bookworm amd64, the image's
# base (scripts/setup.sh's platform).
#
#   bash docker/build_cpu_image.sh BUILD_DIR             stage and build
#   bash docker/build_cpu_image.sh --context-only BUILD_DIR
#       stage only; then, with Docker instead of buildah:
#       docker build -f docker/Dockerfile.cpu -t auroraedge-serve:cpu BUILD_DIR/image/context
#
# Environment:
#   AURORAEDGE_IMAGE_CACHE  the base image's rootfs tarball and the container
#                           storage (vfs), kept between runs
#                           (default BUILD_DIR/image/cache)
#   AURORAEDGE_IMAGE_TAG    default localhost/auroraedge-serve:cpu
#   DEBIAN_MIRROR           default http://deb.debian.org/debian
#
# No registry is needed: the base image (BUILD_DIR/image/cache) is Debian
# bookworm made by debootstrap (minbase, upgraded from bookworm-updates and
# bookworm-security, documentation and locales left out as in Debian's slim
# images) and imported once. Storage is vfs and isolation chroot, which work
# in an unprivileged container or VM without overlay mounts. Point podman at
# the same storage with CONTAINERS_STORAGE_CONF=CACHE/storage.conf.
#
# Prints, and writes to BUILD_DIR/image/report.json, the image's size and the
# build's wall time.
set -euo pipefail

context_only=false
if [[ ${1:-} == --context-only ]]; then
  context_only=true
  shift
fi
if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath "$1")
out=$build/image
cache=$(realpath -m "${AURORAEDGE_IMAGE_CACHE:-$out/cache}")
tag=${AURORAEDGE_IMAGE_TAG:-localhost/auroraedge-serve:cpu}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
base_image=localhost/auroraedge-base:bookworm
started=$(date +%s%N)

binaries=("$build/server/src/app/auroraedge-server" "$build/server/src/app/auroraedge-cli")
for binary in "${binaries[@]}"; do
  [[ -x $binary ]] || { echo "build_cpu_image.sh: no $binary (build first: bash scripts/build.sh)" >&2; exit 1; }
done

# --- 1. The build context: binaries, libraries, model, licenses ---------------
# Libraries of the C library and the compiler runtime come from the base image
# (the same Debian release); every other library the binaries load is copied
# under its soname, alternatives resolved (libblas.so.3 is OpenBLAS here, as
# scripts/setup.sh sets it).
context=$out/context
rm -rf "$context"
mkdir -p "$context/bin" "$context/lib" "$context/share/doc" "$context/models"
cp "${binaries[@]}" "$context/bin/"
cp -r "$root/models/auroraedge-demo" "$context/models/"
base_sonames=" ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1
  libresolv.so.2 libutil.so.1 libanl.so.1 libstdc++.so.6 libgcc_s.so.1 "
libraries=()
while read -r soname path; do
  [[ $base_sonames == *" $soname "* ]] && continue
  cp -L "$path" "$context/lib/$soname"
  libraries+=("$(readlink -f "$path")")
done < <(ldd "${binaries[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u)
if ldd "${binaries[@]}" | grep -q "not found"; then
  echo "build_cpu_image.sh: a library of the binaries is missing on this machine" >&2
  exit 1
fi

# The Debian packages the libraries came from: their versions (MANIFEST) and
# copyright files. dpkg records a file under /lib or /usr/lib as shipped.
queries=()
for library in "${libraries[@]}"; do queries+=("$library" "${library#/usr}"); done
mapfile -t packages < <(dpkg-query -S "${queries[@]}" 2>/dev/null | cut -d: -f1 | sort -u)
for package in "${packages[@]}"; do
  echo "$package=$(dpkg-query -W -f='${Version}' "$package")" >>"$context/share/MANIFEST"
  mkdir -p "$context/share/doc/$package"
  cp "/usr/share/doc/$package/copyright" "$context/share/doc/$package/"
done
echo "build_cpu_image.sh: context $context: ${#libraries[@]} libraries from ${#packages[@]} packages," \
  "$(du -sh "$context/lib" | cut -f1) of libraries"
$context_only && exit 0

# --- 2. Container storage and the base image (cached) -------------------------
mkdir -p "$cache"
cat >"$cache/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$cache/storage"
runroot = "$cache/run"
EOF
export CONTAINERS_STORAGE_CONF=$cache/storage.conf
buildah_() { buildah --storage-driver vfs "$@"; }

if ! buildah_ inspect --type image "$base_image" >/dev/null 2>&1; then
  rootfs_tar=$cache/debian-bookworm-minbase.tar
  if [[ ! -f $rootfs_tar ]]; then
    rootfs=$cache/rootfs
    rm -rf "$rootfs"
    echo "build_cpu_image.sh: debootstrap bookworm (minbase) from $mirror"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || { tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
    # Debian's slim images: no documentation but the copyright files, no
    # manual pages, no locales; the same for packages installed later.
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$rootfs/usr/share/man" "$rootfs/usr/share/info" "$rootfs/usr/share/lintian"
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
    cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$rootfs_tar.partial" .
    mv "$rootfs_tar.partial" "$rootfs_tar"
    rm -rf "$rootfs"
  fi
  echo "build_cpu_image.sh: importing the base image $base_image"
  container=$(buildah_ from scratch)
  buildah_ add "$container" "$rootfs_tar" / >/dev/null
  buildah_ config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd bash "$container"
  # Updates published since the release's last point release.
  buildah_ run --isolation chroot "$container" -- sh -c \
    'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -q && apt-get clean && rm -rf /var/lib/apt/lists/*' \
    >"$cache/upgrade.log" 2>&1 || { tail -n 20 "$cache/upgrade.log" >&2; exit 1; }
  buildah_ commit --rm "$container" "$base_image" >/dev/null
fi

# --- 3. The image ---------------------------------------------------------------
buildah_ bud --isolation chroot --pull=never --layers --format docker \
  --build-arg BASE_IMAGE="$base_image" -f "$root/docker/Dockerfile.cpu" -t "$tag" "$context"

size=$(podman --storage-driver vfs image inspect --format '{{.Size}}' "$tag")
milliseconds=$((($(date +%s%N) - started) / 1000000))
printf '{"image": "%s", "size_bytes": %s, "build_seconds": %d.%03d, "libraries": %d, "library_bytes": %s}\n' \
  "$tag" "$size" $((milliseconds / 1000)) $((milliseconds % 1000)) "${#libraries[@]}" \
  "$(du -sb "$context/lib" | cut -f1)" | tee "$out/report.json"
