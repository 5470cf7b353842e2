#!/bin/sh
# The package tests (tests/install/CMakeLists.txt registers them, label "package"):
#   deb: cpack the build as .deb + .tar.gz, check what they hold, unpack the .deb into a scratch
#        root with `dpkg -x` (no root rights, nothing touches the system), then build and run
#        tests/install/consumer against that root only (run_consumer.sh --installed-prefix);
#   zip: (Windows cross build) cpack the .zip and check what it holds.
# Exits 77 after "SKIPPED: <reason>" when cpack or dpkg is missing: never a silent pass.
# Usage: run_package.sh deb|zip --build-dir B --work-dir W --cpack CPACK --cmake CMAKE [--require TOOL]...
#        [--expect PATH]...
#        [--consumer-args ...rest for run_consumer.sh]
set -eu

kind=$1
shift
expect=""
require=""
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2 ;;
    --work-dir) work=$2 ;;
    --cpack) cpack=$2 ;;
    --cmake) cmake=$2 ;;
    --expect) expect="$expect $2" ;;
    --require) require="$require $2" ;;
    --consumer-args) shift; break ;;
    *) echo "run_package.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done

skip() {
  echo "SKIPPED: $*"
  exit 77
}
command -v "$cpack" >/dev/null 2>&1 || skip "cpack ($cpack) is not installed"
for tool in $require; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
if [ "$kind" = deb ]; then
  command -v dpkg-deb >/dev/null 2>&1 || skip "dpkg-deb is not installed (not a Debian system?)"
  command -v dpkg >/dev/null 2>&1 || skip "dpkg is not installed (not a Debian system?)"
  command -v dpkg-shlibdeps >/dev/null 2>&1 || skip "dpkg-shlibdeps is not installed (apt-get install dpkg-dev)"
fi

rm -rf "$work"
mkdir -p "$work"
step() { printf '\n== %s\n' "$*"; }

# has LIST_FILE PATH_PATTERN: the listing has a line matching the (grep -E) pattern.
status=0
has() {
  if grep -Eq "$2" "$1"; then echo "ok: $2"; else echo "MISSING: $2" >&2; status=1; fi
}

case "$kind" in
  deb)
    step "cpack -G DEB;TGZ"
    (cd "$work" && "$cpack" --config "$build/CPackConfig.cmake" -G "DEB;TGZ" -B "$work/out") >"$work/cpack.log" 2>&1 ||
      { cat "$work/cpack.log" >&2; exit 1; }
    deb=$(ls "$work"/out/*.deb)
    tgz=$(ls "$work"/out/*.tar.gz)
    ls -l "$deb" "$tgz"
    dpkg-deb --info "$deb" | sed -n '/Package:/,$p'
    dpkg-deb --contents "$deb" | awk '{print $6}' | sed 's#^\./##' >"$work/deb.list"
    tar tzf "$tgz" | sed 's#^[^/]*/##' >"$work/tgz.list"
    for list in "$work/deb.list" "$work/tgz.list"; do
      step "contents of $(basename "$list" .list)"
      prefix=""
      [ "$list" = "$work/deb.list" ] && prefix="usr/"
      for p in include/tofu/engine.hpp include/tofu/version.hpp include/tofu/uds_access.hpp \
               'lib[^ ]*/libtofu\.a$' 'lib[^ ]*/libtofu\.so' 'lib[^ ]*/libtofu_platform\.a$' \
               'lib[^ ]*/cmake/tofu/tofuConfig\.cmake$' 'lib[^ ]*/pkgconfig/tofu\.pc$' \
               'bin/tofu_perf$' 'share/doc/tofu/stages\.md$' 'share/doc/tofu/README\.md$' $expect; do
        has "$list" "^$prefix$p"
      done
    done
    step "dpkg -x into $work/root"
    dpkg -x "$deb" "$work/root"
    "$work/root/usr/bin/tofu_perf" --help >/dev/null || { echo "the packaged tofu_perf does not run" >&2; status=1; }
    step "build the consumer against the unpacked package"
    sh "$(dirname "$0")/run_consumer.sh" --build-dir "$build" --work-dir "$work/consumer" \
      --installed-prefix "$work/root/usr" "$@" || status=1
    ;;
  zip)
    step "cpack -G ZIP"
    (cd "$work" && "$cpack" --config "$build/CPackConfig.cmake" -G ZIP -B "$work/out") >"$work/cpack.log" 2>&1 ||
      { cat "$work/cpack.log" >&2; exit 1; }
    zip=$(ls "$work"/out/*.zip)
    ls -l "$zip"
    (cd "$work" && "$cmake" -E tar tf "$zip") | sed 's#^[^/]*/##' >"$work/zip.list"
    for p in include/tofu/engine.hpp include/tofu/version.hpp 'lib/libtofu\.a$' 'lib/libtofu_platform\.a$' \
             'lib/cmake/tofu/tofuConfig\.cmake$' 'lib/pkgconfig/tofu\.pc$' 'bin/tofu_perf\.exe$' \
             'share/doc/tofu/stages\.md$' $expect; do
      has "$work/zip.list" "^$p"
    done
    # Whatever this build made goes in: every stage binary, the C++ stage runner and a DLL when
    # the build has them (issue K adds those two).
    for exe in "$build"/poc/stage*.exe; do
      [ -f "$exe" ] && has "$work/zip.list" "^libexec/tofu/poc/$(basename "$exe")\$"
    done
    if find "$build" -name 'tofu_stages.exe' ! -path '*/_CPack_Packages/*' ! -path "$work/*" | grep -q .; then
      has "$work/zip.list" '^bin/tofu_stages\.exe$'
    fi
    for dll in $(find "$build" -name 'libtofu*.dll' ! -path '*/packages/*' ! -path '*/_CPack_Packages/*' ! -path "$work/*"); do
      has "$work/zip.list" "^bin/$(basename "$dll")\$"
    done
    [ "$(grep -c '^libexec/tofu/poc/stage.*\.exe$' "$work/zip.list")" -gt 0 ] || { echo "no stage binary in the zip" >&2; status=1; }
    ;;
  *) echo "run_package.sh: deb or zip" >&2; exit 2 ;;
esac
exit $status
