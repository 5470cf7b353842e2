#!/bin/sh
# The install consumer test (tests/install/CMakeLists.txt registers it as install/consumer):
#  1. cmake --install the build into <work>/prefix (a fresh prefix every run), or, with
#     --installed-prefix DIR, use DIR as it is (the unpacked .deb of the package test);
#  2. configure + build tests/install/consumer with find_package(tofu CONFIG) against that prefix only;
#  3. build the same main.cpp with the compiler and `pkg-config --cflags --libs tofu`, against the
#     shared library and (`--static`) against the static one;
#  4. run every program built;
#  5. check that the echo example in README.md and docs/getting-started.md is main.cpp verbatim.
set -eu

flags=""
config=""
installed=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2 ;;
    --work-dir) work=$2 ;;
    --consumer) consumer=$2 ;;
    --source-dir) source=$2 ;;
    --cmake) cmake=$2 ;;
    --generator) generator=$2 ;;
    --cxx) cxx=$2 ;;
    --pkg-config) pkgconfig=$2 ;;
    --config) config=$2 ;;
    --flags) flags=$2 ;;
    --installed-prefix) installed=$2 ;;
    *) echo "run_consumer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

prefix="${installed:-$work/prefix}"
rm -rf "$work"
mkdir -p "$work"

step() { printf '\n== %s\n' "$*"; }

if [ -n "$installed" ]; then
  step "use the installed tree $prefix"
else
  step "install into $prefix"
  if [ -n "$config" ]; then
    "$cmake" --install "$build" --prefix "$prefix" --config "$config" >"$work/install.log"
  else
    "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
  fi
fi
for f in include/tofu/engine.hpp include/tofu/version.hpp; do
  [ -f "$prefix/$f" ] || { echo "missing $prefix/$f" >&2; exit 1; }
done
# No private header may leak into the prefix.
if find "$prefix/include" -type f ! -path "*/include/tofu/*.hpp" | grep -q .; then
  echo "unexpected files under $prefix/include:" >&2
  find "$prefix/include" -type f ! -path "*/include/tofu/*.hpp" >&2
  exit 1
fi
pcfile=$(find "$prefix" -name tofu.pc | head -n 1)
cfgfile=$(find "$prefix" -name tofuConfig.cmake | head -n 1)
[ -n "$pcfile" ] && [ -n "$cfgfile" ] || { echo "tofu.pc or tofuConfig.cmake not installed" >&2; exit 1; }
libdir=$(dirname "$(dirname "$pcfile")")
echo "installed: $(find "$prefix" -type f | wc -l) files; libdir $libdir"

step "find_package(tofu CONFIG): configure + build $consumer"
# Only the scratch prefix may provide tofu (not the build tree, not /usr/local).
"$cmake" -S "$consumer" -B "$work/cmake-build" -G "$generator" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS="$flags" ${config:+-DCMAKE_BUILD_TYPE="$config"} \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$work/consumer-configure.log"
found=$(sed -n 's/^tofu_DIR:PATH=//p' "$work/cmake-build/CMakeCache.txt")
case "$found" in
  "$prefix"/*) echo "tofu_DIR=$found" ;;
  *) echo "find_package found tofu outside the prefix: '$found'" >&2; exit 1 ;;
esac
"$cmake" --build "$work/cmake-build"

step "pkg-config: $cxx \$(pkg-config --cflags --libs tofu)"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
echo "cflags: $("$pkgconfig" --cflags tofu)"
echo "libs:   $("$pkgconfig" --libs tofu)"
echo "static: $("$pkgconfig" --static --libs tofu)"
# shellcheck disable=SC2046,SC2086
"$cxx" -std=c++20 $flags -o "$work/pc-consumer" "$consumer/main.cpp" $("$pkgconfig" --cflags --libs tofu)
# The static archives named explicitly (-ltofu would pick libtofu.so), the rest from --static.
static_libs=$("$pkgconfig" --static --libs tofu | sed 's/-ltofu_platform//; s/-ltofu\b//')
# shellcheck disable=SC2046,SC2086
"$cxx" -std=c++20 $flags -o "$work/pc-consumer-static" "$consumer/main.cpp" $("$pkgconfig" --cflags tofu) \
  "$libdir/libtofu.a" "$libdir/libtofu_platform.a" $static_libs

step "run"
status=0
# Every program must have been built: consumer_shared exactly when the package has libtofu.so.
programs="$work/cmake-build/consumer $work/pc-consumer $work/pc-consumer-static"
if ls "$libdir"/libtofu.so* >/dev/null 2>&1; then programs="$programs $work/cmake-build/consumer_shared"; fi
for exe in $programs; do
  if [ ! -x "$exe" ]; then
    echo "${exe#"$work"/}: was not built" >&2
    status=1
    continue
  fi
  printf '%s: ' "${exe#"$work"/}"
  if LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$exe"; then :; else
    echo "FAILED (exit $?)" >&2
    status=1
  fi
done
# The shared-library builds really use libtofu.so.
if [ -x "$work/pc-consumer" ] && ! LD_LIBRARY_PATH="$libdir" ldd "$work/pc-consumer" | grep -q "libtofu.so"; then
  echo "pc-consumer does not link libtofu.so" >&2
  status=1
fi

step "the documented example is main.cpp"
# Between the markers <!-- echo-example --> and <!-- /echo-example --> sits a ```cpp block.
for doc in "$source/README.md" "$source/docs/getting-started.md"; do
  if [ ! -f "$doc" ]; then
    echo "${doc#"$source"/}: missing" >&2
    status=1
    continue
  fi
  awk '/<!-- echo-example -->/{on=1; next} /<!-- \/echo-example -->/{on=0} on' "$doc" |
    sed '/^```/d' >"$work/snippet.cpp"
  if cmp -s "$work/snippet.cpp" "$consumer/main.cpp"; then
    echo "${doc#"$source"/}: same as main.cpp"
  else
    echo "${doc#"$source"/}: the echo example differs from tests/install/consumer/main.cpp:" >&2
    diff "$consumer/main.cpp" "$work/snippet.cpp" >&2 || true
    status=1
  fi
done
exit $status
