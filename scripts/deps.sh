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
)
# Node and npm run the npm client tests (tests/e2e/npm). A Node already on PATH (NodeSource, nvm)
# is kept; Debian's own packages are installed only when there is none.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi
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
