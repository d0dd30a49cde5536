/*
 * libFuzzer over what a VNC client sends: each input is one client on a
 * socketpair, its bytes written up front and then end-of-file; the
 * plugin (vnc.c, built in) hands the socket to libvncserver as it does
 * an accepted connection, and the loop runs until the client is gone.
 * The first byte picks the surface the display shows (format and size),
 * so conversion and input scaling are exercised too. The fake host checks
 * every input event the plugin sends: a known type, a code evdev has,
 * absolute values inside 0..HV_INPUT_ABS_MAX.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../plugins/console/vnc.c"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len);

static const char *cfg_str(struct hv_ctx *ctx, const char *key)
{
	static char path[64];

	if (!strcmp(key, "listen")) {
		snprintf(path, sizeof(path), "unix:/tmp/fuzz-vnc-%d.sock",
			 (int)getpid());
		return path;
	}
	return NULL; /* no password, no password_file */
}

static int64_t cfg_int(struct hv_ctx *ctx, const char *key)
{
	return 0; /* public off, web off */
}

static void log_write(struct hv_ctx *ctx, int level, const char *fmt,
		      va_list ap)
{
}

static int fd_watch(struct hv_ctx *ctx, int fd, unsigned events, hv_fd_cb cb,
		    void *opaque, struct hv_watch **out)
{
	*out = (struct hv_watch *)1; /* the harness drives the loop */
	return 0;
}

static void fd_unwatch(struct hv_ctx *ctx, struct hv_watch *w)
{
}

static int timer_new(struct hv_ctx *ctx, hv_cb cb, void *opaque,
		     struct hv_timer **out)
{
	*out = (struct hv_timer *)1;
	return 0;
}

static void timer_arm(struct hv_ctx *ctx, struct hv_timer *t, uint64_t d,
		      uint64_t p)
{
}

static void timer_free(struct hv_ctx *ctx, struct hv_timer *t)
{
}

static void interval(struct hv_ctx *ctx, uint64_t ns)
{
}

static void refresh_now(struct hv_ctx *ctx)
{
}

static int input_send(struct hv_ctx *ctx, const struct hv_input_event *ev,
		      unsigned n)
{
	if (!n || n > HV_INPUT_BATCH_MAX)
		abort();
	for (unsigned i = 0; i < n; i++) {
		switch (ev[i].type) {
		case HV_INPUT_KEY:
			if (!ev[i].code || ev[i].code >= KEY_CNT ||
			    ev[i].value < 0 || ev[i].value > 2)
				abort();
			break;
		case HV_INPUT_ABS:
			if (ev[i].code > HV_ABS_Y || ev[i].value < 0 ||
			    ev[i].value > HV_INPUT_ABS_MAX)
				abort();
			break;
		case HV_INPUT_REL:
			if (ev[i].code != HV_REL_WHEEL)
				abort();
			break;
		default:
			abort();
		}
	}
	return 0;
}

static struct hv_host host = {
	.size = sizeof(struct hv_host),
	.abi_major = HV_ABI_MAJOR,
	.abi_minor = HV_ABI_MINOR,
	.log_write = log_write,
	.config_get_str = cfg_str,
	.config_get_int = cfg_int,
	.fd_watch = fd_watch,
	.fd_unwatch = fd_unwatch,
	.timer_new = timer_new,
	.timer_arm = timer_arm,
	.timer_free = timer_free,
	.display_interval = interval,
	.display_refresh_now = refresh_now,
	.input_send = input_send,
};

static struct vnc state;
static struct hv_ctx ctx = {.host = &host, .state = &state, .name = "vnc"};
static uint8_t pixels[97 * 61 * 4];
static uint32_t palette[256];

static void pick_surface(uint8_t b)
{
	static const uint32_t formats[] = {HV_PIXEL_XRGB8888, HV_PIXEL_RGB565,
					   HV_PIXEL_XRGB1555, HV_PIXEL_RGB888,
					   HV_PIXEL_C8,	      0};
	struct hv_surface s = {.size = sizeof(s)};

	s.format = formats[b % 6];
	if (s.format) {
		s.width = 1 + (b >> 3) % 97;
		s.height = 1 + (b * 7u) % 61;
		s.stride = 97 * 4;
		s.pixels = pixels;
		s.palette = palette;
	}
	vnc_surface_changed(&ctx, &s);
	vnc_update(&ctx, 0, 0, 1000, 1000);
}

/* libFuzzer exits without a destroy: the listening socket's file goes */
static void remove_socket(void)
{
	unlink(state.addr.path);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t len)
{
	static int created;
	char sink[65536];
	int sp[2];

	if (!created) {
		for (size_t i = 0; i < sizeof(pixels); i++)
			pixels[i] = (uint8_t)(i * 31);
		for (int i = 0; i < 256; i++)
			palette[i] = (uint32_t)i * 0x010203u;
		if (vnc_create(&ctx))
			abort();
		atexit(remove_socket);
		created = 1;
	}
	if (len < 1 || len > 60000)
		return 0;
	pick_surface(data[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp))
		return 0;
	if (write(sp[1], data + 1, len - 1) != (ssize_t)(len - 1)) {
		close(sp[0]);
		close(sp[1]);
		return 0;
	}
	shutdown(sp[1], SHUT_WR);
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	to_vnc(&state, sp[0]);
	for (int i = 0; i < 1000 && state.nviewers; i++) {
		while (read(sp[1], sink, sizeof(sink)) > 0)
			;
		flush(&state);
	}
	if (state.nviewers) /* a client that never finishes: a hang */
		abort();
	close(sp[1]);
	return 0;
}
