/*
 * A VNC viewer for the tests, on libvncclient (Debian's, not hv's code):
 * connects with the raw encoding, then runs the script of its arguments
 * and prints one line per step; exit status 0 when every check held.
 *
 *   vncclient HOST:PORT|PATH STEP...
 *     size W H             the framebuffer is W x H
 *     pixel X Y RRGGBB     the pixel there is exactly that colour
 *     waitsize W H SECS    updates until the size is W x H (DesktopSize)
 *     waitpixel X Y RRGGBB SECS  incremental updates until the pixel is that
 *     key KEYSYM           press and release (hex X keysym, 0x41)
 *     down KEYSYM | up KEYSYM
 *     ptr X Y MASK         a pointer event
 *     cut BYTES            client cut text of that many bytes
 *     sleep MS             keep handling messages for a while
 *     ppm FILE             write the framebuffer as a binary PPM
 *   VNC_PASSWORD in the environment answers VNC authentication.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <rfb/rfbclient.h>

static char *get_password(rfbClient *c)
{
	const char *pw = getenv("VNC_PASSWORD");

	return strdup(pw ? pw : "");
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Handle what arrives for ms milliseconds; 0 when the server went away. */
static int pump(rfbClient *c, int ms)
{
	double end = now() + ms / 1000.0;

	while (now() < end) {
		int n = WaitForMessage(c, 20000);

		if (n < 0)
			return 0;
		if (n > 0 && !HandleRFBServerMessage(c))
			return 0;
	}
	return 1;
}

/* A full, non-incremental update of the current size, then wait. */
static int refresh(rfbClient *c)
{
	if (!SendFramebufferUpdateRequest(c, 0, 0, c->width, c->height, FALSE))
		return 0;
	return pump(c, 400);
}

static uint32_t pixel(rfbClient *c, int x, int y)
{
	const uint8_t *p = c->frameBuffer + ((size_t)y * c->width + x) * 4;

	/* our format (below): red at bits 16-23, little endian */
	return (uint32_t)p[2] << 16 | p[1] << 8 | p[0];
}

static int write_ppm(rfbClient *c, const char *path)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return 0;
	fprintf(f, "P6\n%d %d\n255\n", c->width, c->height);
	for (int y = 0; y < c->height; y++)
		for (int x = 0; x < c->width; x++) {
			uint32_t v = pixel(c, x, y);

			fputc(v >> 16, f);
			fputc(v >> 8 & 0xff, f);
			fputc(v & 0xff, f);
		}
	return !fclose(f);
}

static int step(rfbClient *c, char **a, int *used)
{
	const char *op = a[0];

#define NEED(n)                                                             \
	do {                                                                \
		for (int i_ = 1; i_ <= (n); i_++)                           \
			if (!a[i_]) {                                       \
				printf("FAIL %s: missing arguments\n", op); \
				return 0;                                   \
			}                                                   \
		*used = (n) + 1;                                            \
	} while (0)

	if (!strcmp(op, "size")) {
		NEED(2);
		if (c->width != atoi(a[1]) || c->height != atoi(a[2])) {
			printf("FAIL size %dx%d, expected %sx%s\n", c->width,
			       c->height, a[1], a[2]);
			return 0;
		}
		printf("size %dx%d\n", c->width, c->height);
		return 1;
	}
	if (!strcmp(op, "pixel")) {
		int x, y;
		uint32_t want, got;

		NEED(3);
		x = atoi(a[1]);
		y = atoi(a[2]);
		want = (uint32_t)strtoul(a[3], NULL, 16);
		if (x < 0 || y < 0 || x >= c->width || y >= c->height) {
			printf("FAIL pixel %d,%d outside %dx%d\n", x, y,
			       c->width, c->height);
			return 0;
		}
		if (!refresh(c))
			return 0;
		got = pixel(c, x, y);
		printf("%s pixel %d,%d %06x (expected %06x)\n",
		       got == want ? "ok" : "FAIL", x, y, got, want);
		return got == want;
	}
	if (!strcmp(op, "waitsize")) {
		double end;

		NEED(3);
		end = now() + atof(a[3]);
		while (now() < end &&
		       (c->width != atoi(a[1]) || c->height != atoi(a[2]))) {
			SendFramebufferUpdateRequest(c, 0, 0, c->width,
						     c->height, TRUE);
			if (!pump(c, 200))
				return 0;
		}
		printf("%s waitsize %dx%d\n",
		       c->width == atoi(a[1]) && c->height == atoi(a[2])
			       ? "ok"
			       : "FAIL",
		       c->width, c->height);
		return c->width == atoi(a[1]) && c->height == atoi(a[2]);
	}
	if (!strcmp(op, "waitpixel")) {
		int x, y;
		uint32_t want;
		double end;

		NEED(4);
		x = atoi(a[1]);
		y = atoi(a[2]);
		want = (uint32_t)strtoul(a[3], NULL, 16);
		end = now() + atof(a[4]);
		if (x < 0 || y < 0 || x >= c->width || y >= c->height)
			return 0;
		/* incremental requests: only damage the server reports */
		while (now() < end && pixel(c, x, y) != want) {
			SendFramebufferUpdateRequest(c, 0, 0, c->width,
						     c->height, TRUE);
			if (!pump(c, 10))
				return 0;
		}
		printf("%s waitpixel %d,%d %06x\n",
		       pixel(c, x, y) == want ? "ok" : "FAIL", x, y,
		       pixel(c, x, y));
		return pixel(c, x, y) == want;
	}
	if (!strcmp(op, "key") || !strcmp(op, "down") || !strcmp(op, "up")) {
		uint32_t sym;

		NEED(1);
		sym = (uint32_t)strtoul(a[1], NULL, 0);
		if (strcmp(op, "up") && !SendKeyEvent(c, sym, TRUE))
			return 0;
		if (strcmp(op, "down") && !SendKeyEvent(c, sym, FALSE))
			return 0;
		printf("%s 0x%x\n", op, sym);
		return pump(c, 50);
	}
	if (!strcmp(op, "ptr")) {
		NEED(3);
		if (!SendPointerEvent(c, atoi(a[1]), atoi(a[2]), atoi(a[3])))
			return 0;
		printf("ptr %s %s %s\n", a[1], a[2], a[3]);
		return pump(c, 50);
	}
	if (!strcmp(op, "cut")) {
		size_t n;
		char *s;
		int ok;

		NEED(1);
		n = strtoul(a[1], NULL, 0);
		s = malloc(n + 1);
		if (!s)
			return 0;
		memset(s, 'x', n);
		ok = SendClientCutText(c, s, (int)n);
		free(s);
		printf("cut %zu %s\n", n, ok ? "sent" : "failed");
		return ok && pump(c, 100);
	}
	if (!strcmp(op, "sleep")) {
		NEED(1);
		return pump(c, atoi(a[1]));
	}
	if (!strcmp(op, "ppm")) {
		NEED(1);
		if (!refresh(c))
			return 0;
		printf("ppm %s\n", a[1]);
		return write_ppm(c, a[1]);
	}
	printf("FAIL unknown step %s\n", op);
	return 0;
}

/* libvncclient does not free the framebuffer its default allocator made */
static void done(rfbClient *c)
{
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

int main(int argc, char **argv)
{
	rfbClient *c;
	char *colon;

	if (argc < 2) {
		fprintf(stderr, "usage: vncclient HOST:PORT|PATH STEP...\n");
		return 2;
	}
	if (!getenv("VNC_DEBUG"))
		rfbClientLog = quiet;
	c = rfbGetClient(8, 3, 4);
	if (!c)
		return 2;
	c->GetPassword = get_password;
	c->appData.encodingsString = "raw";
	c->appData.useRemoteCursor = FALSE;
	c->canHandleNewFBSize = TRUE;
	/* red at bits 16-23 as hv's XRGB8888, whatever libvncclient's default
	 */
	c->format.redShift = 16;
	c->format.greenShift = 8;
	c->format.blueShift = 0;
	free(c->serverHost); /* rfbGetClient's "" */
	colon = strrchr(argv[1], ':');
	if (argv[1][0] != '/' && colon) {
		*colon = 0;
		c->serverHost = strdup(argv[1]);
		c->serverPort = atoi(colon + 1);
	} else {
		c->serverHost = strdup(argv[1]); /* a unix socket */
		c->serverPort = 0;
	}
	{
		int one = 1;
		char *fake[] = {argv[0], NULL};

		if (!rfbInitClient(c, &one, fake)) {
			printf("FAIL connect\n");
			return 1; /* rfbInitClient freed the client */
		}
	}
	printf("connected %dx%d\n", c->width, c->height);
	if (!refresh(c)) {
		printf("FAIL server went away\n");
		done(c);
		return 1;
	}
	for (int i = 2; i < argc;) {
		int used = 1;

		if (!step(c, argv + i, &used)) {
			printf("FAIL at %s\n", argv[i]);
			done(c);
			return 1;
		}
		i += used;
	}
	done(c);
	printf("done\n");
	return 0;
}
