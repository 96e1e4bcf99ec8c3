/* libbpf parse time of a BTF file (min and median of N runs): btf__new from
 * memory and btf__parse from the path. The comparator for
 * crates/btf/examples/parse_time.rs (same statistics, same file).
 * Build: cc -O2 libbpf-parse-time.c -lbpf; usage: a.out FILE N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/btf.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	FILE *f = fopen(argv[1], "rb");
	if (!f)
		return 1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(n);
	if (fread(b, 1, n, f) != (size_t)n)
		return 1;
	int runs = atoi(argv[2]);
	if (runs < 1)
		runs = 1;
	double *mem = calloc(runs, sizeof(double)), *path = calloc(runs, sizeof(double));
	/* Two separate loops: interleaving them makes malloc hand fresh pages
	 * to btf__new and inflates its median. */
	for (int i = 0; i < runs; i++) {
		double t = now();
		struct btf *x = btf__new(b, n);
		mem[i] = now() - t;
		btf__free(x);
	}
	for (int i = 0; i < runs; i++) {
		double t = now();
		struct btf *x = btf__parse(argv[1], NULL);
		path[i] = now() - t;
		btf__free(x);
	}
	qsort(mem, runs, sizeof(double), cmp);
	qsort(path, runs, sizeof(double), cmp);
	printf("libbpf %d runs: btf__new min %.3f ms median %.3f ms, btf__parse(path) min %.3f ms median %.3f ms\n",
	       runs, mem[0], mem[runs / 2], path[0], path[runs / 2]);
	return 0;
}
