/* The store's log copied into the database by a thread of its own, with
 * its own connection to the file: the copy of a large log and its fsync
 * took the loop a second and more (a market-wide move with 100,000 users
 * writes 64 MB of log in a minute), and a loop turn must stay short.
 * SQLite lets a second connection checkpoint while the first writes; the
 * log starts over at the first write after a complete copy. */
#include <pthread.h>
#include <stdlib.h>

#include "store/internal.h"

struct store_ckpt {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sqlite3 *db;                /* the thread's own connection */
    int wanted, running, stop;
    int failed;                 /* the last copy's SQLite error, or 0 */
};

static void *ckpt_main(void *arg)
{
    struct store_ckpt *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->wanted && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->wanted = 0;
        c->running = 1;
        pthread_mutex_unlock(&c->mu);
        /* PASSIVE: as far as readers allow, waiting for no one */
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->running = 0;
        c->failed = rc == SQLITE_OK ? 0 : rc;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int store_checkpoint_in_background(struct store *s)
{
    if (s->ckpt)
        return 0;
    struct store_ckpt *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    /* (a connection learns that the file is in WAL mode on its first read) */
    if (sqlite3_open_v2(s->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    sqlite3_busy_timeout(c->db, 5000);   /* (off the loop: it may wait) */
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->thread, NULL, ckpt_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    s->ckpt = c;
    return 0;
}

/* Asks the thread for a copy (one already under way: nothing more). */
int store_ckpt_request(struct store *s)
{
    struct store_ckpt *c = s->ckpt;
    pthread_mutex_lock(&c->mu);
    int failed = c->failed;
    if (!c->running)
        c->wanted = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return failed ? -1 : 0;
}

int store_checkpoint_running(struct store *s)
{
    struct store_ckpt *c = s->ckpt;
    if (!c)
        return 0;
    pthread_mutex_lock(&c->mu);
    int busy = c->running || c->wanted;
    pthread_mutex_unlock(&c->mu);
    return busy;
}

/* Waits for a copy under way, then ends the thread and its connection. */
void store_ckpt_stop(struct store *s)
{
    struct store_ckpt *c = s->ckpt;
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    free(c);
    s->ckpt = NULL;
}
