/* Message text as Telegram measures and renders it. */
#ifndef CW_TG_TEXT_H
#define CW_TG_TEXT_H

#include <stddef.h>

/* The length Telegram's limits count: UTF-16 code units (a character
 * beyond the BMP, like most emoji, counts two).  For HTML this
 * over-counts (tags are not shown), which errs on the safe side. */
size_t tg_text_chars(const char *s);
/* The first control or invisible format character of s (bidi overrides,
 * zero-width spaces, ...; not the joiners ZWNJ and ZWJ), or 0: text a
 * user names something with must read as it shows. */
unsigned long tg_text_invisible(const char *s);
/* The text an HTML message shows: tags removed, the entities Telegram
 * knows decoded.  For resending a message whose HTML was refused.
 * malloc'd; NULL when out of memory. */
char *tg_text_plain(const char *html);
/* in with <, > and & escaped for an HTML message, into out (cut short to
 * fit size, never inside an entity). */
void tg_text_escape(char *out, size_t size, const char *in);
/* The first line of plain text (leading blanks skipped) as one line of an
 * HTML message, into out: escaped, and when longer than max_chars
 * characters or size bytes, cut on a character with "…" after it. */
void tg_text_line(char *out, size_t size, const char *text, size_t max_chars);

/* text (HTML when html) as a message part limited to max_chars shown
 * characters (a caption: 1,024): itself when it fits, else its shown
 * text cut on a character with "…" after it, escaped again for HTML (its
 * formatting dropped: a cut never falls inside a tag or an entity).
 * malloc'd; NULL when out of memory. */
char *tg_text_fit(const char *text, int html, size_t max_chars);

#endif
