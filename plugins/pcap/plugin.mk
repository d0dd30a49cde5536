# Debian's libpcap (libpcap-dev, scripts/deps.sh)
PLUGINS += pcap
pcap_SRCS := plugins/pcap/pcap.c plugins/common/pcapio.c
pcap_LIBS := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
