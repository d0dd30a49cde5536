/*
 * The graphical console on libvncserver: a VNC server per instance that
 * shows the surface of the display it is attached to, takes a viewer's
 * keyboard and pointer into the VM, and (web = on) hands a browser
 * noVNC's files and its WebSocket on the same port.
 *
 * libvncserver runs inside hv's loop, never its own: this plugin owns
 * the listening socket, accepts, hands each VNC connection to
 * rfbNewClient() and watches the client sockets; on readiness (and from
 * a short timer after damage) rfbProcessEvents(screen, 0) reads what is
 * there and sends what is due, without waiting. Limits of the library
 * that reach hv's main thread: a new plain-VNC client costs its 100 ms
 * wait for a WebSocket header (0.9.14 has no way to skip it), and a viewer
 * that stops reading blocks one write for up to 5 s before it is dropped.
 *
 * VNC authentication (password) is weak: DES over an 8-character
 * password, no encryption of the session. Loopback TCP or a unix socket
 * is the safe default; anything else needs public = on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rfb/rfb.h>

#include <hv/hv.h>

#include "vnc.h"

#define VNC_MAX_VIEWERS 64 /* more are refused at the handshake */
#define VNC_MAX_PENDING 32 /* connections not yet known as VNC or HTTP */
#define VNC_UPDATE_NS	33000000ull /* refreshes while someone watches */
#define VNC_POLL_NS	20000000ull /* a partial HTTP request is looked at again \
				     */
#define VNC_WAIT_POLLS 8	    /* a browser speaks first; VNC does not */
#define VNC_HTTP_POLLS 250	    /* an HTTP client gets 5 s */
#define VNC_FILE_MAX   (4u << 20)   /* the largest file served */
#define VNC_CUT_MAX    (1u << 20)   /* libvncserver drops longer cut text too */
#define VNC_WEB_ROOT   "/usr/share/novnc"
#define VNC_BLANK_W    640
#define VNC_BLANK_H    480

struct vnc;

/* One viewer: libvncserver's client's clientData. */
struct viewer {
	struct vnc *v;
	rfbClientPtr cl;
	struct hv_watch *w;
	uint8_t held[KEY_CNT / 8];  /* keys this viewer holds down */
	uint8_t faked[KEY_CNT / 8]; /* ...pressed with a shift of ours */
	unsigned shifts;	    /* its own shift keys down (bit 0 L, 1 R) */
	int buttons;		    /* its last button mask */
};

/* A connection on the listening socket not yet handed on: it is VNC when
 * it stays silent or does not start like HTTP, a browser's file request
 * (answered here) or a WebSocket upgrade (handed to libvncserver). */
struct pending {
	struct vnc *v;
	struct pending *next;
	int fd;
	struct hv_watch *w;
	struct hv_timer *t;
	unsigned polls; /* VNC_POLL_NS ticks since accept */
	char *out;	/* an HTTP response being sent */
	size_t out_len, out_pos;
};

struct listen_addr {
	int is_unix, loopback;
	struct sockaddr_storage sa;
	socklen_t len;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct vnc {
	struct hv_ctx *ctx;
	rfbScreenInfoPtr screen;
	struct listen_addr addr;
	int lfd, web, dying;
	struct hv_watch *lw;
	struct hv_timer *tick;
	struct pending *pending;
	unsigned npending, nviewers;
	struct hv_surface s; /* the display's current surface (copy) */
	uint32_t *shadow;    /* converted pixels, unless XRGB8888 is shown */
	uint32_t fb_w, fb_h;
	char *passwords[2]; /* rfbCheckPasswordByList's list */
};

/* ---- configuration ---- */

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long p;

	errno = 0;
	p = strtol(s, &end, 10);
	if (!*s || *end || errno || p < 0 || p > 65535)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* "unix:PATH", "HOST:PORT" (IPv4 or localhost) or "[IPv6]:PORT" */
static int parse_listen(const char *s, struct listen_addr *a)
{
	char host[64];
	const char *colon;
	uint16_t port;

	memset(a, 0, sizeof(*a));
	if (!strncmp(s, "unix:", 5)) {
		struct sockaddr_un *un = (void *)&a->sa;

		if (!s[5] || strlen(s + 5) >= sizeof(a->path))
			return -ENAMETOOLONG;
		a->is_unix = a->loopback = 1;
		strcpy(a->path, s + 5);
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, a->path);
		a->len = sizeof(*un);
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host) || colon == s ||
	    parse_port(colon + 1, &port))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	if (host[0] == '[') {
		struct sockaddr_in6 *in6 = (void *)&a->sa;
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			return -EINVAL;
		host[n - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		a->len = sizeof(*in6);
		a->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
		return 0;
	}
	struct sockaddr_in *in = (void *)&a->sa;

	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -EINVAL;
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	a->len = sizeof(*in);
	a->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	return 0;
}

static int vnc_check(struct hv_ctx *ctx)
{
	const char *l = hv_config_get_str(ctx, "listen");
	struct listen_addr a;
	int rc = parse_listen(l, &a);

	if (rc == -ENAMETOOLONG) {
		hv_error(ctx,
			 "listen = %s: the socket path is empty or too long",
			 l);
		return rc;
	}
	if (rc) {
		hv_error(ctx,
			 "listen = %s: not 127.0.0.1:PORT, [::1]:PORT or "
			 "unix:PATH",
			 l);
		return rc;
	}
	if (!a.loopback && !hv_config_get_int(ctx, "public")) {
		hv_error(ctx,
			 "listen = %s: not a loopback address: VNC would be "
			 "reachable from the network (public = on allows it)",
			 l);
		return -EINVAL;
	}
	if (hv_config_get_str(ctx, "password") &&
	    hv_config_get_str(ctx, "password_file")) {
		hv_error(ctx, "password and password_file: give one of them");
		return -EINVAL;
	}
	if (hv_config_get_str(ctx, "password") &&
	    !*hv_config_get_str(ctx, "password")) {
		hv_error(ctx, "password: empty (leave the key out for no "
			      "authentication)");
		return -EINVAL;
	}
	return 0;
}

/* The password: the key, or password_file's first line. VNC uses at most
 * 8 characters of it. */
static int load_password(struct hv_ctx *ctx, struct vnc *v)
{
	const char *pw = hv_config_get_str(ctx, "password");
	const char *file = hv_config_get_str(ctx, "password_file");
	char line[256];

	if (!pw && file) {
		FILE *f = fopen(file, "re");

		if (!f || !fgets(line, sizeof(line), f)) {
			hv_error(ctx, "password_file = %s: cannot read it",
				 file);
			if (f)
				fclose(f);
			return -EINVAL;
		}
		fclose(f);
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0]) {
			hv_error(ctx,
				 "password_file = %s: the first line is empty",
				 file);
			return -EINVAL;
		}
		pw = line;
	}
	if (!pw)
		return 0;
	v->passwords[0] = strdup(pw);
	if (!v->passwords[0])
		return -ENOMEM;
	v->screen->authPasswdData = v->passwords;
	v->screen->passwordCheck = rfbCheckPasswordByList;
	return 0;
}

/* ---- the framebuffer ---- */

static unsigned bytes_pp(uint32_t format)
{
	switch (format) {
	case HV_PIXEL_XRGB8888:
		return 4;
	case HV_PIXEL_RGB888:
		return 3;
	case HV_PIXEL_RGB565:
	case HV_PIXEL_XRGB1555:
		return 2;
	case HV_PIXEL_C8:
		return 1;
	default:
		return 0;
	}
}

static uint32_t to_xrgb(const struct hv_surface *s, const uint8_t *p)
{
	uint32_t c;

	switch (s->format) {
	case HV_PIXEL_RGB565:
		c = p[0] | p[1] << 8;
		return ((c >> 11) * 255 / 31) << 16 |
		       (((c >> 5) & 63) * 255 / 63) << 8 | (c & 31) * 255 / 31;
	case HV_PIXEL_XRGB1555:
		c = p[0] | p[1] << 8;
		return (((c >> 10) & 31) * 255 / 31) << 16 |
		       (((c >> 5) & 31) * 255 / 31) << 8 | (c & 31) * 255 / 31;
	case HV_PIXEL_RGB888:
		return (uint32_t)p[2] << 16 | p[1] << 8 | p[0];
	case HV_PIXEL_C8:
		return s->palette ? s->palette[p[0]] & 0xffffff : 0;
	default:
		return 0;
	}
}

/* Convert a rectangle (already inside the surface) into the shadow. */
static void convert(struct vnc *v, uint32_t x, uint32_t y, uint32_t w,
		    uint32_t h)
{
	unsigned bpp = bytes_pp(v->s.format);

	for (uint32_t j = y; j < y + h; j++) {
		const uint8_t *src = (const uint8_t *)v->s.pixels +
				     (size_t)j * v->s.stride + (size_t)x * bpp;
		uint32_t *dst = v->shadow + (size_t)j * v->fb_w + x;

		for (uint32_t i = 0; i < w; i++, src += bpp)
			dst[i] = to_xrgb(&v->s, src);
	}
}

/* Point libvncserver at fb: 32 bpp, depth 24, X R G B from the most
 * significant byte (bytes B, G, R, X in memory). */
static void set_framebuffer(struct vnc *v, void *fb, uint32_t w, uint32_t h,
			    uint32_t stride)
{
	rfbScreenInfoPtr sc = v->screen;
	rfbClientIteratorPtr it;
	rfbClientPtr cl;

	rfbNewFramebuffer(sc, fb, (int)w, (int)h, 8, 3, 4);
	sc->paddedWidthInBytes = (int)stride;
	sc->serverFormat.depth = 24;
	sc->serverFormat.redShift = 16;
	sc->serverFormat.greenShift = 8;
	sc->serverFormat.blueShift = 0;
	/* rfbNewFramebuffer chose the clients' translation for its own
	 * default layout: choose again for ours */
	it = rfbGetClientIterator(sc);
	while ((cl = rfbClientIteratorNext(it)))
		rfbSetTranslateFunction(cl);
	rfbReleaseClientIterator(it);
	v->fb_w = w;
	v->fb_h = h;
}

static void vnc_kick(struct vnc *v)
{
	if (v->tick && v->nviewers)
		hv_timer_arm(v->ctx, v->tick, 1000000, 0);
}

static void vnc_surface_changed(struct hv_ctx *ctx, const struct hv_surface *s)
{
	struct vnc *v = HV_STATE(ctx, struct vnc);
	unsigned bpp = bytes_pp(s->format);
	uint32_t w = VNC_BLANK_W, h = VNC_BLANK_H;
	uint32_t *shadow;

	if (!v->screen)
		return; /* hv check: attached, not created */
	if (bpp && s->pixels && s->width && s->height &&
	    s->width <= HV_DISPLAY_MAX_WIDTH &&
	    s->height <= HV_DISPLAY_MAX_HEIGHT && s->stride >= s->width * bpp)
		v->s = *s;
	else
		memset(&v->s, 0, sizeof(v->s)); /* blank: a black screen */
	if (v->s.format == HV_PIXEL_XRGB8888) {
		set_framebuffer(v, v->s.pixels, v->s.width, v->s.height,
				v->s.stride);
		free(v->shadow);
		v->shadow = NULL;
		vnc_kick(v);
		return;
	}
	if (v->s.format) {
		w = v->s.width;
		h = v->s.height;
	}
	shadow = calloc((size_t)w * h, 4);
	if (!shadow) {
		hv_warn(ctx, "no memory for a %ux%u screen: showing none", w,
			h);
		memset(&v->s, 0, sizeof(v->s));
		w = h = 1;
		shadow = calloc(1, 4);
		if (!shadow)
			return;
	}
	set_framebuffer(v, shadow, w, h, w * 4);
	free(v->shadow);
	v->shadow = shadow;
	if (v->s.format)
		convert(v, 0, 0, w, h);
	vnc_kick(v);
}

static void vnc_update(struct hv_ctx *ctx, uint32_t x, uint32_t y, uint32_t w,
		       uint32_t h)
{
	struct vnc *v = HV_STATE(ctx, struct vnc);

	if (!v->screen || !v->s.format || x >= v->fb_w || y >= v->fb_h)
		return;
	if (w > v->fb_w - x)
		w = v->fb_w - x;
	if (h > v->fb_h - y)
		h = v->fb_h - y;
	if (v->shadow)
		convert(v, x, y, w, h);
	rfbMarkRectAsModified(v->screen, (int)x, (int)y, (int)(x + w),
			      (int)(y + h));
	vnc_kick(v);
}

/* ---- input ---- */

static int bit(const uint8_t *m, unsigned c)
{
	return m[c / 8] >> (c % 8) & 1;
}
static void set_bit(uint8_t *m, unsigned c, int on)
{
	if (on)
		m[c / 8] |= (uint8_t)(1u << (c % 8));
	else
		m[c / 8] &= (uint8_t) ~(1u << (c % 8));
}

static void send_events(struct vnc *v, const struct hv_input_event *ev,
			unsigned n)
{
	if (n)
		(void)hv_input_send(v->ctx, ev, n); /* no sink: dropped */
}

static void on_key(rfbBool down, rfbKeySym sym, rfbClientPtr cl)
{
	struct viewer *vw = cl->clientData;
	struct vnc_key k = vnc_keysym((uint32_t)sym);
	struct hv_input_event ev[3];
	unsigned n = 0;

	if (!vw || !k.code || k.code >= KEY_CNT)
		return;
	if (k.code == KEY_LEFTSHIFT || k.code == KEY_RIGHTSHIFT) {
		unsigned b = k.code == KEY_LEFTSHIFT ? 1 : 2;

		vw->shifts = down ? vw->shifts | b : vw->shifts & ~b;
	}
	if (down) {
		/* a shifted symbol from a viewer that holds no shift: ours */
		int fake = k.shift && !vw->shifts && !bit(vw->held, k.code);

		if (fake)
			ev[n++] = (struct hv_input_event){HV_INPUT_KEY,
							  KEY_LEFTSHIFT, 1};
		ev[n++] = (struct hv_input_event){
			HV_INPUT_KEY, k.code, bit(vw->held, k.code) ? 2 : 1};
		set_bit(vw->held, k.code, 1);
		if (fake)
			set_bit(vw->faked, k.code, 1);
	} else {
		if (!bit(vw->held, k.code))
			return; /* never pressed through us */
		ev[n++] = (struct hv_input_event){HV_INPUT_KEY, k.code, 0};
		if (bit(vw->faked, k.code))
			ev[n++] = (struct hv_input_event){HV_INPUT_KEY,
							  KEY_LEFTSHIFT, 0};
		set_bit(vw->held, k.code, 0);
		set_bit(vw->faked, k.code, 0);
	}
	send_events(vw->v, ev, n);
}

/* A viewer leaves: whatever it holds down comes up. */
static void release_all(struct viewer *vw)
{
	struct hv_input_event ev[HV_INPUT_BATCH_MAX];
	static const uint16_t btn[3] = {BTN_LEFT, BTN_MIDDLE, BTN_RIGHT};
	unsigned n = 0, shift = 0;

	for (unsigned c = 1; c < KEY_CNT; c++) {
		if (!bit(vw->held, c))
			continue;
		shift |= bit(vw->faked, c);
		ev[n++] = (struct hv_input_event){HV_INPUT_KEY, (uint16_t)c, 0};
		if (n == HV_INPUT_BATCH_MAX - 1) {
			send_events(vw->v, ev, n);
			n = 0;
		}
	}
	if (shift)
		ev[n++] =
			(struct hv_input_event){HV_INPUT_KEY, KEY_LEFTSHIFT, 0};
	send_events(vw->v, ev, n);
	memset(vw->held, 0, sizeof(vw->held));
	n = 0;
	for (unsigned b = 0; b < 3; b++)
		if (vw->buttons & (1 << b))
			ev[n++] = (struct hv_input_event){HV_INPUT_KEY, btn[b],
							  0};
	send_events(vw->v, ev, n);
	vw->buttons = 0;
}

static int32_t scale(int pos, uint32_t size)
{
	if (pos <= 0 || size <= 1)
		return 0;
	if ((uint32_t)pos >= size - 1)
		return HV_INPUT_ABS_MAX;
	return (int32_t)((uint64_t)pos * HV_INPUT_ABS_MAX / (size - 1));
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	static const uint16_t btn[3] = {BTN_LEFT, BTN_MIDDLE, BTN_RIGHT};
	struct viewer *vw = cl->clientData;
	struct hv_input_event ev[5];
	unsigned n = 0;
	int changed;

	if (!vw)
		return;
	ev[n++] = (struct hv_input_event){HV_INPUT_ABS, HV_ABS_X,
					  scale(x, vw->v->fb_w)};
	ev[n++] = (struct hv_input_event){HV_INPUT_ABS, HV_ABS_Y,
					  scale(y, vw->v->fb_h)};
	changed = (mask ^ vw->buttons) & 7;
	for (unsigned b = 0; b < 3; b++)
		if (changed & (1 << b))
			ev[n++] = (struct hv_input_event){HV_INPUT_KEY, btn[b],
							  !!(mask & (1 << b))};
	send_events(vw->v, ev, n);
	/* wheel: buttons 4 and 5 (mask 8, 16) as they go down */
	if ((mask & 8) && !(vw->buttons & 8))
		send_events(
			vw->v,
			&(struct hv_input_event){HV_INPUT_REL, HV_REL_WHEEL, 1},
			1);
	if ((mask & 16) && !(vw->buttons & 16))
		send_events(vw->v,
			    &(struct hv_input_event){HV_INPUT_REL, HV_REL_WHEEL,
						     -1},
			    1);
	vw->buttons = mask;
	rfbDefaultPtrAddEvent(mask, x, y, cl); /* the cursor position */
}

/* The guest has no clipboard channel: cut text is taken and dropped,
 * bounded as libvncserver bounds it (it closes a client that announces
 * more than 1 MiB before reading any). */
static void on_cut_text(char *str, int len, rfbClientPtr cl)
{
	(void)str;
	(void)cl;
	if (len < 0 || (unsigned)len > VNC_CUT_MAX)
		return;
}

/* ---- viewers ---- */

static void flush(struct vnc *v)
{
	if (v->screen)
		rfbProcessEvents(v->screen, 0);
}

static void on_viewer(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct viewer *vw = opaque;

	(void)ctx;
	(void)ev; /* an error shows as a failed read in there */
	flush(vw->v);
}

static void on_tick(struct hv_ctx *ctx, void *opaque)
{
	(void)ctx;
	flush(opaque);
}

static void viewer_gone(rfbClientPtr cl)
{
	struct viewer *vw = cl->clientData;
	struct vnc *v;

	if (!vw)
		return;
	v = vw->v;
	if (vw->w)
		hv_fd_unwatch(v->ctx, vw->w);
	if (!v->dying)
		release_all(vw);
	cl->clientData = NULL;
	free(vw);
	/* libvncserver 0.9.14 forgets a WebSocket client's context */
	free(cl->wsctx);
	cl->wsctx = NULL;
	if (--v->nviewers == 0 && !v->dying) {
		hv_display_interval(v->ctx, 0);
		hv_timer_arm(v->ctx, v->tick, 0, 0);
	}
}

static enum rfbNewClientAction new_viewer(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct viewer *vw;

	if (v->nviewers >= VNC_MAX_VIEWERS)
		return RFB_CLIENT_REFUSE;
	vw = calloc(1, sizeof(*vw));
	if (!vw)
		return RFB_CLIENT_REFUSE;
	vw->v = v;
	vw->cl = cl;
	if (hv_fd_watch(v->ctx, cl->sock, HV_FD_IN, on_viewer, vw, &vw->w)) {
		free(vw);
		return RFB_CLIENT_REFUSE;
	}
	cl->clientData = vw;
	cl->clientGoneHook = viewer_gone;
	if (v->nviewers++ == 0) {
		hv_display_interval(v->ctx, VNC_UPDATE_NS);
		hv_timer_arm(v->ctx, v->tick, VNC_UPDATE_NS, VNC_UPDATE_NS);
	}
	hv_display_refresh_now(v->ctx);
	return RFB_CLIENT_ACCEPT;
}

/* ---- connections on the listening socket ---- */

static void pending_free(struct pending *p)
{
	struct vnc *v = p->v;

	for (struct pending **pp = &v->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	v->npending--;
	if (p->w)
		hv_fd_unwatch(v->ctx, p->w);
	if (p->t)
		hv_timer_free(v->ctx, p->t);
	if (p->fd >= 0)
		close(p->fd);
	free(p->out);
	free(p);
}

/* libvncserver takes the connection: it speaks RFB (plain or inside a
 * WebSocket, whose upgrade request is still unread). */
static void to_vnc(struct vnc *v, int fd)
{
	int one = 1;

	/* libvncserver keeps its sockets in fd_sets */
	if (fd >= FD_SETSIZE) {
		close(fd);
		return;
	}
	if (!v->addr.is_unix)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	rfbNewClient(v->screen, fd); /* NULL: it closed fd itself */
	flush(v);
}

static void pending_to_vnc(struct pending *p)
{
	struct vnc *v = p->v;
	int fd = p->fd;

	p->fd = -1;
	pending_free(p);
	to_vnc(v, fd);
}

static void pending_events(struct hv_ctx *ctx, void *opaque, unsigned ev);

static int pending_rewatch(struct pending *p, unsigned events)
{
	if (p->w)
		hv_fd_unwatch(p->v->ctx, p->w);
	p->w = NULL;
	return hv_fd_watch(p->v->ctx, p->fd, events, pending_events, p, &p->w);
}

static void respond(struct pending *p, const char *status, const char *type,
		    const char *extra, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(
		head, sizeof(head),
		"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: "
		"%zu\r\n%sCache-Control: no-cache\r\nConnection: close\r\n\r\n",
		status, type, len, extra);

	p->out = malloc((size_t)n + len);
	if (!p->out || pending_rewatch(p, HV_FD_OUT)) {
		pending_free(p);
		return;
	}
	memcpy(p->out, head, (size_t)n);
	if (len)
		memcpy(p->out + n, body, len);
	p->out_len = (size_t)n + len;
}

/* Take the request that was only peeked at: closing with it unread would
 * reset the connection under the response. */
static void consume(struct pending *p, size_t n)
{
	char buf[VNC_HTTP_HEADER_MAX];

	if (n > sizeof(buf))
		n = sizeof(buf);
	(void)!recv(p->fd, buf, n, MSG_DONTWAIT);
}

static void serve_file(struct pending *p, const char *path)
{
	static const char missing[] = "not found\n";
	char *body = NULL;
	struct stat st;
	int fd;

	if (!strcmp(path, "/")) {
		respond(p, "302 Found", "text/plain",
			"Location: /vnc.html?autoconnect=1&resize=scale\r\n",
			"", 0);
		return;
	}
	fd = openat(AT_FDCWD, VNC_WEB_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		int dir = fd;

		fd = openat(dir, path + 1, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		close(dir);
	}
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > VNC_FILE_MAX ||
	    !(body = malloc((size_t)st.st_size + 1)) ||
	    read(fd, body, (size_t)st.st_size) != st.st_size) {
		if (fd >= 0)
			close(fd);
		free(body);
		respond(p, "404 Not Found", "text/plain", "", missing,
			sizeof(missing) - 1);
		return;
	}
	close(fd);
	respond(p, "200 OK", vnc_http_type(path), "", body, (size_t)st.st_size);
	free(body);
}

/* Look at what the client sent so far, without taking it. */
static void pending_read(struct pending *p)
{
	char buf[VNC_HTTP_HEADER_MAX], path[VNC_HTTP_PATH_MAX];
	ssize_t n = recv(p->fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || errno != EAGAIN)
			pending_free(p);
		return;
	}
	switch (vnc_http_parse(buf, (size_t)n, path)) {
	case VNC_HTTP_MORE:
		/* the bytes stay readable: poll from the timer, not the watch
		 */
		if (p->w)
			hv_fd_unwatch(p->v->ctx, p->w);
		p->w = NULL;
		return;
	case VNC_HTTP_FILE:
		if (p->v->web) {
			consume(p, (size_t)n);
			serve_file(p, path);
			return;
		}
		break;
	case VNC_HTTP_UPGRADE:
		pending_to_vnc(p);
		return;
	case VNC_HTTP_BAD:
		break;
	}
	if ((size_t)n >= 4 && !memcmp(buf, "GET ", 4)) {
		static const char bad[] = "bad request\n";

		consume(p, (size_t)n);
		respond(p, "400 Bad Request", "text/plain", "", bad,
			sizeof(bad) - 1);
		return;
	}
	pending_to_vnc(p); /* not HTTP: libvncserver judges it */
}

static void pending_events(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct pending *p = opaque;
	ssize_t n;

	(void)ctx;
	if (!p->out) {
		pending_read(p);
		return;
	}
	n = send(p->fd, p->out + p->out_pos, p->out_len - p->out_pos,
		 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && errno == EAGAIN && !(ev & HV_FD_ERR))
		return;
	if (n > 0)
		p->out_pos += (size_t)n;
	if (n <= 0 || p->out_pos == p->out_len)
		pending_free(p);
}

/* Every VNC_POLL_NS: a connection silent for VNC_WAIT_POLLS is a VNC
 * viewer waiting for the server's hello; a partial request is read
 * again; past VNC_HTTP_POLLS, a request or response unfinished is
 * dropped. */
static void pending_timeout(struct hv_ctx *ctx, void *opaque)
{
	struct pending *p = opaque;

	(void)ctx;
	if (++p->polls > VNC_HTTP_POLLS) {
		pending_free(p);
		return;
	}
	if (p->out)
		return; /* sending: the watch does it */
	if (!p->w) {
		pending_read(p); /* a partial request: more of it yet? */
		return;
	}
	if (p->polls >= VNC_WAIT_POLLS)
		pending_to_vnc(p); /* nothing arrived: still watched */
}

static void on_accept(struct hv_ctx *ctx, void *opaque, unsigned ev)
{
	struct vnc *v = opaque;
	struct pending *p;
	int fd = accept4(v->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	(void)ev;
	if (fd < 0)
		return;
	if (!v->web || v->addr.is_unix) {
		to_vnc(v, fd);
		return;
	}
	/* too many undecided: a silent one is VNC anyway, a browser's file
	 * request will fail (libvncserver drops non-WebSocket HTTP) */
	if (v->npending >= VNC_MAX_PENDING || !(p = calloc(1, sizeof(*p)))) {
		to_vnc(v, fd);
		return;
	}
	p->v = v;
	p->fd = fd;
	p->next = v->pending;
	v->pending = p;
	v->npending++;
	if (hv_timer_new(ctx, pending_timeout, p, &p->t) ||
	    pending_rewatch(p, HV_FD_IN)) {
		pending_free(p);
		return;
	}
	hv_timer_arm(ctx, p->t, VNC_POLL_NS, VNC_POLL_NS);
}

/* ---- life ---- */

static void unlink_stale(const char *path)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
}

static int open_listen(struct hv_ctx *ctx, struct vnc *v)
{
	struct listen_addr *a = &v->addr;
	int one = 1;

	v->lfd = socket(a->sa.ss_family,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (v->lfd < 0)
		return -errno;
	if (a->is_unix)
		unlink_stale(a->path);
	else
		setsockopt(v->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(v->lfd, (struct sockaddr *)&a->sa, a->len) ||
	    listen(v->lfd, 64))
		return -errno;
	if (!a->is_unix) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char host[INET6_ADDRSTRLEN] = "?";
		int port;

		if (getsockname(v->lfd, (struct sockaddr *)&ss, &len))
			return -errno;
		if (ss.ss_family == AF_INET6) {
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&ss)->sin6_addr,
				  host, sizeof(host));
		} else {
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&ss)->sin_addr, host,
				  sizeof(host));
		}
		v->screen->port = port; /* what its HTTP substitutions say */
		hv_info(ctx, "VNC on %s%s%s:%d%s",
			ss.ss_family == AF_INET6 ? "[" : "", host,
			ss.ss_family == AF_INET6 ? "]" : "", port,
			v->web ? " (noVNC: /vnc.html)" : "");
	} else {
		hv_info(ctx, "VNC on unix:%s", a->path);
	}
	return hv_fd_watch(ctx, v->lfd, HV_FD_IN, on_accept, v, &v->lw);
}

static void vnc_destroy(struct hv_ctx *ctx)
{
	struct vnc *v = HV_STATE(ctx, struct vnc);

	v->dying = 1;
	while (v->pending)
		pending_free(v->pending);
	if (v->lw)
		hv_fd_unwatch(ctx, v->lw);
	if (v->lfd >= 0) {
		close(v->lfd);
		if (v->addr.is_unix)
			unlink(v->addr.path);
	}
	if (v->screen) {
		rfbShutdownServer(v->screen, TRUE); /* viewer_gone for each */
		rfbScreenCleanup(v->screen);
	}
	if (v->tick)
		hv_timer_free(ctx, v->tick);
	free(v->shadow);
	free(v->passwords[0]);
	v->screen = NULL;
}

static int vnc_create(struct hv_ctx *ctx)
{
	struct vnc *v = HV_STATE(ctx, struct vnc);
	int argc = 0, rc;

	v->ctx = ctx;
	v->lfd = -1;
	v->web = (int)hv_config_get_int(ctx, "web");
	rc = parse_listen(hv_config_get_str(ctx, "listen"), &v->addr);
	if (rc)
		return rc; /* vnc_check said why */
	rfbLogEnable(0);   /* libvncserver's chatter: its own, process-wide */
	v->shadow = calloc((size_t)VNC_BLANK_W * VNC_BLANK_H, 4);
	v->screen =
		rfbGetScreen(&argc, NULL, VNC_BLANK_W, VNC_BLANK_H, 8, 3, 4);
	rc = -ENOMEM;
	if (!v->shadow || !v->screen)
		goto out;
	v->screen->screenData = v;
	v->screen->desktopName = "hv";
	v->screen->port = v->screen->ipv6port = -1; /* the sockets are ours */
	v->screen->autoPort = FALSE;
	v->screen->httpDir = NULL;
	v->screen->alwaysShared = TRUE;
	v->screen->deferUpdateTime = 0;
	v->screen->maxClientWait = 500; /* ms a half message may take */
	v->screen->newClientHook = new_viewer;
	v->screen->kbdAddEvent = on_key;
	v->screen->ptrAddEvent = on_pointer;
	v->screen->setXCutText = on_cut_text;
	v->screen->permitFileTransfer = FALSE;
	/* no cursor of libvncserver's: for a viewer without cursor
	 * encodings it draws one into the framebuffer, which here is the
	 * guest's VRAM (the guest draws its own pointer anyway) */
	v->screen->cursor = NULL;
	rc = load_password(ctx, v);
	if (rc)
		goto out;
	set_framebuffer(v, v->shadow, VNC_BLANK_W, VNC_BLANK_H,
			VNC_BLANK_W * 4);
	rfbInitServer(v->screen);
	rc = hv_timer_new(ctx, on_tick, v, &v->tick);
	if (rc)
		goto out;
	rc = open_listen(ctx, v);
	if (rc) {
		hv_error(ctx, "listen = %s: %s",
			 hv_config_get_str(ctx, "listen"), strerror(-rc));
		goto out;
	}
	return 0;
out:
	if (v->lfd >= 0 && v->addr.is_unix && rc != -EADDRINUSE)
		unlink(v->addr.path);
	if (v->lfd >= 0)
		close(v->lfd);
	v->lfd = -1;
	vnc_destroy(ctx);
	return rc;
}

static const struct hv_console_ops ops = {
	.create = vnc_create,
	.destroy = vnc_destroy,
	.surface_changed = vnc_surface_changed,
	.update = vnc_update,
	.check = vnc_check,
};

static const struct hv_config_key keys[] = {
	HV_KEY_STR("listen", "127.0.0.1:5900",
		   "127.0.0.1:PORT, [::1]:PORT or unix:PATH (PORT 0: any free "
		   "port)"),
	HV_KEY_FLAG("public", "off",
		    "allow listening on a non-loopback address"),
	HV_KEY_STR("password", NULL,
		   "VNC authentication (weak: 8 characters, DES; prefer "
		   "loopback or unix)"),
	HV_KEY_FILE("password_file", 0,
		    "the password on this file's first line"),
	HV_KEY_FLAG("web", "on",
		    "serve noVNC over HTTP and WebSocket on the same TCP port"),
	HV_KEYS_END};

HV_PLUGIN_DEFINE(vnc, console, &ops, .version = "1.0",
		 .description = "graphical console: VNC server (libvncserver) "
				"with noVNC for browsers",
		 .instance_size = sizeof(struct vnc), .keys = keys);
