/* A small JSON writer into a growable buffer: for log lines and /health,
 * where building a cJSON tree first would be wasted work.
 *
 *   struct jsonw w; jsonw_init(&w);
 *   jsonw_obj_open(&w); jsonw_kv_str(&w, "status", "ok"); jsonw_obj_close(&w);
 *   puts(jsonw_str(&w)); jsonw_free(&w);
 */
#ifndef CW_JSONW_H
#define CW_JSONW_H

#include <stddef.h>

struct jsonw {
    char *buf;
    size_t len, cap;
    int need_comma;
    int oom;
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
const char *jsonw_str(struct jsonw *w);

void jsonw_obj_open(struct jsonw *w);
void jsonw_obj_close(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_str_val(struct jsonw *w, const char *s);   /* NULL writes null */
void jsonw_num(struct jsonw *w, double v);
void jsonw_int(struct jsonw *w, long long v);
void jsonw_bool(struct jsonw *w, int v);
void jsonw_kv_str(struct jsonw *w, const char *key, const char *s);
void jsonw_kv_int(struct jsonw *w, const char *key, long long v);

#endif
