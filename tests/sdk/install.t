# hv-test: once
# make install into a temporary prefix; build the SDK example out of tree
# with nothing but pkg-config; the installed hv loads it.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
if make -s install PREFIX="$prefix" > "$tmp/install.log" 2>&1; then
	echo "ok sdk-install"
else
	echo "not ok sdk-install - $(tail -3 "$tmp/install.log" | tr '\n' ' ')"
	exit 0
fi
for f in bin/hv include/hv/hv.h include/hv/plugin.h lib/pkgconfig/hv-sdk.pc \
	lib/hv/plugins/uart16550.so share/doc/hv/README.md; do
	[ -e "$prefix/$f" ] || { echo "not ok sdk-installed-files - $f missing"; exit 0; }
done
echo "ok sdk-installed-files"
cp -r sdk/examples/postcode "$tmp/src"
if PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -C "$tmp/src" > "$tmp/build.log" 2>&1; then
	echo "ok sdk-example-builds-out-of-tree"
else
	echo "not ok sdk-example-builds-out-of-tree - $(tail -3 "$tmp/build.log" | tr '\n' ' ')"
	exit 0
fi
mkdir "$tmp/plugins"
cp "$tmp/src/postcode.so" "$tmp/plugins/"
out=$(HV_PLUGIN_PATH=$tmp/plugins "$prefix/bin/hv" plugins 2>&1)
# the SDK version the example was built against: the installed headers'
sdk=$(awk '/define HV_ABI_MAJOR/ { M = $3 } /define HV_ABI_MINOR/ { m = $3 } END { print M "." m }' "$prefix/include/hv/plugin.h")
if grep -q "^postcode  *device  *1.0  *$sdk " <<< "$out" && grep -q '^uart16550 ' <<< "$out"; then
	echo "ok sdk-example-loads"
else
	echo "not ok sdk-example-loads - $out"
fi
cat > "$tmp/vm.ini" <<INI
[vm]
kernel = /bin/sh
[device post]
plugin = postcode
port = 0x80
INI
out=$(HV_PLUGIN_PATH=$tmp/plugins "$prefix/bin/hv" check "$tmp/vm.ini" 2>&1)
if grep -q 'quiet = off    ; default' <<< "$out"; then
	echo "ok sdk-example-config"
else
	echo "not ok sdk-example-config - $out"
fi
# a third-party virtio device: the transport from the installed
# libhv-virtio.a through pkg-config --libs, nothing of it exported
cp -r sdk/examples/virtio-rng "$tmp/rng"
if PKG_CONFIG_PATH=$prefix/lib/pkgconfig make -s -C "$tmp/rng" > "$tmp/rng.log" 2>&1; then
	echo "ok sdk-virtio-example-builds-out-of-tree"
else
	echo "not ok sdk-virtio-example-builds-out-of-tree - $(tail -3 "$tmp/rng.log" | tr '\n' ' ')"
	exit 0
fi
exported=$(nm -D --defined-only "$tmp/rng/virtio-rng.so" | awk '{print $3}' | tr '\n' ' ')
if [ "$exported" = "hv_plugin_entry " ]; then
	echo "ok sdk-virtio-example-exports-one-symbol"
else
	echo "not ok sdk-virtio-example-exports-one-symbol - $exported"
fi
cp "$tmp/rng/virtio-rng.so" "$tmp/plugins/"
printf '[vm]\nkernel = /bin/sh\n[device rng]\nplugin = virtio-rng\n' > "$tmp/rng.ini"
if out=$(HV_PLUGIN_PATH=$tmp/plugins "$prefix/bin/hv" check "$tmp/rng.ini" 2>&1); then
	echo "ok sdk-virtio-example-config"
else
	echo "not ok sdk-virtio-example-config - $(echo "$out" | tail -2 | tr '\n' ' ')"
fi
