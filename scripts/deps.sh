#!/usr/bin/env bash
# Installs the Debian 12 packages hv needs to build, test and benchmark.
#   scripts/deps.sh                     install whatever is missing
#   scripts/deps.sh --check-or-install  the same, quietly when all is there
#   scripts/deps.sh --list              print the package list
set -euo pipefail
packages=(
	# build
	gcc make pkg-config nasm libinih-dev libffi-dev libpcap-dev libaio-dev
	zlib1g-dev liblzma-dev libzstd-dev
	# sanitizers and fuzzing
	clang libclang-rt-14-dev
	# guests, peers and the nested KVM harness
	qemu-system-x86 qemu-utils busybox-static linux-image-amd64 cpio
	bochs bochsbios bochs-term
	# tests' tools (xorriso .. hdparm: tests/linux/storage*.t, bench/storage)
	socat bzip2 xz-utils zstd pciutils bc python3 strace openssl util-linux
	libvhdi-utils xorriso fio e2fsprogs sg3-utils hdparm
	# the network tests and bench/net (namespaces, veth, tuntap; iperf3)
	iproute2 iperf3 ethtool
	# offload vectors and checksum checks (tests/net/vectors.py)
	python3-scapy
	# the nested harness's snapshot of a frozen QEMU (tests/nested/run.sh)
	gdb
	# tests/net/tap.t, pcap.t: namespaces, taps, veth (frames built by
	# scapy); setcap for pcap as a user
	iproute2 libcap2-bin
	# tests/net/wifi.t: the access point's drop rule, the LAN's DHCP and RA
	nftables dnsmasq-base
	# tests/nested/wifi.t: the real 802.11 link in the nested VM (an AP,
	# a station, the LAN host's DHCP/RA, its pings); mac80211_hwsim comes
	# with linux-image-amd64
	hostapd wpasupplicant iw iputils-ping
	# the graphical console: VNC server (libvncserver), screenshots (libpng),
	# VGA text fonts (console-setup-linux's Lat15-VGA16.psf.gz), the browser
	# view (noVNC), and the real clients the tests use (vncsnapshot,
	# libvncclient, Chromium)
	libvncserver-dev libpng-dev console-setup-linux novnc python3-websockify
	# tests/console/vnc*.t: JPEG captures decoded by PIL, HTTP by curl
	python3-pil curl
	vncsnapshot
	# tests/display/edid.t: an EDID parser written elsewhere (conformity check)
	edid-decode
	chromium
)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${packages[@]}"
	exit 0
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	[ "${1:-}" = --check-or-install ] || echo "deps: all ${#packages[@]} packages are installed"
	exit 0
fi
echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
