#!/usr/bin/env bash
# Assembles the runtime bundle: a relocatable folder with every third-party
# library, header, CMake/pkg-config file and code generator that building and
# running auroraedge-server needs besides LibTorch and the C/C++ toolchain,
# taken from Debian bookworm's packages (apt-get download + dpkg -x; nothing is
# installed on the system, so it works as an ordinary user with a readable apt
# cache).
#
# Interface (the deploy scripts and the README rely on it):
#   bash scripts/bundle_runtime.sh OUT_DIR
#   env AURORAEDGE_BUNDLE_CACHE  where downloaded .deb files are kept and reused
#                                (default ~/.cache/auroraedge-bundle)
# OUT_DIR mirrors Debian's /usr, so the packages' own CMake configs work
# unchanged from wherever the folder is moved:
#   OUT_DIR/bin                           protoc, grpc_cpp_plugin (+ the other
#                                         gRPC plugins gRPC's CMake config names)
#   OUT_DIR/include                       headers
#   OUT_DIR/lib/x86_64-linux-gnu          shared libraries, cmake/, pkgconfig/
#   OUT_DIR/share                         header-only packages' CMake configs
#   OUT_DIR/MANIFEST                      package=version, one a line
# The programs in bin/ find their libraries through LD_LIBRARY_PATH=OUT_DIR/lib/
# x86_64-linux-gnu (the build sets it when it runs protoc). Configure with
# -DAURORAEDGE_RUNTIME_BUNDLE=OUT_DIR (cmake/RuntimeBundle.cmake) and
# `cmake --install` gives a relocatable bin/ + lib/ + models/ tree.
#
# Not shipped: glibc, libstdc++ and libgcc_s (the target's own; bookworm's
# builds need glibc >= 2.36 and GLIBCXX <= 3.4.30, i.e. any distribution with
# gcc >= 12, such as Ubuntu 24.04).
#
# Pruning: only the files a kept file needs stay. Libraries are followed
# through ELF NEEDED entries from the programs, the development libraries and
# the files that the shipped CMake configs name; package Depends are followed
# only through packages that supply such a library, so packages a library merely
# dlopens (Mesa behind libGLX) are never fetched. Static libraries, docs, man
# pages and locales are dropped.
#
# Image decoding: Debian's OpenCV imgcodecs links GDAL, GDCM, OpenEXR and about
# 140 libraries (212 MB unpacked). The project decodes JPEG, PNG, BMP and TIFF
# through Leptonica (liblept5: libjpeg-turbo, libpng, libtiff, giflib, libwebp,
# openjpeg) in every build, so the bundle carries OpenCV core and imgproc only.
# The sizes of the options are in README.md ("Without Docker").
set -euo pipefail

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
  exit 2
fi
out=$(realpath -m "$1")
cache=${AURORAEDGE_BUNDLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auroraedge-bundle}
multiarch=x86_64-linux-gnu

# Headers, CMake configs, pkg-config files, development symlinks and programs
# come from these packages; their libraries are found by what needs them.
dev_packages=(
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libc-ares-dev libre2-dev zlib1g-dev libssl-dev
  libspdlog-dev libfmt-dev prometheus-cpp-dev nlohmann-json3-dev
  libpcre2-dev libutf8proc-dev
  libopencv-dev libopencv-core-dev libopencv-imgproc-dev libleptonica-dev
  pkgconf-bin
)
# The programs the build runs; the packages' other programs are left out.
programs='protoc grpc_cpp_plugin pkgconf'
# Targets that those packages' CMake configs define but the bundle leaves
# out, with all they would pull in (CURL behind prometheus-cpp's push, GDAL
# behind OpenCV's imgcodecs): their import checks are removed, so the configs
# load and linking one of them fails at build time.
left_out_targets='gRPC::grpc(\+\+)?_unsecure|gRPC::grpc_(php|python|ruby)_plugin|prometheus-cpp::(pull|push)|opencv_.*'
kept_targets='opencv_core|opencv_imgproc'
# Development links of libraries the project never links (the other widths of
# PCRE2, protobuf-lite).
unused_links='libpcre2-16.so libpcre2-32.so libpcre2-posix.so libprotobuf-lite.so'
# Libraries of the C library and the compiler runtime: the target's own.
system_sonames=" ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1
  libresolv.so.2 libutil.so.1 libanl.so.1 libstdc++.so.6 libgcc_s.so.1 "

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$cache"

declare -A deb_file=() depends=()
# Reads the candidate version's file name (as apt-get download names it) and
# Depends of each package, with one apt-cache call (each call costs seconds).
describe() {
  local p v a d
  while IFS=$'\t' read -r p v a d; do
    deb_file[$p]=$cache/${p}_${v//:/%3a}_$a.deb
    depends[$p]=$d
  done < <(apt-cache show --no-all-versions "$@" 2>/dev/null | awk -F': ' '
    /^Package: / { p = $2; v = a = d = "" }
    /^Version: / { v = $2 }
    /^Architecture: / { a = $2 }
    /^(Pre-)?Depends: / { d = d ", " $2 }
    /^$/ && p != "" { print p "\t" v "\t" a "\t" d; p = "" }
    END { if (p != "") print p "\t" v "\t" a "\t" d }')
}

# Downloads the packages not in the cache yet; names without a candidate
# (virtual packages) are left out.
fetch() {
  local missing=() p
  describe "$@"
  for p in "$@"; do [[ -z ${deb_file[$p]:-} || -f ${deb_file[$p]} ]] || missing+=("$p"); done
  if ((${#missing[@]})); then
    (cd "$cache" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "${missing[@]}" >/dev/null)
  fi
}

# Unpacks a package into $stage/pkg/<package> and records its version.
unpack() {
  local p=$1 deb=${deb_file[$1]}
  mkdir -p "$stage/pkg/$p"
  dpkg -x "$deb" "$stage/pkg/$p"
  # /lib/<multiarch> and /usr/lib/<multiarch> are one folder on a merged-/usr system.
  if [[ -d $stage/pkg/$p/lib ]]; then
    mkdir -p "$stage/pkg/$p/usr/lib"
    cp -a "$stage/pkg/$p/lib/." "$stage/pkg/$p/usr/lib/"
    rm -rf "$stage/pkg/$p/lib"
  fi
  echo "$p=$(dpkg-deb -f "$deb" Version)" >>"$stage/manifest"
}

# Direct dependencies of a package: the first of each set of alternatives.
depends_of() {
  tr ',' '\n' <<<"${depends[$1]}" | sed 's/|.*//; s/([^)]*)//g; s/:any//; s/[[:space:]]//g' | sed '/^$/d'
}

# Every shared library (file or link) a package ships: "file-name path" lines.
# Libraries under an alternatives folder (blas/, lapack/) count as well: the
# link in the main folder is made by update-alternatives, not shipped.
libraries_of() {
  local dir=$stage/pkg/$1/usr/lib/$multiarch
  [[ -d $dir ]] || return 0
  (cd "$dir" && find . -maxdepth 2 -name '*.so.*' \( -type f -o -type l \) -printf '%f %P\n')
}

# The NEEDED entries of an ELF file, and a library's own SONAME (the name
# programs built against it will ask for).
needed_of() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(\(NEEDED\|SONAME\)).*\[\(.*\)\]/\2/p'; }

fetch "${dev_packages[@]}"
for p in "${dev_packages[@]}"; do
  [[ -n ${deb_file[$p]:-} ]] || { echo "bundle_runtime.sh: no package $p in the apt lists (run apt-get update)" >&2; exit 1; }
  unpack "$p"
done

# 1. What the development packages ship for building (no static libraries).
mkdir -p "$out"
rm -rf "${out:?}"/{bin,include,lib,share,MANIFEST}
for p in "${dev_packages[@]}"; do
  src=$stage/pkg/$p/usr
  [[ -d $src/include ]] && cp -a "$src/include" "$out/"
  for program in $programs; do
    [[ -f $src/bin/$program ]] && mkdir -p "$out/bin" && cp -a "$src/bin/$program" "$out/bin/"
  done
  [[ -d $src/share/cmake ]] && mkdir -p "$out/share" && cp -a "$src/share/cmake" "$out/share/"
  [[ -d $src/share/pkgconfig ]] && mkdir -p "$out/share" && cp -a "$src/share/pkgconfig" "$out/share/"
  if [[ -d $src/lib/$multiarch ]]; then
    mkdir -p "$out/lib/$multiarch"
    (cd "$src/lib/$multiarch" && find . \( -name '*.so' -o -path './cmake/*' -o -path './pkgconfig/*' \) \
      -print0 | xargs -0 -r cp -a --parents -t "$out/lib/$multiarch")
  fi
done

# 2. The CMake configs trimmed to what is shipped (see left_out_targets), and
# the relocatable pkg-config files (prefix from the file's own place).
while read -r config; do
  for target in $(sed -nE 's/^list\(APPEND _(cmake_import_check_targets|IMPORT_CHECK_TARGETS) (.*) \)$/\2/p' "$config"); do
    [[ $target =~ ^($left_out_targets)$ && ! $target =~ ^($kept_targets)$ ]] || continue
    for file in $(grep -iF "_for_$target \"" "$config" | grep -oE '/(bin|lib)/[^"]*'); do
      rm -f "$out$file" "$out${file%%.so*}.so"
    done
    grep -viF -e "check_targets $target )" -e "_for_$target \"" "$config" >"$config.trimmed"
    mv "$config.trimmed" "$config"
  done
done < <(grep -rlE '_(cmake_import_check|IMPORT_CHECK)_' "$out/lib/$multiarch/cmake")
sed -i -E 's/^set\(PROMETHEUS_CPP_ENABLE_(PULL|PUSH) ON\)/set(PROMETHEUS_CPP_ENABLE_\1 OFF)/' \
  "$out/lib/$multiarch/cmake/prometheus-cpp/prometheus-cpp-config.cmake"
for pc in "$out"/lib/"$multiarch"/pkgconfig/*.pc "$out"/share/pkgconfig/*.pc; do
  [[ $pc == */share/* ]] && up=../.. || up=../../..
  sed -i -e "s|^prefix=/usr\$|prefix=\${pcfiledir}/$up|" -e "s|=/usr/|=\${pcfiledir}/$up/|" "$pc"
done

for link in $unused_links; do rm -f "$out/lib/$multiarch/$link"; done

# 3. Libraries: the targets of the development links, the files the CMake
# configs name, and everything those and bin/ need, found package by package.
libdir=$out/lib/$multiarch
roots=$(
  find "$libdir" -maxdepth 1 -name '*.so' -type l -printf '%l\n' | xargs -r -n1 basename
  grep -rhE '_(cmake_import_check|IMPORT_CHECK)_' "$libdir/cmake" | grep -oE '/lib/[^"]*\.so[.0-9]*' |
    xargs -r -n1 basename
)
wanted=$roots
declare -A supplier=() useful=() expanded=()
for p in "${dev_packages[@]}"; do useful[$p]=1; done
index() {
  local f path
  while read -r f path; do supplier[$f]=$1/usr/lib/$multiarch/$path; done < <(libraries_of "$1")
}
for p in "${dev_packages[@]}"; do index "$p"; done
while :; do
  # Copy what the unpacked packages supply until nothing new is needed.
  while :; do
    copied=0
    for f in $wanted; do
      [[ -e $libdir/$f || $system_sonames == *" $f "* || -z ${supplier[$f]:-} ]] && continue
      cp -a "$stage/pkg/${supplier[$f]}" "$libdir/$f"
      useful[${supplier[$f]%%/*}]=1
      copied=1
    done
    # NEEDED names sonames, which are links to the real files: keep both.
    wanted=$(
      echo "$roots"
      for f in "$libdir"/*.so.* "$out"/bin/*; do
        if [[ -L $f ]]; then readlink "$f" | xargs basename; elif [[ -f $f ]]; then needed_of "$f"; fi
      done | sort -u
    )
    ((copied)) || break
  done
  missing=()
  for f in $wanted; do
    [[ -e $libdir/$f || $system_sonames == *" $f "* ]] || missing+=("$f")
  done
  ((${#missing[@]})) || break
  # Fetch the direct Depends of the packages in use, one level further.
  next=()
  for p in "${!useful[@]}"; do
    [[ -n ${expanded[$p]:-} ]] && continue
    expanded[$p]=1
    for d in $(depends_of "$p"); do
      [[ -d $stage/pkg/$d || " ${next[*]} " == *" $d "* ]] || next+=("$d")
    done
  done
  if ((${#next[@]} == 0)); then
    echo "bundle_runtime.sh: no package supplies ${missing[*]}" >&2
    exit 1
  fi
  fetch "${next[@]}"
  for p in "${next[@]}"; do
    if [[ -n ${deb_file[$p]:-} ]]; then unpack "$p"; index "$p"; else mkdir -p "$stage/pkg/$p"; fi
  done
done

# 4. The programs find their libraries from wherever the folder is: an RPATH
# (not RUNPATH, so that it also serves their libraries' own dependencies).
fetch patchelf
unpack patchelf
for program in "$out"/bin/*; do
  "$stage/pkg/patchelf/usr/bin/patchelf" --force-rpath --set-rpath "\$ORIGIN/../lib/$multiarch" "$program"
done

# 5. The record of what came from where.
sort "$stage/manifest" | while IFS== read -r p v; do
  [[ -n ${useful[$p]:-} ]] && echo "$p=$v" || true
done >"$out/MANIFEST"
echo "bundle_runtime.sh: $(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1) in $out"
