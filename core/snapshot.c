/*
 * One instance's state stream: the plugin's half through its save/restore
 * ops, then the core's half of a PCI device. Apart from state.c (the byte
 * buffer), which the PCI layer below uses for its own half.
 */
#include "state.h"

#include <errno.h>

#include "instance.h"
#include "pc/pci.h"
#include "plugin.h"

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
