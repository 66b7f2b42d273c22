#!/usr/bin/env bash
# Installs the Debian 12 packages v4oracle needs, only those missing (one apt-get update first).
# Sourced or run by scripts/demo.sh and scripts/test.sh, so both README commands work on a new machine.
set -euo pipefail
pkgs=(build-essential cmake git pkg-config libeigen3-dev libhdf5-dev libcli11-dev libgtest-dev
      libmpfr-dev libgmp-dev python3 python3-h5py python3-numpy)
if [ "${V4ORACLE_WITH_BROWSER:-0}" = 1 ]; then pkgs+=(chromium); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
