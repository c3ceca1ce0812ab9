#!/usr/bin/env bash
# The relocatable tree end to end (CTest label bundle; -DAURORAEDGE_BUNDLE_TESTS=ON):
#   1. scripts/bundle_runtime.sh makes the runtime bundle (apt cache reused);
#   2. the project is configured and built against it and Debian's LibTorch,
#      and nothing it compiled or linked came from the system's copies of the
#      bundled packages (every header the compiler read and every library on
#      the link lines: the bundle, the C/C++ toolchain or LibTorch);
#   3. `cmake --install` makes the tree, whose programs and libraries need
#      nothing outside lib/ but glibc, libstdc++ and LibTorch;
#   4. in a Debian bookworm chroot of --variant=minbase (cached; none of the
#      -dev or library packages), with Debian's LibTorch libraries in a folder
#      of their own, the tree's server serves the demo model: health SERVING,
#      and a Generate answer equal to the normal build's on the same image.
# Runs as root (debootstrap, chroot, bind mounts).
#
#   relocatable_tree_test.sh SOURCE_DIR WORK_DIR NORMAL_SERVER NORMAL_CLI
# With AURORAEDGE_TEST_BUNDLE=DIR and AURORAEDGE_TEST_BUNDLE_BUILD=DIR (a
# bundle and a build against it made by hand), steps 1 and 2 check those
# instead of making new ones.
set -euo pipefail
source_dir=$1 work=$2 normal_server=$3 normal_cli=$4
cache=${AURORAEDGE_BUNDLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auroraedge-bundle}
bundle=${AURORAEDGE_TEST_BUNDLE:-$work/bundle} build=${AURORAEDGE_TEST_BUNDLE_BUILD:-$work/build}
tree=$work/tree root=$work/chroot
mkdir -p "$work" "$cache"
step() { echo "== $(date +%T) $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

if [[ -z ${AURORAEDGE_TEST_BUNDLE_BUILD:-} ]]; then
  step "1. the runtime bundle"
  bash "$source_dir/scripts/bundle_runtime.sh" "$bundle"
  step "2. a build against it"
  cmake -S "$source_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAURORAEDGE_BUILD_TESTS=OFF \
    -DAURORAEDGE_RUNTIME_BUNDLE="$bundle" -DTorch_DIR=/usr/lib/x86_64-linux-gnu/cmake/Torch >"$work/configure.log"
  cmake --build "$build" -j2 --target auroraedge-server auroraedge-cli >"$work/build.log"
fi
step "2. what the build read and linked"

# Every package the project finds itself comes from the bundle.
leaks=$(grep -E '^(gRPC|absl|fmt|spdlog|prometheus-cpp|nlohmann_json|OpenCV)_DIR|^(Protobuf|OPENSSL|ZLIB|PKG_CONFIG)_[A-Z_]*:' \
  "$build/CMakeCache.txt" | grep -v "$bundle" | grep -v -- '-NOTFOUND$' | grep '=/' || true)
[[ -z $leaks ]] || fail "CMake found these outside the bundle: $leaks"
# Headers: the ones under /usr/include must be the C library's, the
# compiler's, the kernel's or LibTorch's (with glog/gflags, which Debian's
# c10 headers include), never a bundled package's.
(cd "$build" && ninja -t deps) | awk '/^ /{print $1}' | grep '^/usr/include/' | sort -u >"$work/system-headers"
dpkg -S $(cat "$work/system-headers") 2>/dev/null | cut -d: -f1 | tr ',' '\n' | sed 's/ //g' | sort -u >"$work/header-packages"
allowed='^(libc6-dev|linux-libc-dev|libstdc\+\+-12-dev|libgcc-12-dev|libtorch-dev|libgoogle-glog-dev|libgflags-dev)$'
bad=$(grep -vE "$allowed" "$work/header-packages" || true)
[[ -z $bad ]] || fail "headers read from the system's packages: $bad"
# Libraries on the link lines: the bundle's, or LibTorch's.
(cd "$build" && ninja -t commands auroraedge-server auroraedge-cli) | grep -- ' -o server/src/app/auroraedge-' |
  tr ' ' '\n' | grep -E '^/.*\.(so|a)[.0-9]*$' | sort -u >"$work/linked"
bad=$(grep -v "^$bundle/" "$work/linked" | grep -vE '^/usr/lib/x86_64-linux-gnu/lib(torch|torch_cpu|c10|shm|gflags|glog)[^/]*\.so' || true)
[[ -z $bad ]] || fail "linked from outside the bundle: $bad"
echo "checked: $(wc -l <"$work/system-headers") system headers (toolchain/LibTorch), $(wc -l <"$work/linked") libraries linked"

step "3. the relocatable tree"
rm -rf "$tree"
cmake --install "$build" --prefix "$tree" >"$work/install.log"
system='^(ld-linux-x86-64\.so\.2|lib(c|m|dl|rt|pthread|resolv|util|gcc_s|stdc\+\+)\.so\.[0-9]+|lib(torch|torch_cpu|c10)\.so.*)$'
for f in "$tree"/bin/* "$tree"/lib/*; do
  [[ -f $f && ! -L $f ]] || continue
  for needed in $(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [[ -e $tree/lib/$needed || $needed =~ $system ]] || fail "$(basename "$f") needs $needed, not in lib/"
  done
done
readelf -d "$tree/bin/auroraedge-server" | grep -q 'RPATH.*\$ORIGIN/../lib' || fail "no \$ORIGIN RPATH"
echo "tree: $(du -sh "$tree/bin" | cut -f1) bin, $(du -sh "$tree/lib" | cut -f1) lib ($(ls "$tree/lib" | wc -l) files), $(du -sh "$tree/models" | cut -f1) models"

step "4. the tree in a minimal bookworm chroot"
base=$cache/bookworm-minbase.tar
if [[ ! -f $base ]]; then
  rm -rf "$work/debootstrap"
  debootstrap --variant=minbase bookworm "$work/debootstrap" >"$work/debootstrap.log"
  tar -C "$work/debootstrap" -cf "$base" .
  rm -rf "$work/debootstrap"
fi
cleanup() {
  for m in proc dev; do mountpoint -q "$root/$m" && umount "$root/$m"; done
  [[ -n ${server_pids:-} ]] && kill $server_pids 2>/dev/null || true
}
trap cleanup EXIT
cleanup
rm -rf "$root" && mkdir -p "$root" && tar -C "$root" -xf "$base"
if chroot "$root" dpkg-query -W -f='${Package}\n' | grep -E -- '-dev$|grpc|protobuf|opencv|lept|spdlog|prometheus'; then
  fail "the chroot has development or bundled packages"
fi
mkdir -p "$root/opt"
# Moved, to prove the tree relocatable: built for $tree, run from /opt/auroraedge.
cp -a "$tree" "$root/opt/auroraedge"
# Debian's LibTorch and what it needs, beside the tree (test only).
mkdir -p "$root/opt/libtorch"
ldd /usr/lib/x86_64-linux-gnu/libtorch.so | awk '/=> \//{print $3}' | while read -r lib; do
  [[ -e $root/lib/x86_64-linux-gnu/$(basename "$lib") ]] || cp -L "$lib" "$root/opt/libtorch/"
done
cp -L /usr/lib/x86_64-linux-gnu/libtorch.so* "$root/opt/libtorch/"
mount --bind /proc "$root/proc"
mount --bind /dev "$root/dev"
in_root() { chroot "$root" env LD_LIBRARY_PATH=/opt/libtorch "$@"; }
in_root ldd /opt/auroraedge/bin/auroraedge-server >"$work/ldd.txt"
! grep -q 'not found' "$work/ldd.txt" || fail "unresolved in the chroot: $(grep 'not found' "$work/ldd.txt")"
bad=$(awk '/=> \//{print $3}' "$work/ldd.txt" | grep -vE '^/opt/auroraedge/(bin/\.\./)?lib/|^/opt/libtorch/|^/lib/x86_64-linux-gnu/|^/usr/lib/x86_64-linux-gnu/' || true)
[[ -z $bad ]] || fail "loaded from elsewhere: $bad"

ports=($(/usr/bin/python3 -c 'import socket
s = [socket.socket() for _ in range(4)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))'))
model=models/auroraedge-demo image=models/samples/scratch-1.png prompt="Give the inspection record as JSON."
# chroot and env exec the server, so $! is the server itself.
chroot "$root" env LD_LIBRARY_PATH=/opt/libtorch /opt/auroraedge/bin/auroraedge-server \
  --model /opt/auroraedge/$model --threads 1 --listen 127.0.0.1:${ports[0]} \
  --metrics-listen 127.0.0.1:${ports[1]} >"$work/chroot-server.log" 2>&1 &
server_pids=$!
(cd "$source_dir" && exec "$normal_server" --model "$model" --threads 1 --listen 127.0.0.1:${ports[2]} \
  --metrics-listen 127.0.0.1:${ports[3]} >"$work/normal-server.log" 2>&1) &
server_pids+=" $!"
wait_serving() {  # up to 120 s: a busy 2-core machine loads the model slowly
  for _ in $(seq 600); do "$@" health >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
wait_serving in_root /opt/auroraedge/bin/auroraedge-cli --address 127.0.0.1:${ports[0]} ||
  fail "the chroot's server never became SERVING: $(tail -5 "$work/chroot-server.log")"
wait_serving "$normal_cli" --address 127.0.0.1:${ports[2]} || fail "the normal build's server never became SERVING"
echo "health: SERVING (chroot)"
cp "$source_dir/$image" "$root/tmp/image.png"
chrooted=$(in_root /opt/auroraedge/bin/auroraedge-cli --address 127.0.0.1:${ports[0]} generate \
  --image /tmp/image.png --prompt "$prompt" 2>/dev/null)
normal=$("$normal_cli" --address 127.0.0.1:${ports[2]} generate --image "$source_dir/$image" \
  --prompt "$prompt" 2>/dev/null)
echo "chroot: $chrooted"
echo "normal: $normal"
[[ -n $chrooted && $chrooted == "$normal" ]] || fail "the answers differ"
echo "PASS: the relocatable tree serves the demo model in a minimal chroot, as the normal build"
