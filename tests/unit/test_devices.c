/*
 * Guestless device harness (QEMU's qtest style): a VM without vCPUs, built
 * from an INI string with the real plugins, whose ports the test pokes
 * through the core's own bus dispatch.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "check.h"
#include "config.h"
#include "instance.h"
#include "loop.h"
#include "plugin.h"
#include "state.h"
#include "unit.h"
#include "vmharness.h"
#include "vm.h"

static char tmpdir[64];

/* Build the VM; h->ok says whether devices came up. Returns stderr. */
static const char *vm_up(struct harness *h, const char *ini)
{
	static const char *const fixtures[] = { "init_fail", "v2_frozen", NULL };

	unit_capture_begin();
	harness_load(h, 1, fixtures);
	harness_build(h, ini, &accel_kvm);
	if (h->ok)
		vm_reset_devices(&h->vm);
	return unit_capture_end();
}

static uint8_t inb(struct harness *h, uint16_t port)
{
	uint64_t v = 0;
	vm_pio(&h->vm, port, 1, 0, &v);
	return (uint8_t)v;
}

static void outb(struct harness *h, uint16_t port, uint8_t val)
{
	uint64_t v = val;
	vm_pio(&h->vm, port, 1, 1, &v);
}

#define HEAD "[vm]\nkernel = /bin/sh\n"
#define UART "[device com1]\nplugin = uart16550\nconsole = log\n"

static void read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	ssize_t r = fd < 0 ? -1 : read(fd, buf, n - 1);

	buf[r > 0 ? r : 0] = 0;
	if (fd >= 0)
		close(fd);
}

static void uart_output_reaches_console(void)
{
	struct harness h;
	char ini[512], path[128], buf[64];

	snprintf(path, sizeof(path), "%s/log.txt", tmpdir);
	snprintf(ini, sizeof(ini), HEAD UART "[console log]\nplugin = logfile\npath = %s\n", path);
	vm_up(&h, ini);
	CHECK(h.ok);
	CHECK((inb(&h, 0x3fd) & 0x60) == 0x60); /* THRE, TEMT */
	outb(&h, 0x3f8, 'h');
	outb(&h, 0x3f8, 'i');
	read_file(path, buf, sizeof(buf));
	CHECK(!strcmp(buf, "hi"));
	vm_down(&h);
}

static void uart_registers(void)
{
	struct harness h;

	vm_up(&h, HEAD "[device com1]\nplugin = uart16550\n");
	CHECK(h.ok);
	outb(&h, 0x3fb, 0x80); /* DLAB */
	outb(&h, 0x3f8, 0x0c);
	outb(&h, 0x3f9, 0x00);
	CHECK(inb(&h, 0x3f8) == 0x0c && inb(&h, 0x3f9) == 0);
	outb(&h, 0x3fb, 0x03);
	CHECK(inb(&h, 0x3fb) == 0x03);
	outb(&h, 0x3ff, 0x5a);
	CHECK(inb(&h, 0x3ff) == 0x5a);
	outb(&h, 0x3fa, 0x01); /* FIFO on */
	CHECK(inb(&h, 0x3fa) == 0xc1); /* nothing pending */
	outb(&h, 0x3f9, 0x02); /* THRI */
	CHECK(inb(&h, 0x3fa) == 0xc2);
	CHECK(inb(&h, 0x3fa) == 0xc1); /* reading IIR acknowledged it */
	vm_down(&h);
}

static void uart_loopback_fifo(void)
{
	struct harness h;
	int got = 0;

	vm_up(&h, HEAD "[device com1]\nplugin = uart16550\n");
	CHECK(h.ok);
	outb(&h, 0x3fa, 0x01);
	outb(&h, 0x3fc, 0x10); /* loopback */
	for (int i = 0; i < 17; i++)
		outb(&h, 0x3f8, 'a' + i);
	CHECK(inb(&h, 0x3fd) & 0x02); /* overrun: the 17th byte */
	/* bounded: with no UART there, LSR reads all-ones forever */
	while ((inb(&h, 0x3fd) & 0x01) && got < 64) {
		CHECK(inb(&h, 0x3f8) == 'a' + got);
		got++;
	}
	CHECK(got == 16);
	CHECK(!(inb(&h, 0x3fd) & 0x02)); /* OE clears on read */
	vm_down(&h);
}

static void uart_save_restore_round_trip(void)
{
	struct harness h;
	struct hv_state st = { 0 };
	struct instance *in;
	const struct hv_device_ops *ops;

	vm_up(&h, HEAD "[device com1]\nplugin = uart16550\n");
	in = find(&h, "com1");
	CHECK(in != NULL);
	if (!in)
		return;
	ops = &in->plugin->ops.device;
	outb(&h, 0x3fa, 0x01);
	outb(&h, 0x3fc, 0x10);
	outb(&h, 0x3f8, 'x');
	outb(&h, 0x3f8, 'y');
	outb(&h, 0x3ff, 0x77);
	outb(&h, 0x3fb, 0x80);
	outb(&h, 0x3f8, 0x01);
	outb(&h, 0x3fb, 0x03);
	CHECK(instance_save(in, &st) == 0 && st.len > 0);
	ops->reset(&in->ctx); /* lose it all */
	CHECK(inb(&h, 0x3ff) == 0 && !(inb(&h, 0x3fd) & 1));
	CHECK(instance_restore(in, &st) == 0);
	CHECK(inb(&h, 0x3ff) == 0x77 && inb(&h, 0x3fb) == 0x03);
	CHECK(inb(&h, 0x3f8) == 'x' && inb(&h, 0x3f8) == 'y');
	outb(&h, 0x3fb, 0x80);
	CHECK(inb(&h, 0x3f8) == 0x01);
	/* a truncated stream is refused */
	st.pos = 0;
	st.len = 3;
	CHECK(instance_restore(in, &st) == -EINVAL);
	state_free(&st);
	vm_down(&h);
}

static void debug_exit_status(void)
{
	struct harness h;
	uint64_t v = 7;

	vm_up(&h, HEAD "[device e]\nplugin = debug-exit\n");
	CHECK(h.ok);
	vm_pio(&h.vm, 0xf4, 4, 1, &v);
	CHECK(h.vm.exit_reason == VM_EXIT_POWEROFF && h.vm.exit_status == 7);
	vm_down(&h);
	vm_up(&h, HEAD "[device e]\nplugin = debug-exit\nmode = qemu\nport = 0x501\n");
	v = 3;
	vm_pio(&h.vm, 0x501, 1, 1, &v);
	CHECK(h.vm.exit_reason == VM_EXIT_POWEROFF && h.vm.exit_status == 7);
	vm_down(&h);
}

static void port_conflict_is_reported(void)
{
	struct harness h;
	const char *out = vm_up(&h, HEAD "[device com1]\nplugin = uart16550\n"
				"[device com2]\nplugin = uart16550\nport = 0x3fc\n");

	CHECK(!h.ok);
	/* one line, naming the section: the plugin's, no second one of ours */
	CHECK(!strcmp(out, "t.ini:5: [device com2]: ports 0x3fc-0x403: already taken by another device\n"));
	vm_down(&h);
}

static void plugin_init_failure(void)
{
	struct harness h;
	const char *out = vm_up(&h, HEAD "[device w]\nplugin = init-fail\n");

	CHECK(!h.ok);
	CHECK(!strcmp(out, "t.ini:3: [device w]: the widget is missing\n"));
	vm_down(&h);
}

/* The frozen 2.0 plugin runs: create and reset reach it, and its own copy
 * of hv_host reaches config_get_int (state[2] is what create read). */
static void frozen_v2_runs(void)
{
	struct harness h;
	struct instance *in;
	const char *out = vm_up(&h, HEAD "[device f]\nplugin = frozen-v2\nanswer = 7\n");

	CHECK(h.ok);
	CHECK(*out == 0);
	in = find(&h, "f");
	CHECK(in && ((int *)in->ctx.state)[0] == 1);
	if (in) {
		CHECK(((int *)in->ctx.state)[2] == 7);
		in->plugin->ops.device.reset(&in->ctx);
		CHECK(((int *)in->ctx.state)[1] == 2); /* the harness reset it once */
	}
	vm_down(&h);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (void *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void pump(struct harness *h)
{
	for (int i = 0; i < 5; i++)
		loop_once(h->vm.loop, 20);
}

static ssize_t recv_some(int fd, char *buf, size_t n)
{
	ssize_t r = recv(fd, buf, n - 1, MSG_DONTWAIT);
	buf[r > 0 ? r : 0] = 0;
	return r;
}

/* Output while no client is attached waits for the next one; input from
 * the client reaches the UART's receive FIFO. */
static void socket_console_attach_detach(void)
{
	struct harness h;
	char ini[512], path[128], buf[128];
	int fd, got = 0;

	snprintf(path, sizeof(path), "%s/con.sock", tmpdir);
	snprintf(ini, sizeof(ini), HEAD UART "[console log]\nplugin = socket\npath = %s\n", path);
	vm_up(&h, ini);
	CHECK(h.ok);
	for (const char *s = "before"; *s; s++)
		outb(&h, 0x3f8, *s);
	fd = connect_to(path);
	CHECK(fd >= 0);
	pump(&h);
	recv_some(fd, buf, sizeof(buf));
	CHECK(!strcmp(buf, "before"));
	for (const char *s = "live"; *s; s++)
		outb(&h, 0x3f8, *s);
	pump(&h);
	recv_some(fd, buf, sizeof(buf));
	CHECK(!strcmp(buf, "live"));
	/* typed input: more than the FIFO holds, delivered as it drains */
	outb(&h, 0x3fa, 0x01);
	CHECK(send(fd, "0123456789abcdefghij", 20, 0) == 20);
	for (int round = 0; round < 20 && got < 20; round++) {
		pump(&h);
		while (inb(&h, 0x3fd) & 1) {
			CHECK(inb(&h, 0x3f8) == "0123456789abcdefghij"[got]);
			got++;
		}
	}
	CHECK(got == 20);
	close(fd); /* detach */
	pump(&h);
	for (const char *s = "while away"; *s; s++)
		outb(&h, 0x3f8, *s);
	fd = connect_to(path);
	pump(&h);
	recv_some(fd, buf, sizeof(buf));
	CHECK(!strcmp(buf, "while away"));
	close(fd);
	vm_down(&h);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hv-dev-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	TEST(uart_output_reaches_console);
	TEST(uart_registers);
	TEST(uart_loopback_fifo);
	TEST(uart_save_restore_round_trip);
	TEST(debug_exit_status);
	TEST(port_conflict_is_reported);
	TEST(plugin_init_failure);
	TEST(frozen_v2_runs);
	TEST(socket_console_attach_detach);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) ? 1 : 0;
}
