/*
 * The control socket's commands (control.h), one row each in `commands`
 * below; the socket itself is ctlsock.c's.
 *
 * Run-time key values go into the hot-plug override store (hotplug.c),
 * which every hv_config_get_* reads first, so a device, `get` and a later
 * `set` all see the new value.
 */
#include "control.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "display.h"
#include "hv/out.h"
#include "keymap.h"
#include "loop.h"
#include "ctlsock.h"
#include "hotplug.h"
#include "instance.h"
#include "instcfg.h"
#include "log.h"
#include "plugin.h"
#include "vm.h"

struct control {
	struct vm *vm;
	struct ctl_server *srv;
	int paused; /* by `pause` (vm->paused also counts resets) */
	int buttons; /* the mouse buttons the last `mouse` left down */
};

#define INPUT_WAIT_NS (10ull * 1000000000) /* a full queue, at most */

static const struct ctl_cmd commands[];

/* ---- sections and keys ---- */

/* SECTION is "vm", a device's name, KIND:NAME, or a name only one
 * section of any kind has. */
static struct cfg_section *find_section(const struct config *cfg,
					const char *name, char *r, size_t n)
{
	const char *colon = strchr(name, ':');
	struct cfg_section *s = NULL;
	char kind[16];
	int hits = 0;

	if (colon) {
		snprintf(kind, sizeof(kind), "%.*s", (int)(colon - name), name);
		s = config_section(cfg, kind, colon + 1);
	} else if (!(s = config_section(cfg, "device", name))) {
		for (int i = 0; i < cfg->n; i++)
			if (!strcmp(cfg->s[i].id, name) && hits++ == 0)
				s = &cfg->s[i];
	}
	if (hits > 1) {
		snprintf(r, n, "'%.64s' names %d sections: say KIND:%.64s", name,
			 hits, name);
		return NULL;
	}
	if (!s)
		snprintf(r, n, "there is no section '%.64s' (say vm, a device's name or KIND:NAME)",
			 name);
	return s;
}

static struct instance *instance_of(struct vm *vm, const struct cfg_section *s)
{
	for (struct instance *in = vm->instances; in; in = in->next)
		if (in->sec == s)
			return in;
	return NULL;
}

/* A backend hv_net_attach_plugin made ([net lan.uplink]): no section of
 * the file, so find_section does not know it. */
static struct instance *attached_of(struct vm *vm, const char *name)
{
	if (!strncmp(name, "net:", 4))
		name += 4;
	for (struct instance *in = vm->instances; in; in = in->next)
		if (in->sec && in->sec->implicit == CFG_IMPLICIT_ATTACH &&
		    !strcmp(in->sec->id, name))
			return in;
	return NULL;
}

static const struct hv_config_key *key_of(const struct cfg_section *s,
					  struct instance *in, const char *key)
{
	const struct hv_config_key *k;

	if (in)
		return inst_config_key(in, key);
	for (k = cfg_common_keys(s->kind); k->name; k++)
		if (!strcmp(k->name, key))
			return k;
	return s->plugin ? plugin_key(s->plugin, key) : NULL;
}

/* The checks the INI's values pass (check.c), for one new value. */
static int value_ok(const struct cfg_section *s, const struct hv_config_key *k,
		    const char *v, char *r, size_t n)
{
	const char *why;

	if (cfg_value_check(k, v, NULL, &why)) {
		snprintf(r, n, "[%s]: %s = %.256s: %s%s%s", s->name, k->name, v,
			 why, k->type == HV_KEY_ENUM ? "; choose one of " : "",
			 k->type == HV_KEY_ENUM ? k->choices : "");
		return -EINVAL;
	}
	return 0;
}

/* ---- commands ---- */

/* Store the new value where hv_config_get_* reads first and tell the
 * device; a refusal puts back the value it runs with. */
static int apply(struct instance *in, const char *key, const char *val,
		 char *r, size_t n)
{
	const char *prev = hotplug_override(in, key);
	char *old = prev ? strdup(prev) : NULL;
	int rc = prev && !old ? -ENOMEM : hotplug_override_set(in, key, val);

	if (rc)
		goto out;
	inst_lock(in);
	rc = in->plugin->ops.device.config_changed(&in->ctx, key);
	inst_unlock(in);
	if (rc) {
		if (old)
			hotplug_override_set(in, key, old);
		else
			hotplug_override_del(in, key);
		rc = rc > 0 ? -EINVAL : rc;
		snprintf(r, n, "[%s]: %s = %s: refused by the device (%s)",
			 in->sec->name, key, val, strerror(-rc));
	}
out:
	free(old);
	return rc;
}

static int cmd_set(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;
	const char *key = argv[2], *val = argv[3];
	struct cfg_section *s = find_section(ctl->vm->cfg, argv[1], r, n);
	struct instance *in = s ? instance_of(ctl->vm, s) : NULL;
	const struct hv_config_key *k = s ? key_of(s, in, key) : NULL;
	int rc;

	if (!s)
		return -ENOENT;
	if (!k)
		return snprintf(r, n, "[%s]: no key '%.64s'", s->name, key), -ENOENT;
	if (!in || strcmp(s->kind, "device") || !(k->flags & HV_KEY_RUNTIME))
		return snprintf(r, n, "[%s]: key %s cannot change while the VM runs",
				s->name, k->name),
		       -EPERM;
	if ((rc = value_ok(s, k, val, r, n)))
		return rc;
	/* the loader refuses such a plugin; a newer core's key flag, say */
	if (!in->plugin->ops.device.config_changed)
		return snprintf(r, n, "[%s]: plugin %s takes no run-time changes",
				s->name, in->plugin->desc.name),
		       -EOPNOTSUPP;
	if ((rc = apply(in, key, val, r, n)))
		return rc;
	info("control: [%s] %s = %s", s->name, key, val);
	snprintf(r, n, "%s = %s", key, val);
	return 0;
}

static int cmd_get(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;
	struct instance *in = attached_of(ctl->vm, argv[1]);
	const struct cfg_section *s = in ? in->sec :
		find_section(ctl->vm->cfg, argv[1], r, n);
	const struct hv_config_key *k;
	const char *v;

	if (!s)
		return -ENOENT;
	if (!in)
		in = instance_of(ctl->vm, s);
	k = key_of(s, in, argv[2]);
	v = in ? inst_config_str(in, argv[2]) : cfg_get(s, argv[2]);
	if (!v && k)
		v = k->def;
	if (!v && !k)
		return snprintf(r, n, "[%s]: no key '%.64s'", s->name, argv[2]),
		       -ENOENT;
	snprintf(r, n, "%s", v ? v : "");
	return 0;
}

static int cmd_info(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;
	struct vm *vm = ctl->vm;
	const char *file = strrchr(vm->cfg->path, '/');
	int len;

	/* [vm] name, else the INI file's name, as name='s help says */
	file = file ? file + 1 : vm->cfg->path;
	len = (int)strlen(file);
	if (len > 4 && !strcmp(file + len - 4, ".ini"))
		len -= 4;
	snprintf(r, n, "name=%.*s accel=%s vcpus=%d memory=%lluMiB state=%s",
		 vm->name ? (int)strlen(vm->name) : len,
		 vm->name ? vm->name : file, vm->accel->name, vm->ncpus,
		 (unsigned long long)(vm->ram_size >> 20),
		 ctl->paused ? "paused" : "running");
	return 0;
}

/* Each device's pause or resume op, under its lock. */
static void devices_op(struct vm *vm, int resume)
{
	for (struct instance *in = vm->instances; in; in = in->next) {
		const struct hv_device_ops *ops = &in->plugin->ops.device;
		void (*op)(struct hv_ctx *) = resume ? ops->resume : ops->pause;

		if (in->owner || !in->created ||
		    in->plugin->desc.kind != HV_KIND_DEVICE || !op)
			continue;
		inst_lock(in);
		op(&in->ctx);
		inst_unlock(in);
	}
}

static int cmd_pause(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;

	if (ctl->paused)
		return snprintf(r, n, "paused (already)"), 0;
	ctl_server_hold(ctl->srv, 1); /* the drain runs the loop */
	vm_pause(ctl->vm);
	devices_op(ctl->vm, 0);
	/* in-flight disk I/O completes now, not into a paused guest later */
	if (vm_drain_devices(ctl->vm))
		warn("control: pause: device I/O still in flight");
	ctl_server_hold(ctl->srv, 0);
	ctl->paused = 1;
	info("control: paused");
	return snprintf(r, n, "paused"), 0;
}

static int cmd_resume(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;

	if (!ctl->paused)
		return snprintf(r, n, "running (was not paused)"), 0;
	devices_op(ctl->vm, 1);
	vm_resume(ctl->vm);
	ctl->paused = 0;
	info("control: resumed");
	return snprintf(r, n, "running"), 0;
}

static int cmd_quit(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;

	info("control: quit");
	vm_request_exit(ctl->vm, VM_EXIT_QUIT, 0);
	return snprintf(r, n, "quitting"), 0;
}

/* ---- status (SDK 2.3): an instance's report ---- */

#define STATUS_FIRST (64u * 1024) /* the first buffer; HV_OUT_MAX at most */

/* What the core knows of an instance, for one without a status op. */
static void core_facts(struct instance *in, struct hv_out *o, int json)
{
	const char *kind = plugin_kind_name(in->plugin->desc.kind);
	const char *ver = in->plugin->desc.version;
	const struct cfg_section *os = in->owner ? in->owner->sec : NULL;

	if (!json) {
		hv_out_printf(o, "%s plugin %s%s%s, %s%s%s%s\n", kind,
			      in->plugin->desc.name, ver ? " " : "", ver ? ver : "",
			      in->created ? "running" : "not created",
			      os ? ", attached to [" : "", os ? os->name : "",
			      os ? "]" : "");
		return;
	}
	hv_out_printf(o, "\"kind\":\"%s\",\"created\":%s", kind,
		      in->created ? "true" : "false");
	if (os) {
		hv_out_printf(o, ",\"attached_to\":\"");
		hv_out_json_str(o, os->name);
		hv_out_printf(o, "\"");
	}
}

/* The plugin's op into o, grown until the report fits (HV_OUT_MAX at
 * most): the op runs under the instance's domain lock, on this (the
 * main) thread, as often as it asks for more room. */
static int plugin_report(struct instance *in, struct hv_out *o, unsigned flags)
{
	void (*op)(struct hv_ctx *, struct hv_out *, unsigned) = NULL;
	size_t cap = STATUS_FIRST;

	/* plugin.c copied min(desc.size) into zeroes: a 2.2 plugin's
	 * descriptor ends before status, which then reads NULL */
	if (in->plugin->desc.size >= offsetof(struct hv_plugin_desc, status) +
					     sizeof(in->plugin->desc.status))
		op = in->plugin->desc.status;
	if (!op)
		return 0;
	for (;;) {
		char *b = realloc(o->buf, cap);

		if (!b)
			return -ENOMEM;
		*o = (struct hv_out){ .buf = b, .cap = cap };
		b[0] = 0;
		inst_lock(in);
		op(&in->ctx, o, flags);
		inst_unlock(in);
		if (o->len < o->cap)
			return 1;
		if (cap >= HV_OUT_MAX)
			return -EFBIG;
		cap = o->len + 1 > HV_OUT_MAX ? HV_OUT_MAX : o->len + 1;
	}
}

/* The reply: "[net lan] (switch)" and the plugin's lines, or one JSON
 * object whose "section" and "plugin" the core writes. */
static int status_body(struct instance *in, int json, struct ctl_body *body,
		       char *r, size_t n)
{
	struct hv_out rep = { 0 }, o = { 0 };
	const char *sec = in->sec->name, *pl = in->plugin->desc.name;
	int rc = plugin_report(in, &rep, json ? HV_STATUS_JSON : 0);

	if (rc < 0) {
		free(rep.buf);
		return snprintf(r, n, "[%s]: %s", sec, rc == -EFBIG ?
				"the report is larger than HV_OUT_MAX (4 MiB)" :
				strerror(-rc)), rc;
	}
	o.cap = rep.len + strlen(sec) + strlen(pl) + 1024;
	if (!(o.buf = malloc(o.cap))) {
		free(rep.buf);
		return -ENOMEM;
	}
	if (json) {
		hv_out_printf(&o, "{\"section\":\"");
		hv_out_json_str(&o, sec);
		hv_out_printf(&o, "\",\"plugin\":\"");
		hv_out_json_str(&o, pl);
		hv_out_printf(&o, "\"");
		if (!rc)
			hv_out_printf(&o, ",");
		if (!rc)
			core_facts(in, &o, 1);
		else if (rep.len)
			hv_out_printf(&o, ",%s", rep.buf);
		hv_out_printf(&o, "}\n");
	} else {
		hv_out_printf(&o, "[%s] (%s)\n", sec, pl);
		if (!rc)
			core_facts(in, &o, 0);
		else if (rep.len)
			hv_out_printf(&o, "%s%s", rep.buf,
				      rep.buf[rep.len - 1] == '\n' ? "" : "\n");
	}
	free(rep.buf);
	body->buf = o.buf;
	body->len = o.len; /* o.cap was sized to hold it all */
	return 0;
}

static int cmd_status(void *o, int argc, char **argv, struct ctl_body *body,
		      char *r, size_t n)
{
	struct control *ctl = o;
	struct instance *in = attached_of(ctl->vm, argv[1]);
	struct cfg_section *s = NULL;
	int json = argc > 2;

	if (json && strcmp(argv[2], "json"))
		return snprintf(r, n, "usage: status SECTION [json]"), -EINVAL;
	if (!in) {
		s = find_section(ctl->vm->cfg, argv[1], r, n);
		if (!s)
			return -ENOENT;
		if (!strcmp(s->kind, "vm"))
			return snprintf(r, n, "[vm] is the VM, not an instance: see info"),
			       -EINVAL;
		in = instance_of(ctl->vm, s);
	}
	if (!in)
		return snprintf(r, n, "[%s]: no instance of it runs (nothing attaches it)",
				s->name),
		       -ENOENT;
	return status_body(in, json, body, r, n);
}

/* ---- displays and input (SDK 2.4) ---- */

static int no_display(struct vm *vm, const char *name, char *r, size_t n)
{
	size_t used;

	if (!vm->displays)
		return snprintf(r, n, "the VM has no display"), -ENOENT;
	used = (size_t)snprintf(r, n, "no display '%.64s' (the VM has:", name);
	for (struct hv_display *d = vm->displays; d && used < n;
	     d = display_next(d))
		used += (size_t)snprintf(r + used, n - used, " %s",
					 display_name(d));
	if (used < n)
		snprintf(r + used, n - used, ")");
	return -ENOENT;
}

static int cmd_screenshot(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;
	const char *name = argc == 3 ? argv[1] : NULL, *path = argv[argc - 1];
	struct hv_display *d = display_find(ctl->vm, name);
	int rc;

	if (!d)
		return no_display(ctl->vm, name ? name : "", r, n);
	if ((rc = display_screenshot(d, path, r, n)))
		return rc;
	return snprintf(r, n, "%s", path), 0;
}

/* Queue a batch; while the sink's queue is full, run the loop (its drain
 * is a loop callback) for up to INPUT_WAIT_NS. */
static int send_wait(struct control *ctl, const struct hv_input_event *ev,
		     int nev, char *r, size_t n)
{
	uint64_t until = vm_now_ns() + INPUT_WAIT_NS;
	int rc = input_send(ctl->vm, NULL, ev, (unsigned)nev);

	if (rc == -EAGAIN) {
		ctl_server_hold(ctl->srv, 1);
		while (rc == -EAGAIN && vm_now_ns() < until &&
		       loop_once(ctl->vm->loop, 10) >= 0)
			rc = input_send(ctl->vm, NULL, ev, (unsigned)nev);
		ctl_server_hold(ctl->srv, 0);
	}
	if (rc == -ENODEV)
		snprintf(r, n, "no input device of the VM takes it (dropped)");
	else if (rc == -EAGAIN)
		snprintf(r, n, "the input device's queue stayed full (dropped)");
	else if (rc)
		snprintf(r, n, "input refused (%s)", strerror(-rc));
	return rc;
}

static int cmd_sendkey(void *o, int argc, char **argv, char *r, size_t n)
{
	struct hv_input_event ev[HV_INPUT_BATCH_MAX];
	int k = keymap_combo(argv[1], ev, r, n), rc;

	if (k < 0)
		return k;
	if ((rc = send_wait(o, ev, k, r, n)))
		return rc;
	return snprintf(r, n, "%s", argv[1]), 0;
}

/* One character a batch: a device sees each key go down and up. */
static int cmd_type(void *o, int argc, char **argv, char *r, size_t n)
{
	struct hv_input_event ev[4];
	const char *text = argc > 1 ? argv[1] : "";
	size_t i;
	int rc;

	if ((rc = keymap_text_check(text, r, n)))
		return rc;
	for (i = 0; text[i]; i++) {
		int k = keymap_char((unsigned char)text[i], ev);

		if ((rc = send_wait(o, ev, k, r, n))) {
			size_t l = strlen(r);

			snprintf(r + l, n - l, " after %zu characters", i);
			return rc;
		}
	}
	return snprintf(r, n, "typed %zu characters", i), 0;
}

static int cmd_mouse(void *o, int argc, char **argv, char *r, size_t n)
{
	struct control *ctl = o;
	struct hv_input_event ev[4];
	struct hv_display *d = display_find(ctl->vm, NULL);
	struct mouse_cmd m;
	uint32_t w = 0, h = 0;
	long ax, ay;
	int k, rc;

	if ((rc = mouse_parse(argc - 1, argv + 1, &m, r, n)))
		return rc;
	ax = m.x;
	ay = m.y;
	if (m.abs) {
		if (d)
			display_size(d, &w, &h);
		if (!w || !h)
			return snprintf(r, n, "mouse abs: no display shows a picture to point at"),
			       -ENODEV;
		if (m.x >= w || m.y >= h)
			return snprintf(r, n, "mouse abs %ld %ld: outside the %ux%u display",
					m.x, m.y, w, h),
			       -EINVAL;
		ax = w > 1 ? (m.x * HV_INPUT_ABS_MAX + (w - 1) / 2) / (w - 1) : 0;
		ay = h > 1 ? (m.y * HV_INPUT_ABS_MAX + (h - 1) / 2) / (h - 1) : 0;
	}
	k = mouse_batch(&m, ax, ay, ctl->buttons, ev);
	if (!k)
		return snprintf(r, n, "nothing moved"), 0;
	if ((rc = send_wait(ctl, ev, k, r, n)))
		return rc;
	if (m.buttons >= 0)
		ctl->buttons = m.buttons;
	return snprintf(r, n, "mouse %s %ld %ld", argv[1], m.x, m.y), 0;
}

static int cmd_help(void *o, int argc, char **argv, char *r, size_t n)
{
	size_t used = snprintf(r, n, "commands:");

	for (const struct ctl_cmd *c = commands; c->name && used < n; c++)
		used += snprintf(r + used, n - used, "%s %s", c == commands ? "" : ";",
				 c->usage);
	return 0;
}

static const struct ctl_cmd commands[] = {
	{ "set", 3, 3, cmd_set, "set SECTION KEY VALUE", NULL, 0 },
	{ "get", 2, 2, cmd_get, "get SECTION KEY", NULL, 0 },
	{ "info", 0, 0, cmd_info, "info", NULL, 0 },
	{ "pause", 0, 0, cmd_pause, "pause", NULL, 0 },
	{ "resume", 0, 0, cmd_resume, "resume", NULL, 0 },
	{ "quit", 0, 0, cmd_quit, "quit", NULL, 0 },
	{ "status", 1, 2, NULL, "status SECTION [json]", cmd_status, 0 },
	{ "screenshot", 1, 2, cmd_screenshot, "screenshot [DISPLAY] PATH.png", NULL, 0 },
	{ "sendkey", 1, 1, cmd_sendkey, "sendkey KEYS (ctrl-alt-delete)", NULL, 0 },
	{ "type", 0, 1, cmd_type, "type TEXT", NULL, 1 },
	{ "mouse", 3, 4, cmd_mouse, "mouse abs X Y [BUTTONS] | mouse rel DX DY [BUTTONS]", NULL, 0 },
	{ "help", 0, 0, cmd_help, "help", NULL, 0 },
	{ NULL, 0, 0, NULL, NULL, NULL, 0 },
};


int control_open(struct vm *vm, const char *path, const char *where,
		 struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	const char *why = "out of memory";
	int rc = -ENOMEM;

	if (ctl) {
		ctl->vm = vm;
		rc = ctl_server_open(vm->loop, path, commands, ctl, &ctl->srv, &why);
	}
	if (rc) {
		log_err_at("%s: %s", where, why);
		free(ctl);
		return rc;
	}
	*out = ctl;
	return 0;
}

void control_close(struct control *ctl)
{
	if (!ctl)
		return;
	ctl_server_close(ctl->srv);
	free(ctl);
}
