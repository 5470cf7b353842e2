#!/bin/sh
# The Windows DLL consumer test (tests/install/CMakeLists.txt registers it as install/dll-consumer in
# the cross build):
#  1. cmake --install the build into <work>/prefix (a fresh prefix every run);
#  2. cross-build tests/install/consumer with find_package(tofu CONFIG) against that prefix: `consumer`
#     links the static library, `consumer_shared` tofu.dll through its import library;
#  3. check what each program imports: consumer_shared.exe needs tofu.dll, consumer.exe does not,
#     and tofu.dll itself needs only system DLLs (its C++ runtime is inside);
#  4. run both under Wine, consumer_shared.exe with tofu.dll copied next to it.
set -eu

while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2 ;;
    --work-dir) work=$2 ;;
    --consumer) consumer=$2 ;;
    --cmake) cmake=$2 ;;
    --generator) generator=$2 ;;
    --toolchain) toolchain=$2 ;;
    --objdump) objdump=$2 ;;
    --wine-run) wine_run=$2 ;;
    *) echo "run_dll_consumer.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"
step() { printf '\n== %s\n' "$*"; }
imports() { "$objdump" -p "$1" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr '[:upper:]' '[:lower:]'; }

step "install into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
for f in bin/tofu.dll lib/libtofu.dll.a lib/libtofu.a include/tofu/export.hpp include/tofu/engine.hpp; do
  [ -f "$prefix/$f" ] || { echo "missing $prefix/$f" >&2; exit 1; }
done
cfgdir=$(dirname "$(find "$prefix" -name tofuConfig.cmake | head -n 1)")

step "find_package(tofu CONFIG): cross-build $consumer"
"$cmake" -S "$consumer" -B "$work/cmake-build" -G "$generator" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DCMAKE_BUILD_TYPE=Release -Dtofu_DIR="$cfgdir" >"$work/consumer-configure.log"
"$cmake" --build "$work/cmake-build"
exe_static="$work/cmake-build/consumer.exe"
exe_dll="$work/cmake-build/consumer_shared.exe"
if [ ! -f "$exe_static" ] || [ ! -f "$exe_dll" ]; then
  echo "consumer.exe or consumer_shared.exe not built" >&2
  exit 1
fi
cp "$prefix/bin/tofu.dll" "$work/cmake-build/"

step "imports"
status=0
echo "consumer_shared.exe: $(imports "$exe_dll" | tr '\n' ' ')"
echo "consumer.exe:        $(imports "$exe_static" | tr '\n' ' ')"
echo "tofu.dll:            $(imports "$prefix/bin/tofu.dll" | tr '\n' ' ')"
imports "$exe_dll" | grep -qx 'tofu.dll' || { echo "consumer_shared.exe does not import tofu.dll" >&2; status=1; }
if imports "$exe_static" | grep -qx 'tofu.dll'; then echo "consumer.exe imports tofu.dll" >&2; status=1; fi
if imports "$prefix/bin/tofu.dll" | grep -Eq 'libstdc|libgcc|libwinpthread'; then
  echo "tofu.dll needs a MinGW runtime DLL that Windows does not have" >&2
  status=1
fi

step "run under Wine"
for exe in "$exe_static" "$exe_dll"; do
  printf '%s: ' "${exe##*/}"
  out=$("$wine_run" "$exe") || { echo "FAILED (exit $?): $out" >&2; status=1; continue; }
  out=$(printf '%s' "$out" | tr -d '\r')  # text-mode stdout on Windows ends lines with CR LF
  echo "$out"
  [ "$out" = "echoed: hello, tofu" ] || { echo "unexpected output" >&2; status=1; }
done
exit $status
