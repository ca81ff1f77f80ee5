#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks use (as root, or with sudo).
# Tests that need one of these and do not find it fail with a message naming the package.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
PACKAGES=(
  dpkg-dev apt-utils xz-utils lz4       # synthetic .deb packages, local apt repositories; apt's .lz4 lists
  python3-apt                           # apt_pkg.version_compare, oracle for Debian version order
  dose-distcheck libsolv-tools python3-solv mccs aspcud cudf-tools apt-cudf   # the resolver's peers; apt-cudf: apt → EDSP → CUDF solvers
  time                                  # /usr/bin/time: wall time and peak memory of the peers
  openssh-server openssh-client iproute2 # lab hosts in network namespaces
  runit                                 # service control in the lab
  procps util-linux                     # pgrep (lab tests), unshare and runuser (sshd, initdb)
  prometheus prometheus-alertmanager    # real monitoring
  postgresql                            # throwaway clusters for migrations and the store
  mmdebstrap debian-archive-keyring     # a real Debian root for the chroot root driver (test/lab/debian-root.ts)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-test-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-test-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
