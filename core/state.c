#include "state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "pc/pci.h"
#include "plugin.h"

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

int instance_save(struct instance *in, struct hv_state *st)
{
	const struct hv_device_ops *ops = &in->plugin->ops.device;
	int rc;

	if (in->plugin->desc.kind != HV_KIND_DEVICE || !ops->save)
		return -ENOTSUP;
	inst_lock(in);
	rc = ops->save(&in->ctx, st);
	if (!rc && in->pci) /* the core's half of a PCI device */
		rc = pci_dev_save(in->pci, st);
	inst_unlock(in);
	return rc;
}

int instance_restore(struct instance *in, struct hv_state *st)
{
	const struct hv_device_ops *ops = &in->plugin->ops.device;
	int rc;

	if (in->plugin->desc.kind != HV_KIND_DEVICE || !ops->restore)
		return -ENOTSUP;
	inst_lock(in);
	rc = ops->restore(&in->ctx, st);
	if (!rc && in->pci)
		rc = pci_dev_restore(in->pci, st);
	inst_unlock(in);
	return rc;
}
