#include "loop/watch.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WATCH_MAX_DIRS 64

struct watch {
    uv_loop_t *loop;
    char *root;
    unsigned debounce_ms;
    watch_cb cb;
    void *ud;
    uv_timer_t settle;
    uv_fs_event_t *ev[WATCH_MAX_DIRS];
    int nev;
};

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void on_settled(uv_timer_t *t);

static void on_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    (void)status;
    struct watch *w = h->data;
    uv_timer_start(&w->settle, on_settled, w->debounce_ms, 0);
}

static void add_dir(struct watch *w, const char *path, int depth)
{
    if (w->nev == WATCH_MAX_DIRS || depth > 8)
        return;
    uv_fs_event_t *h = malloc(sizeof *h);
    if (!h)
        return;
    uv_fs_event_init(w->loop, h);
    h->data = w;
    if (uv_fs_event_start(h, on_event, path, 0) != 0) {
        uv_close((uv_handle_t *)h, free_handle);
        return;
    }
    w->ev[w->nev++] = h;
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char sub[4096];
        struct stat st;
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            add_dir(w, sub, depth + 1);
    }
    closedir(d);
}

static void drop_dirs(struct watch *w)
{
    for (int i = 0; i < w->nev; i++) {
        uv_fs_event_stop(w->ev[i]);
        uv_close((uv_handle_t *)w->ev[i], free_handle);
    }
    w->nev = 0;
}

static void on_settled(uv_timer_t *t)
{
    struct watch *w = t->data;
    drop_dirs(w);
    add_dir(w, w->root, 0);
    w->cb(w->ud);
}

struct watch *watch_start(uv_loop_t *loop, const char *root, unsigned debounce_ms,
                          watch_cb cb, void *ud)
{
    struct watch *w = calloc(1, sizeof *w);
    if (!w || !(w->root = strdup(root))) {
        free(w);
        return NULL;
    }
    w->loop = loop;
    w->debounce_ms = debounce_ms;
    w->cb = cb;
    w->ud = ud;
    uv_timer_init(loop, &w->settle);
    w->settle.data = w;
    add_dir(w, root, 0);
    return w;
}

static void free_watch(uv_handle_t *h)
{
    struct watch *w = h->data;
    free(w->root);
    free(w);
}

void watch_stop(struct watch *w)
{
    if (!w)
        return;
    drop_dirs(w);
    uv_timer_stop(&w->settle);
    uv_close((uv_handle_t *)&w->settle, free_watch);
}
