#!/usr/bin/env bash
# Installs the system packages the tests need when they are missing: Mesa's lavapipe (software
# Vulkan for the webgpu backend, from bookworm-backports), Debian's Chromium and PostgreSQL.
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
lavapipe_ok() { ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -q '^2[4-9]\.'; }
lavapipe_ok || need+=(lavapipe)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && { echo "system packages: all present"; exit 0; }
echo "system packages: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
if [[ " ${need[*]} " == *" lavapipe "* ]] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  src=$(grep -rls 'bookworm-updates' /etc/apt/sources.list.d/ /etc/apt/sources.list 2>/dev/null | head -1 || true)
  if [ -n "$src" ] && grep -q '^Types:' "$src"; then
    # deb822: copy the entry that lists bookworm-updates, with Suites: bookworm-backports
    awk 'BEGIN{RS=""; ORS="\n\n"} /bookworm-updates/ {sub(/Suites:[^\n]*/, "Suites: bookworm-backports"); print}' "$src" | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
  else
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/backports.list >/dev/null
  fi
fi
$SUDO apt-get update -qq
for p in "${need[@]}"; do
  case $p in
    lavapipe) $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 ;;
    chromium) $SUDO apt-get install -y -qq chromium ;;
    postgresql) $SUDO apt-get install -y -qq postgresql ;;
  esac
done
