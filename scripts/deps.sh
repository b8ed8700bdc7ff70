#!/usr/bin/env bash
# Installs what Hearth needs to build and test on Debian 12 (run as root, or with sudo).
# When every package is already installed it changes nothing (no apt-get, no root needed).
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libssl-dev libedit-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-jinja2 docker-registry tmux curl openssl openssh-client  # test certificates, ssh-keygen
  systemd  # systemd-analyze verifies the unit scripts/install.sh writes
  libvulkan-dev glslc mesa-vulkan-drivers  # the Vulkan backend; lavapipe runs its tests on the CPU
)
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps.sh: all build dependencies are installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
