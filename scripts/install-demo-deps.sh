#!/usr/bin/env bash
# Installs the Debian packages `rollwise demo` needs for its example lab (npm start runs this
# first): dpkg and apt (directory-root hosts and synthetic .debs), runit (each host's services)
# and prometheus (the monitoring the deployment is judged by). scripts/install-test-deps.sh
# installs these too, with everything the tests need.
# As root it installs what is missing; otherwise through `sudo -n` when that needs no password;
# else it says what is missing and how to install it, and exits 0: the demo then does the parts
# it can (the plan, its impact and rollback plan) and says what it could not do.
set -euo pipefail
PACKAGES=(dpkg apt runit prometheus)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    echo "install-demo-deps: not installed: ${missing[*]} (installing needs root)." >&2
    echo "install-demo-deps: install them with: sudo apt-get install ${missing[*]}   (or: sudo bash scripts/install-demo-deps.sh)" >&2
    echo "install-demo-deps: the demo goes on without its example lab." >&2
    exit 0
  fi
fi
echo "install-demo-deps: installing ${missing[*]}" >&2
"${SUDO[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
