/* Watches a directory tree and calls back once changes settle.
 *
 * Linux inotify (under uv_fs_event) is not recursive, so every directory
 * is watched on its own and the set is rebuilt after each change (new
 * folders get watched).  Editors that write a temporary file and rename it
 * over the original show up as a rename in the directory, which is caught.
 */
#ifndef CW_WATCH_H
#define CW_WATCH_H

#include <uv.h>

struct watch;
typedef void (*watch_cb)(void *ud);

/* debounce_ms: quiet time after the last event before cb runs. */
struct watch *watch_start(uv_loop_t *loop, const char *root, unsigned debounce_ms,
                          watch_cb cb, void *ud);
/* Stops and frees (handles close on the next loop turn). */
void watch_stop(struct watch *w);

#endif
