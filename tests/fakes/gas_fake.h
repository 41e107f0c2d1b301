/* The stand-in gas source's insides, shared by its files: fake_gas.c
 * (state, chain, faults, control, main; see it for what the fake does),
 * gas_etherscan.c and gas_rpc.c.  Test code only: nothing here is the bot's. */
#ifndef GAS_FAKE_H
#define GAS_FAKE_H

#include <cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <uv.h>

#include "fakehttp.h"
#include "fakeutil.h"

#define MAX_HEAD 16384
#define MAX_BODY (5 << 20)
#define RING 1024           /* blocks kept: geth's eth_feeHistory maximum */
#define MAX_KEYS 16
#define MAX_STEPS 256
#define MAX_BATCH 1000
#define WINDOW 256          /* call times kept to find the busiest second */
#define GWEI ((int64_t)1000000000)

enum src { SRC_ES, SRC_RPC, NSRC };
extern const char *const src_name[NSRC];

enum fault_kind { F_NONE, F_STATUS, F_HANG, F_GARBAGE, F_ERROR, F_DELAY };

struct lanes {
    int64_t safe, propose, fast, base;   /* wei */
};

struct block {
    int64_t number;
    struct lanes v;
};

struct fault {
    enum fault_kind kind;
    int status;
    long count;           /* calls left; -1: until cleared */
    long delay_ms;
    char text[256];
};

struct key {
    char name[128];
    int64_t last[3];      /* the last 3 accepted calls, ms */
    int64_t day;          /* UTC day of day_calls */
    long day_calls;
};

struct src_stats {
    long calls, ok, errors, faults, invalid_key, throttled, rate_limited, daily_limited,
        bad_chain, v1, bad_module, forced, requests, max_per_s;
    long by_method[5];    /* eth_feeHistory eth_gasPrice eth_blockNumber eth_chainId other */
    int64_t times[WINDOW];
    size_t ntimes;
};

struct gas_state {
    struct key keys[MAX_KEYS];
    int nkeys, open_keys;   /* open_keys: no --key, every key valid */
    long chain, block_ms, daily_limit;
    /* the chain */
    struct block ring[RING];
    int64_t latest;       /* number of the newest block; ring[latest % RING] */
    int64_t next_block_at;
    struct lanes now;
    /* a script */
    struct lanes steps[MAX_STEPS];
    int nsteps, step, by_second, fresh, script_blocks;
    int64_t script_start, every_ms;
    /* Etherscan's invalid-key throttle (all callers are one IP here) */
    int64_t invalid_at[6];
    int64_t throttled_until;
    struct fault fault[NSRC];
    struct src_stats st[NSRC];
};
extern struct gas_state S;


/* fake_gas.c */
int64_t now_ms(void);
const struct block *block_at(int64_t n);
double block_used(int64_t n);
void series_called(void);
void gwei_str(char *out, size_t size, int64_t wei);
void stats_call(enum src s);
void respond_json(struct fakehttp_conn *c, int status, const char *body);
struct fault fault_take(enum src s);
int fault_answer(struct fakehttp_conn *c, const struct fault *f);
void buf_json_str(struct buf *b, const char *s);

/* gas_etherscan.c */
struct key *key_add(const char *name);
void es_answer(struct fakehttp_conn *c, const struct fakehttp_req *q, int v1);

/* gas_rpc.c */
void rpc_answer(struct fakehttp_conn *c, const struct fakehttp_req *q);

#endif
