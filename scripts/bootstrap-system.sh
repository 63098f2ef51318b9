#!/usr/bin/env bash
# Installs the Debian packages geopera-web needs, only those that are missing.
# --browser adds Chromium (for the browser tests). Needs root (or sudo) only when installing.
set -euo pipefail

packages=(postgresql postgresql-15-postgis-3 gdal-bin libgdal-dev redis-server python3-venv)
[[ "${1:-}" == "--browser" ]] && packages=(chromium fonts-dejavu-core)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
