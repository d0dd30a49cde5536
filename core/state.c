#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int state_write(struct hv_state *st, const void *buf, size_t len)
{
	if (len > st->cap - st->len) {
		size_t cap = st->cap ? st->cap : 256;
		uint8_t *nb;

		while (cap - st->len < len)
			cap *= 2;
		nb = realloc(st->buf, cap);
		if (!nb)
			return -ENOMEM;
		st->buf = nb;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, buf, len);
	st->len += len;
	return 0;
}

int state_read(struct hv_state *st, void *buf, size_t len)
{
	if (len > st->len - st->pos)
		return -EIO;
	memcpy(buf, st->buf + st->pos, len);
	st->pos += len;
	return 0;
}

void state_free(struct hv_state *st)
{
	free(st->buf);
	memset(st, 0, sizeof(*st));
}
