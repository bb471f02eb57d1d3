/*
 * gosort.c - Go's sort.Slice (Go 1.21 and later), step for step.
 *
 * The docker CLI sorts a service's published ports with sort.Slice on the
 * published port alone.  sort.Slice is not stable: up to 12 elements it is
 * an insertion sort (ties keep their order), beyond that it is a
 * pattern-defeating quicksort whose order of equal elements depends on
 * every swap it makes.  Reproducing the order the engine stores means
 * making the same comparisons and swaps, so this follows the algorithm of
 * Go's sort package (zsortfunc.go) exactly, including its xorshift.
 */
#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "compose_int.h"

struct gs {
	cJSON **v;
	bool (*less)(const cJSON *, const cJSON *);
};

enum hint { HINT_UNKNOWN, HINT_INCREASING, HINT_DECREASING };

static bool
gs_less(const struct gs *d, int i, int j)
{
	return d->less(d->v[i], d->v[j]);
}

static void
gs_swap(struct gs *d, int i, int j)
{
	cJSON *t = d->v[i];

	d->v[i] = d->v[j];
	d->v[j] = t;
}

static int
bits_len(unsigned long x)
{
	int n = 0;

	for (; x != 0; x >>= 1)
		n++;
	return n;
}

static void
insertion_sort(struct gs *d, int a, int b)
{
	for (int i = a + 1; i < b; i++)
		for (int j = i; j > a && gs_less(d, j, j - 1); j--)
			gs_swap(d, j, j - 1);
}

static void
sift_down(struct gs *d, int lo, int hi, int first)
{
	int root = lo, child;

	for (;;) {
		child = 2 * root + 1;
		if (child >= hi)
			return;
		if (child + 1 < hi && gs_less(d, first + child,
		    first + child + 1))
			child++;
		if (!gs_less(d, first + root, first + child))
			return;
		gs_swap(d, first + root, first + child);
		root = child;
	}
}

static void
heap_sort(struct gs *d, int a, int b)
{
	int first = a, hi = b - a;

	for (int i = (hi - 1) / 2; i >= 0; i--)
		sift_down(d, i, hi, first);
	for (int i = hi - 1; i >= 0; i--) {
		gs_swap(d, first, first + i);
		sift_down(d, 0, i, first);
	}
}

/* Elements < pivot, then the pivot at the returned index, then >=. */
static int
partition(struct gs *d, int a, int b, int pivot, bool *already)
{
	int i = a + 1, j = b - 1;

	gs_swap(d, a, pivot);
	while (i <= j && gs_less(d, i, a))
		i++;
	while (i <= j && !gs_less(d, j, a))
		j--;
	if (i > j) {
		gs_swap(d, j, a);
		*already = true;
		return j;
	}
	gs_swap(d, i++, j--);
	for (;;) {
		while (i <= j && gs_less(d, i, a))
			i++;
		while (i <= j && !gs_less(d, j, a))
			j--;
		if (i > j)
			break;
		gs_swap(d, i++, j--);
	}
	gs_swap(d, j, a);
	*already = false;
	return j;
}

/* Elements equal to the pivot, then greater ones (none is smaller). */
static int
partition_equal(struct gs *d, int a, int b, int pivot)
{
	int i = a + 1, j = b - 1;

	gs_swap(d, a, pivot);
	for (;;) {
		while (i <= j && !gs_less(d, a, i))
			i++;
		while (i <= j && gs_less(d, a, j))
			j--;
		if (i > j)
			break;
		gs_swap(d, i++, j--);
	}
	return i;
}

/* Sorts a nearly sorted range; true when it ends sorted. */
static bool
partial_insertion_sort(struct gs *d, int a, int b)
{
	int i = a + 1;

	for (int step = 0; step < 5; step++) {
		while (i < b && !gs_less(d, i, i - 1))
			i++;
		if (i == b)
			return true;
		if (b - a < 50)
			return false;
		gs_swap(d, i, i - 1);
		if (i - a >= 2)
			for (int j = i - 1; j >= 1 && gs_less(d, j, j - 1); j--)
				gs_swap(d, j, j - 1);
		if (b - i >= 2)
			for (int j = i + 1; j < b && gs_less(d, j, j - 1); j++)
				gs_swap(d, j, j - 1);
	}
	return false;
}

static void
break_patterns(struct gs *d, int a, int b)
{
	int length = b - a;
	uint64_t r = (uint64_t)length;
	unsigned long modulus = 1ul << bits_len((unsigned long)length);

	if (length < 8)
		return;
	for (int idx = a + (length / 4) * 2 - 1;
	    idx <= a + (length / 4) * 2 + 1; idx++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		int other = (int)((unsigned long)r & (modulus - 1));
		if (other >= length)
			other -= length;
		gs_swap(d, idx, a + other);
	}
}

static int
median(struct gs *d, int a, int b, int c, int *swaps)
{
	int t;

	if (gs_less(d, b, a)) {
		(*swaps)++;
		t = a, a = b, b = t;
	}
	if (gs_less(d, c, b)) {
		(*swaps)++;
		t = b, b = c, c = t;
	}
	if (gs_less(d, b, a)) {
		(*swaps)++;
		t = a, a = b, b = t;
	}
	return b;
}

static int
choose_pivot(struct gs *d, int a, int b, enum hint *hint)
{
	int l = b - a, swaps = 0;
	int i = a + l / 4 * 1, j = a + l / 4 * 2, k = a + l / 4 * 3;

	if (l >= 8) {
		if (l >= 50) {		/* Tukey's ninther */
			i = median(d, i - 1, i, i + 1, &swaps);
			j = median(d, j - 1, j, j + 1, &swaps);
			k = median(d, k - 1, k, k + 1, &swaps);
		}
		j = median(d, i, j, k, &swaps);
	}
	*hint = swaps == 0 ? HINT_INCREASING : swaps == 12 ? HINT_DECREASING :
	    HINT_UNKNOWN;
	return j;
}

static void
reverse_range(struct gs *d, int a, int b)
{
	for (int i = a, j = b - 1; i < j; i++, j--)
		gs_swap(d, i, j);
}

static void
pdqsort(struct gs *d, int a, int b, int limit)
{
	bool balanced = true, partitioned = true;
	enum hint hint;
	int pivot, mid;

	for (;;) {
		int length = b - a;

		if (length <= 12) {
			insertion_sort(d, a, b);
			return;
		}
		if (limit == 0) {
			heap_sort(d, a, b);
			return;
		}
		if (!balanced) {
			break_patterns(d, a, b);
			limit--;
		}
		pivot = choose_pivot(d, a, b, &hint);
		if (hint == HINT_DECREASING) {
			reverse_range(d, a, b);
			pivot = (b - 1) - (pivot - a);
			hint = HINT_INCREASING;
		}
		if (balanced && partitioned && hint == HINT_INCREASING &&
		    partial_insertion_sort(d, a, b))
			return;
		if (a > 0 && !gs_less(d, a - 1, pivot)) {
			a = partition_equal(d, a, b, pivot);
			continue;
		}
		mid = partition(d, a, b, pivot, &partitioned);
		if (mid - a < b - mid) {
			balanced = mid - a >= length / 8;
			pdqsort(d, a, mid, limit);
			a = mid + 1;
		} else {
			balanced = b - mid >= length / 8;
			pdqsort(d, mid + 1, b, limit);
			b = mid;
		}
	}
}

void
conv_go_sort(cJSON *a, bool (*less)(const cJSON *, const cJSON *))
{
	int n = cJSON_GetArraySize(a);
	struct gs d = { NULL, less };

	if (n < 2)
		return;
	d.v = xcalloc((size_t)n, sizeof(*d.v));
	for (int i = 0; i < n; i++)
		d.v[i] = cJSON_DetachItemFromArray(a, 0);
	pdqsort(&d, 0, n, bits_len((unsigned long)n));
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, d.v[i]);
	free(d.v);
}
