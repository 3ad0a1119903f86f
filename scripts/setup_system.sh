#!/usr/bin/env bash
# System packages lift3d needs on Debian: Open3D's wheel links against libusb-1.0.
set -euo pipefail
if ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "lift3d: please install libusb-1.0 (needed by open3d) with your package manager" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libusb-1.0-0 >/dev/null
