/*
 * A guest-side helper for tests/linux/input.t, built static by the test:
 * open the evdev device whose name (EVIOCGNAME) is NAME, print
 * "EVTTAG-READY", then one line "EVTTAG TYPE CODE VALUE" per event until
 * SECONDS pass without one.
 *
 *   evread NAME TAG SECONDS
 */
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int open_named(const char *name)
{
	char path[64], got[256];

	for (int i = 0; i < 32; i++) {
		int fd;

		snprintf(path, sizeof(path), "/dev/input/event%d", i);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		memset(got, 0, sizeof(got));
		if (ioctl(fd, EVIOCGNAME(sizeof(got) - 1), got) >= 0 && !strcmp(got, name))
			return fd;
		close(fd);
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct input_event ev;
	struct pollfd p;
	int fd;

	if (argc != 4) {
		fprintf(stderr, "usage: evread NAME TAG SECONDS\n");
		return 2;
	}
	if ((fd = open_named(argv[1])) < 0) {
		printf("EVT%s-NODEV\n", argv[2]);
		return 1;
	}
	printf("EVT%s-READY\n", argv[2]);
	fflush(stdout);
	p.fd = fd, p.events = POLLIN;
	while (poll(&p, 1, atoi(argv[3]) * 1000) == 1) {
		if (read(fd, &ev, sizeof(ev)) != sizeof(ev))
			break;
		printf("EVT%s %u %u %d\n", argv[2], ev.type, ev.code, ev.value);
		fflush(stdout);
	}
	printf("EVT%s-END\n", argv[2]);
	return 0;
}
