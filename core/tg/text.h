/* Message text as Telegram measures and renders it. */
#ifndef CW_TG_TEXT_H
#define CW_TG_TEXT_H

#include <stddef.h>

/* Characters (UTF-8 code points) in s: what the 4,096 limit counts.  For
 * HTML this over-counts (tags are not shown), which errs on the safe side. */
size_t tg_text_chars(const char *s);
/* The text an HTML message shows: tags removed, the entities Telegram
 * knows decoded.  For resending a message whose HTML was refused.
 * malloc'd; NULL when out of memory. */
char *tg_text_plain(const char *html);

#endif
