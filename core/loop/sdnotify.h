/* systemd's notify protocol, without libsystemd: one datagram to the
 * socket in $NOTIFY_SOCKET ("READY=1", "WATCHDOG=1", "STOPPING=1").  Under
 * anything else (no $NOTIFY_SOCKET) every call does nothing. */
#ifndef CW_SDNOTIFY_H
#define CW_SDNOTIFY_H

#include <stdint.h>

/* 0 sent (or nothing to send to), -1 the socket refused it. */
int sdnotify(const char *state);
/* The watchdog interval systemd asked for ($WATCHDOG_USEC, for this
 * process), in ms; 0 when there is no watchdog. */
uint64_t sdnotify_watchdog_ms(void);

#endif
