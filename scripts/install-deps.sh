#!/usr/bin/env bash
# Installs the Debian 12 packages tofu needs to build, test and benchmark (as root).
# Skips apt entirely when everything is already installed.
set -euo pipefail
packages=(cmake ninja-build g++ clang clang-tidy libclang-rt-14-dev catch2 libspdlog-dev libfmt-dev
          g++-mingw-w64-x86-64-posix wine wine64 libzmq3-dev gnuplot-nox doxygen pkg-config
          util-linux procps nlohmann-json3-dev libcli11-dev gdb)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -q
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
