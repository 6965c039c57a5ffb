/*
 * layouts: a library whose exports reach the awkward corners of C layout,
 * so the abi tests can check offsets, bit-fields, alignment and canonical
 * type names against what the compiler really did. Built several ways
 * (DWARF 2, 4 and 5; -O0 and -O2); every build must give the same ABI.
 */
#include <stdarg.h>
#include <stddef.h>

struct bits {
	unsigned a : 3;
	unsigned b : 5;
	int c : 10;
	char d;
};

struct __attribute__((packed)) packed {
	char c;
	int i;
	long l;
};

struct aligned16 {
	int x;
} __attribute__((aligned(16)));

struct withanon {
	int kind;
	union {
		int i;
		double d;
	};
	struct {
		char tag;
	} inner;
};

typedef struct {
	int q;
	int r;
} divlike_t;

struct arrays {
	int m[2][3];
	char name[16];
};

struct callbacks {
	int (*cmp)(const void *, const void *);
	void (*log)(const char *, ...);
};

/* Self-referential: the walk must terminate. */
struct node {
	struct node *next;
	struct opaque *payload; /* declared, never defined: no layout */
};

enum color { RED, GREEN };

/* Typedef chain down to a base type: size_t-like names must vanish. */
typedef unsigned long my_size;
typedef my_size my_size2;

int layouts_bits(struct bits *b)
{
	return b->a + b->b + b->c + b->d;
}

long layouts_packed(struct packed *p)
{
	return p->c + p->i + p->l;
}

int layouts_aligned(struct aligned16 *a)
{
	return a->x;
}

int layouts_withanon(const struct withanon *w)
{
	return w->kind + w->i + w->inner.tag;
}

divlike_t layouts_div(int a, int b)
{
	divlike_t d = {a / b, a % b};
	return d;
}

int layouts_arrays(struct arrays *a)
{
	return a->m[1][2] + a->name[0];
}

int layouts_callbacks(struct callbacks *c, const void *x, const void *y)
{
	return c->cmp(x, y);
}

size_t layouts_list_len(const struct node *n)
{
	size_t len = 0;
	for (; n; n = n->next)
		len++;
	return len;
}

int layouts_color(enum color c)
{
	return c == GREEN;
}

my_size2 layouts_size(my_size2 n)
{
	return n * 2;
}

int layouts_sum(int count, ...)
{
	va_list ap;
	int sum = 0;
	va_start(ap, count);
	while (count-- > 0)
		sum += va_arg(ap, int);
	va_end(ap);
	return sum;
}

/* Called from another export, so -O2 inlines it there and keeps an
 * out-of-line copy that DWARF describes through DW_AT_abstract_origin. */
int layouts_twice(int x)
{
	return x * 2;
}

int layouts_quad(int x)
{
	return layouts_twice(layouts_twice(x));
}

struct callbacks layouts_default_callbacks;

/* Complex numbers align to their component, not to their size. */
struct cplx {
	char c;
	_Complex double z;
};

double layouts_cplx(struct cplx *p)
{
	return __real__ p->z;
}
