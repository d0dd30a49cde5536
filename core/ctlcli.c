/*
 * `hv ctl`: the control socket's command-line client. It sends one line
 * and prints the one reply line, so a shell script gets each command's
 * answer and its status without a protocol library.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "ctlproto.h"

#define CTL_REPLY_WAIT_MS 60000 /* a pause waits for device I/O to drain */

static const char usage_ctl[] =
	"usage: hv ctl SOCKET COMMAND [ARGS...]\n"
	"Sends one command to the VM whose [vm] control = (or hv run --control=)\n"
	"names SOCKET and prints its reply. Commands:\n"
	"  set SECTION KEY VALUE  change a run-time key (hv plugins --keys: 'runtime')\n"
	"  get SECTION KEY        a key's value now\n"
	"  info                   name, accel, vCPUs, memory, state\n"
	"  pause | resume         stop and restart the vCPUs and devices\n"
	"  quit                   power the VM off (hv run exits with 0)\n"
	"  status SECTION [json]  an instance's report (counters, tables); json: one\n"
	"                         JSON object {\"section\":..,\"plugin\":..,...}\n"
	"  screenshot [DISPLAY] PATH.png  the display (default: the first) as a PNG,\n"
	"                         written by the VM (PATH relative to its directory)\n"
	"  sendkey KEYS           press and release keys: QEMU names joined by '-'\n"
	"                         (ctrl-alt-delete, shift-a, ret, f1, spc, ...)\n"
	"  type TEXT              type the rest of the line (US layout)\n"
	"  mouse abs X Y [BUTTONS]  point at pixel X,Y of the first display\n"
	"  mouse rel DX DY [BUTTONS]  move by DX,DY (BUTTONS: 1 left 2 middle 4 right)\n"
	"  help                   the VM's own list of commands\n"
	"SECTION is vm, a device's name (nic0), or KIND:NAME (net:lan); status also\n"
	"takes a backend a switch attached itself (lan.uplink). status prints its\n"
	"report alone, without 'ok'.\n"
	"Exit status 0 for an 'ok' reply, 1 for 'error', 2 when no VM answered.\n";

/* The command's words as one line; -1 when they do not fit or hold a
 * line break (the VM would read two commands). */
static int join(int argc, char **argv, char *line, size_t n)
{
	size_t used = 0;

	for (int i = 0; i < argc; i++) {
		int w = snprintf(line + used, n - used, "%s%s", i ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= n - used || strpbrk(argv[i], "\r\n"))
			return -1;
		used += (size_t)w;
	}
	if (used + 1 >= n)
		return -1;
	line[used++] = '\n';
	line[used] = 0;
	return (int)used;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hv: ctl: %s: too long for a unix socket address\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	if (errno == ENOENT || errno == ECONNREFUSED)
		fprintf(stderr, "hv: ctl: %s: no VM listens there\n", path);
	else
		fprintf(stderr, "hv: ctl: %s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Read up to the first '\n': its length, or -1. *extra: the bytes read
 * past it (the start of a body). */
static int read_reply(int fd, char *buf, size_t n, size_t *extra)
{
	size_t used = 0;

	while (used + 1 < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;
		char *nl;

		if (poll(&p, 1, CTL_REPLY_WAIT_MS) <= 0)
			return -1;
		got = recv(fd, buf + used, n - 1 - used, 0);
		if (got <= 0)
			return -1;
		used += (size_t)got;
		buf[used] = 0;
		if ((nl = memchr(buf, '\n', used))) {
			*nl = 0;
			*extra = used - (size_t)(nl + 1 - buf);
			return (int)(nl - buf);
		}
	}
	return -1;
}

/* An "ok+ LEN" reply's body to stdout: the have bytes read with the
 * line, then the rest from the socket. 0, or -1 when it stops short. */
static int copy_body(int fd, const char *have, size_t nhave, size_t len)
{
	char buf[65536];

	if (nhave > len || fwrite(have, 1, nhave, stdout) != nhave)
		return -1;
	for (len -= nhave; len;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t got;

		if (poll(&p, 1, CTL_REPLY_WAIT_MS) <= 0)
			return -1;
		got = recv(fd, buf, len < sizeof(buf) ? len : sizeof(buf), 0);
		if (got <= 0 || fwrite(buf, 1, (size_t)got, stdout) != (size_t)got)
			return -1;
		len -= (size_t)got;
	}
	return fflush(stdout) ? -1 : 0;
}

int ctl_main(int argc, char **argv)
{
	char line[CTL_LINE_MAX + 2], reply[CTL_REPLY_MAX + 2];
	unsigned long long blen;
	size_t extra = 0;
	int fd, len, rl, ok;
	char end;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_ctl, stdout);
		return 0;
	}
	if (argc < 3) {
		fputs(usage_ctl, stderr);
		return 2;
	}
	if ((len = join(argc - 2, argv + 2, line, sizeof(line))) < 0) {
		fprintf(stderr, "hv: ctl: the command is longer than %d bytes or holds a line break\n",
			CTL_LINE_MAX);
		return 2;
	}
	if ((fd = connect_to(argv[1])) < 0)
		return 2;
	if (send(fd, line, (size_t)len, MSG_NOSIGNAL) != len ||
	    (rl = read_reply(fd, reply, sizeof(reply), &extra)) < 0) {
		fprintf(stderr, "hv: ctl: %s: no reply from the VM\n", argv[1]);
		close(fd);
		return 2;
	}
	/* a body (status): printed as it came, without the ok+ line */
	if (sscanf(reply, "ok+ %llu%c", &blen, &end) == 1) {
		ok = blen <= CTL_BODY_MAX &&
		     !copy_body(fd, reply + rl + 1, extra, (size_t)blen);
		close(fd);
		if (!ok)
			fprintf(stderr, "hv: ctl: %s: the reply stopped short\n", argv[1]);
		return ok ? 0 : 2;
	}
	close(fd);
	ok = !strncmp(reply, "ok", 2) && (!reply[2] || reply[2] == ' ');
	fprintf(ok ? stdout : stderr, "%s\n", reply);
	return ok ? 0 : 1;
}

static const char usage_shot[] =
	"usage: hv screenshot SOCKET PATH.png [DISPLAY]\n"
	"Writes what a display of the VM whose control socket is SOCKET shows now\n"
	"as an RGB PNG (the first display unless DISPLAY names one: a display\n"
	"device's section name, SECTION.1 for its second head). The same as\n"
	"hv ctl SOCKET screenshot [DISPLAY] PATH, with PATH made absolute here.\n"
	"Exit status 0 when written, 1 when the VM refused, 2 when no VM answered.\n";

int screenshot_main(int argc, char **argv)
{
	char cwd[4096], *abs = NULL, *args[6];
	int n = 0, rc;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_shot, stdout);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		fputs(usage_shot, stderr);
		return 2;
	}
	if (argv[2][0] != '/' &&
	    (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, argv[2]) < 0)) {
		fprintf(stderr, "hv: screenshot: %s: cannot make the path absolute\n",
			argv[2]);
		return 2;
	}
	args[n++] = "ctl";
	args[n++] = argv[1];
	args[n++] = "screenshot";
	if (argc == 4)
		args[n++] = argv[3];
	args[n++] = abs ? abs : argv[2];
	args[n] = NULL;
	rc = ctl_main(n, args);
	free(abs);
	return rc;
}
