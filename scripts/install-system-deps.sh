#!/usr/bin/env bash
# Debian packages the tests and the demo use: fonts for the sample covers, Chromium for the
# browser test. Installs only what is missing; without root or apt it says what is absent and
# goes on (the tests that need a missing piece skip with a reason).
set -euo pipefail
wanted=(fonts-dejavu-core chromium chromium-driver)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-system-deps: not root or no apt-get; missing: ${missing[*]}" >&2
  exit 0
fi
echo "install-system-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
