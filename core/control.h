/*
 * The control socket (control.c): `[vm] control = PATH` or `hv run
 * --control=PATH` makes the running VM take commands on a SOCK_STREAM unix
 * socket, one line each, one reply line each (ctlproto.h; `hv ctl` is the
 * client). Main thread only: the socket is served by the VM's loop, and
 * every command runs there, between device callbacks.
 */
#ifndef HV_CORE_CONTROL_H
#define HV_CORE_CONTROL_H

struct vm;
struct control;

/* Bind path (mode 0600) and watch it on vm's loop. A stale socket there
 * (nothing accepts) is replaced; a live one, anything that is not a
 * socket, or a path too long for a socket address is refused with one
 * line that starts with `where` ("vm.ini:3: [vm]: control = PATH" or
 * "--control=PATH"). 0, or -errno after that line. */
int control_open(struct vm *vm, const char *path, const char *where,
		 struct control **out);
/* Close every connection and unlink the socket (when it is still ours). */
void control_close(struct control *ctl);

/* `hv ctl PATH COMMAND [ARGS...]` (ctlcli.c): one line sent, the reply
 * printed; 0 for "ok", 1 for "error", 2 when no VM answered. */
int ctl_main(int argc, char **argv);
/* `hv screenshot PATH SHOT.png [DISPLAY]`: hv ctl's screenshot command
 * with the path made absolute (the VM writes it). The same statuses. */
int screenshot_main(int argc, char **argv);

#endif
