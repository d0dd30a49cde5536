/*
 * The control socket's transport (ctlsock.c): a listening SOCK_STREAM unix
 * socket on the main loop, any number of connections (up to
 * CTL_MAX_CLIENTS at once), each line run through a command table
 * (ctlproto.h) and answered with one line. It knows nothing of VMs:
 * control.c owns the commands. Main thread only.
 */
#ifndef HV_CORE_CTLSOCK_H
#define HV_CORE_CTLSOCK_H

#include "ctlproto.h"

#define CTL_MAX_CLIENTS 64 /* a bound on memory: 4 KiB of line each */

struct loop;
struct ctl_server;

/* Bind path with mode 0600 and serve table's commands (handlers get
 * opaque). A stale socket there (nothing accepts) is replaced; a live one,
 * anything that is not a socket, or a path too long for a socket address
 * is refused. 0, or -errno with *why set to one phrase. */
int ctl_server_open(struct loop *loop, const char *path,
		    const struct ctl_cmd *table, void *opaque,
		    struct ctl_server **out, const char **why);
/* on: no connection is read, none accepted (a handler that runs the loop
 * itself, so that no other command starts inside it); off: again. */
void ctl_server_hold(struct ctl_server *srv, int on);
/* Close every connection and unlink the socket (when it is still ours). */
void ctl_server_close(struct ctl_server *srv);

#endif
