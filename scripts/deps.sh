#!/usr/bin/env bash
# Installs what Hearth needs to build and test on Debian 12 (run as root, or with sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential cmake pkg-config git ca-certificates \
  libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libcurl4-openssl-dev libssl-dev libedit-dev \
  libgtest-dev libgmock-dev libbenchmark-dev \
  python3 python3-jinja2 docker-registry tmux curl
