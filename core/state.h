/* Device state streams for snapshots: an in-memory byte buffer. */
#ifndef HV_CORE_STATE_H
#define HV_CORE_STATE_H

#include <stddef.h>
#include <stdint.h>

struct hv_state {
	uint8_t *buf;
	size_t len, cap, pos;
};

struct instance;

int state_write(struct hv_state *st, const void *buf, size_t len);
int state_read(struct hv_state *st, void *buf, size_t len);
void state_free(struct hv_state *st);
/* Save or restore one instance through its ops (lock held): 0, -ENOTSUP
 * when the plugin has no save/restore, or the plugin's -errno. */
int instance_save(struct instance *in, struct hv_state *st);
int instance_restore(struct instance *in, struct hv_state *st);

#endif
