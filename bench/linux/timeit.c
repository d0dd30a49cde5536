/*
 * timeit MARKER -- COMMAND...: run COMMAND with its stdout on a pipe,
 * print "init=SECONDS exit=SECONDS status=N rss_kib=N rss_nonshm_kib=N":
 * when MARKER first appeared in the output, when the command exited, its
 * status, its peak VmRSS, and its peak VmRSS less RssShmem (for hv: the
 * memory that is not the guest's memfd-backed RAM), sampled every 20 ms.
 * The command's output is copied to stderr.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sample(pid_t pid, long *rss, long *nonshm)
{
	char path[64], line[256];
	long r = -1, shm = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &r);
		sscanf(line, "RssShmem: %ld", &shm);
	}
	fclose(f);
	if (r > *rss)
		*rss = r;
	if (r >= 0 && r - shm > *nonshm)
		*nonshm = r - shm;
}

int main(int argc, char **argv)
{
	int p[2], status = 0;
	char buf[4096], tail[8192] = "";
	double t0, t_init = -1;
	long rss = 0, nonshm = 0;
	pid_t pid;

	if (argc < 4 || strcmp(argv[2], "--")) {
		fprintf(stderr, "usage: timeit MARKER -- COMMAND...\n");
		return 2;
	}
	if (pipe(p))
		return 1;
	t0 = now();
	pid = fork();
	if (!pid) {
		dup2(p[1], 1);
		close(p[0]);
		execvp(argv[3], argv + 3);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		int n = poll(&pf, 1, 20);
		sample(pid, &rss, &nonshm);
		if (n <= 0)
			continue;
		ssize_t r = read(p[0], buf, sizeof(buf) - 1);
		if (r <= 0)
			break;
		buf[r] = 0;
		fwrite(buf, 1, r, stderr);
		if (t_init < 0) {
			size_t tl = strlen(tail);
			if (tl + r >= sizeof(tail)) {
				memmove(tail, tail + tl / 2, tl - tl / 2 + 1);
				tl = strlen(tail);
			}
			memcpy(tail + tl, buf, r + 1);
			if (strstr(tail, argv[1]))
				t_init = now() - t0;
		}
	}
	waitpid(pid, &status, 0);
	printf("init=%.2f exit=%.2f status=%d rss_kib=%ld rss_nonshm_kib=%ld\n", t_init,
	       now() - t0, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
	       rss, nonshm);
	return 0;
}
