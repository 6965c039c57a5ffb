/*
 * libabitest: the library the abi package's tests compile at test time.
 *
 * Built once without any V2_* macro it is "v1". Each V2_* macro makes one
 * v2 that differs from v1 by exactly one ABI-relevant change, so a test that
 * compares v1 with a v2 checks one rule of the Redox ABI policy, and the same
 * pair can be handed to abidiff for a second opinion.
 *
 * The SONAME bump and the symbol-version moves are not in this file: they are
 * link options (-Wl,-soname, --version-script) chosen by the test.
 */

/* Passed by pointer: grows by one member in V2_GROWN. */
struct buf {
	char *data;
	unsigned long len;
#ifdef V2_GROWN
	int flags;
#endif
};

/* Same size in both versions; V2_REORDERED swaps the members, which moves
 * both offsets. */
struct rec {
#ifdef V2_REORDERED
	long value;
	int id;
#else
	int id;
	long value;
#endif
};

/* Reached only through a typedef chain, so the tests see typedefs resolve. */
struct point {
	int x;
	int y;
};
typedef struct point point_t;
typedef point_t pt_alias;

/* An exported object whose type is a struct. */
struct rec abitest_default_rec = {1, 2};

int abitest_counter;

int abitest_add(int a, int b)
{
	return a + b;
}

#ifndef V2_REMOVED
int abitest_remove_me(int a)
{
	return -a;
}
#endif

#ifdef V2_ADDED
int abitest_added(int a)
{
	return a * 2;
}
#endif

long abitest_point_norm(const pt_alias *p)
{
	return (long)p->x * p->x + (long)p->y * p->y;
}

int abitest_rec_get(struct rec *r)
{
	return r->id + (int)r->value;
}

void abitest_buf_fill(struct buf *b, int c)
{
	for (unsigned long i = 0; i < b->len; i++)
		b->data[i] = (char)c;
}

#ifdef V2_PARAM
long abitest_scale(long factor)
#else
long abitest_scale(int factor)
#endif
{
	return (long)factor * 3;
}

/* Redox-style versioned exports: redox_open_v2 replaces redox_open_v1.
 * V2_VERSIONED_KEEP adds v2 and keeps v1; V2_VERSIONED_RETIRE drops v1. */
#ifndef V2_VERSIONED_RETIRE
int redox_open_v1(const char *path, int flags)
{
	return path[0] + flags;
}
#endif

#if defined(V2_VERSIONED_KEEP) || defined(V2_VERSIONED_RETIRE)
int redox_open_v2(const char *path, int flags, int mode)
{
	return path[0] + flags + mode;
}
#endif

/* Internal helper: hidden, so never part of the ABI. */
__attribute__((visibility("hidden"))) int abitest_internal(int a)
{
	return a + 1;
}
