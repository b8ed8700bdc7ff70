#!/usr/bin/env bash
# Installs what Hearth needs to build and test on Debian 12 (run as root, or with sudo).
# When every package is already installed it changes nothing (no apt-get, no root needed);
# web/node_modules is installed with npm ci when web/package-lock.json changed.
set -euo pipefail
PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libssl-dev libedit-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-jinja2 docker-registry tmux curl openssl openssh-client  # test certificates, ssh-keygen
  systemd  # systemd-analyze verifies the unit scripts/install.sh writes
  libvulkan-dev glslc mesa-vulkan-drivers  # the Vulkan backend; lavapipe runs its tests on the CPU
)
# The web page's browser tests (web/test): headless chromium, and a font for its text.
PACKAGES+=(chromium chromium-driver fonts-dejavu-core)
# Node.js and npm build and test the web page (web/) and run the npm client tests (tests/e2e/npm).
# A Node already on PATH (NodeSource, nvm) is kept: NodeSource's nodejs bundles npm and conflicts
# with Debian's npm package. Debian's own packages are installed only when there is none.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi
missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps.sh: all build dependencies are installed"
else
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The web page's npm packages, exactly as web/package-lock.json pins them; again only when the
# lock file changed since the last install.
WEB="$(dirname "$0")/../web"
if ! cmp -s "$WEB/package-lock.json" "$WEB/node_modules/.deps-lock.json"; then
  (cd "$WEB" && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.deps-lock.json)
fi
