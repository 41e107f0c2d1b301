#ifndef CW_LUA_BOT_H
#define CW_LUA_BOT_H
/* The parts of the bot module, shared by them only: mod_bot.c (the module:
 * registrations, keyboards, sending), bot_ctx.c (ctx's methods) and
 * bot_dispatch.c (routing an update to its handler, and its end). */

#include "lua/internal.h"

struct tg_bot;

#define LH_BOT_STATE_SCOPE "telegram.state"    /* store scope of the chats' ctx.state */
#define LH_BOT_TRAMPOLINE "cw.bot.trampoline"  /* registry: runs a handler (mod_bot.c) */
#define LH_BOT_CTX_MT "cw.bot.ctx"             /* registry: ctx's metatable */

/* mod_bot.c */
/* The bot; raises (naming usage) when Telegram is off. */
struct tg_bot *lh_bot_of(lua_State *L, const char *usage);
struct lh_reg *lh_bot_find_reg(struct lh_gen *g, enum lh_reg_kind kind, const char *name);
/* One of the bot's operators (config admins). */
int lh_bot_is_operator(struct app *a, int64_t user);
char *lh_bot_encode(lua_State *L, int idx, size_t max);
/* A queueing's outcome (tg_sched_send's rc) as a binding's results. */
int lh_bot_queued(lua_State *L, int rc, int64_t chat);
int lh_bot_queue_text(lua_State *L, const char *usage, const char *method, int64_t chat,
                      int opts);
/* A message's parameters (JSON) from the options at o (photo: no link
 * preview option).  May raise. */
char *lh_bot_params(lua_State *L, int o, const char *usage, int photo);
/* When the update of the ctx at 1 arrived (hist_clock), or 0. */
double lh_bot_arrival(lua_State *L, struct tg_bot *b, int64_t chat);

/* bot_photo.c */
/* Queues the photo at idx for chat (the caption at idx + 1, the options
 * at idx + 2): true | nil, err. */
int lh_bot_queue_photo(lua_State *L, const char *usage, int64_t chat, int idx);
int lh_bot_send_photo(lua_State *L);
int lh_bot_photo_id(lua_State *L);

/* bot_ctx.c */
extern const luaL_Reg lh_bot_ctx_methods[];
void lh_bot_answer(lua_State *L, struct tg_bot *b, const char *id, const char *text, int alert);

/* bot_dispatch.c: lh_bot_dispatch (host.h) */

#endif
