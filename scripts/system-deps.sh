#!/usr/bin/env bash
# Installs the system tools the test suite drives for real: gpg, zip and 7z (independent
# producers of encrypted archives) and Debian's chromium (driven by Playwright for UI tests;
# Playwright's own browser download is never used). Debian/Ubuntu with root or sudo; elsewhere it says what is
# missing and fails, because the tests fail (never skip) without them.
set -euo pipefail
need=()
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
command -v zip >/dev/null 2>&1 || need+=(zip)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
command -v 7z >/dev/null 2>&1 || need+=(p7zip-full)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-get not found: install ${need[*]} with your package manager" >&2
  exit 1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
