#!/usr/bin/env bash
# Installs the Debian packages fpprof builds and tests with (run as root, as on these machines).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $(grep -v '^#' scripts/packages.txt) >/dev/null
