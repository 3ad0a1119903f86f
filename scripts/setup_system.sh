#!/usr/bin/env bash
# System packages lift3d needs on Debian: Open3D's wheel links against libusb-1.0. With LIFT3D_WITH_BLENDER=1
# (set by .ci/run) also Debian's Blender for `lift3d blender` and its tests (Blender 3.4.1, ~75 MB download,
# about a minute; its glTF importer needs python3-numpy). Without it the Blender tests are skipped.
# With LIFT3D_WITH_BROWSER=1 also Debian's Chromium and its chromedriver for the web page's browser test
# (tests/test_browser.py, Selenium on the system browser, never a browser download); without them it is skipped.
set -euo pipefail
packages=()
ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0' || packages+=(libusb-1.0-0)
if [ "${LIFT3D_WITH_BLENDER:-0}" = "1" ] && ! command -v blender >/dev/null 2>&1; then
    packages+=(blender python3-numpy)
fi
if [ "${LIFT3D_WITH_BROWSER:-0}" = "1" ] && ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
    packages+=(chromium chromium-driver fonts-dejavu-core)
fi
[ ${#packages[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "lift3d: please install ${packages[*]} with your package manager (libusb-1.0 is needed by open3d)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
