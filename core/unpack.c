/*
 * Decompression of a bzImage's payload (xz, lzma, gzip, zstd), so that hv
 * can enter the kernel's vmlinux directly instead of having the guest
 * decompress itself. Linux appends the decompressed size as 4 bytes little
 * endian after each of these streams; we size the buffer from it and still
 * refuse output past it.
 */
#include <errno.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "boot.h"

#define UNPACK_MAX (1ull << 30)

static int un_lzma(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		   size_t *n, int alone)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret r = alone ? lzma_alone_decoder(&s, UINT64_MAX) :
			     lzma_stream_decoder(&s, UINT64_MAX, 0);

	if (r != LZMA_OK)
		return -ENOMEM;
	s.next_in = in, s.avail_in = len;
	s.next_out = out, s.avail_out = cap;
	r = lzma_code(&s, LZMA_FINISH);
	*n = cap - s.avail_out;
	lzma_end(&s);
	return r == LZMA_STREAM_END ? 0 : -EINVAL;
}

static int un_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		   size_t *n)
{
	z_stream z = { 0 };
	int r;

	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	z.next_in = (uint8_t *)in, z.avail_in = (uInt)len;
	z.next_out = out, z.avail_out = (uInt)cap;
	r = inflate(&z, Z_FINISH);
	*n = cap - z.avail_out;
	inflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -EINVAL;
}

static int un_zstd(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		   size_t *n)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { out, cap, 0 };
	size_t r;

	if (!d)
		return -ENOMEM;
	/* the kernel compresses with a large window (--ultra -22) */
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, 31);
	r = ZSTD_decompressStream(d, &ob, &ib);
	*n = ob.pos;
	ZSTD_freeDCtx(d);
	return ZSTD_isError(r) || r != 0 ? -EINVAL : 0;
}

const char *unpack_kind(const uint8_t *in, size_t len)
{
	if (len >= 6 && !memcmp(in, "\xfd" "7zXZ\0", 6))
		return "xz";
	if (len >= 4 && !memcmp(in, "\x28\xb5\x2f\xfd", 4))
		return "zstd";
	if (len >= 2 && in[0] == 0x1f && (in[1] == 0x8b || in[1] == 0x9e))
		return "gzip";
	if (len >= 3 && in[0] == 0x5d && in[1] == 0 && in[2] == 0)
		return "lzma";
	if (len >= 3 && !memcmp(in, "BZh", 3))
		return "bzip2";
	if (len >= 4 && !memcmp(in, "\x89LZO", 4))
		return "lzo";
	if (len >= 4 && !memcmp(in, "\x02\x21\x4c\x18", 4))
		return "lz4";
	return "unknown";
}

int unpack(const uint8_t *in, size_t len, uint8_t **out, size_t *outlen,
	   const char **why)
{
	const char *kind = unpack_kind(in, len);
	uint32_t size;
	uint8_t *buf;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (len < 8) {
		*why = "payload too short";
		return -EINVAL;
	}
	memcpy(&size, in + len - 4, 4);
	if (!size || size > UNPACK_MAX) {
		*why = "implausible decompressed size in the payload's trailer";
		return -EINVAL;
	}
	buf = malloc(size);
	if (!buf) {
		*why = "out of memory";
		return -ENOMEM;
	}
	if (!strcmp(kind, "xz") || !strcmp(kind, "lzma"))
		rc = un_lzma(in, len - 4, buf, size, &n, kind[0] == 'l');
	else if (!strcmp(kind, "gzip"))
		rc = un_gzip(in, len - 4, buf, size, &n);
	else if (!strcmp(kind, "zstd"))
		rc = un_zstd(in, len - 4, buf, size, &n);
	else
		rc = -ENOTSUP;
	if (rc || n != size) {
		*why = rc == -ENOTSUP ? "payload compression not supported (hv unpacks xz, lzma, gzip, zstd)" :
					"corrupt compressed payload";
		free(buf);
		return rc ? rc : -EINVAL;
	}
	*out = buf;
	*outlen = n;
	return 0;
}
