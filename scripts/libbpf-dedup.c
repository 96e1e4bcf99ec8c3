/* The oracle for `btfx dedup`: appends BTF inputs as libbpf 1.1 does
 * (btf__new_empty + btf__add_btf for each), or opens one split BTF over a
 * base (btf__parse_split), runs btf__dedup and writes btf__raw_data.
 *
 * Build: cc -O2 libbpf-dedup.c -lbpf -o libbpf-dedup
 * Usage: libbpf-dedup [-B BASE] [-r ROUNDS] -o OUT INPUT...
 *   -r ROUNDS: also time btf__dedup alone (the inputs re-appended before
 *   each round, outside the timing) and print one line per round:
 *   "dedup_ns N"; peak RSS is printed at exit as "maxrss_kb N".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <bpf/btf.h>

static struct btf *base;
static struct btf *srcs[64];
static int nsrc;
static const char *split_path;

static struct btf *assemble(void)
{
	struct btf *btf;
	int i;

	if (base) {
		/* a fresh copy of the split input over the base
		 * (btf__new_split is not exported by libbpf 1.1's .so) */
		return btf__parse_split(split_path, base);
	}
	btf = btf__new_empty();
	if (!btf)
		return NULL;
	for (i = 0; i < nsrc; i++) {
		int err = btf__add_btf(btf, srcs[i]);

		if (err < 0) {
			fprintf(stderr, "btf__add_btf #%d: %d\n", i, err);
			btf__free(btf);
			return NULL;
		}
	}
	return btf;
}

int main(int argc, char **argv)
{
	const char *out = NULL, *base_path = NULL;
	int rounds = 0, opt, i, err;
	struct btf *btf;
	const void *raw;
	__u32 sz;
	FILE *f;

	while ((opt = getopt(argc, argv, "B:o:r:")) != -1) {
		switch (opt) {
		case 'B': base_path = optarg; break;
		case 'o': out = optarg; break;
		case 'r': rounds = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!out || optind >= argc || argc - optind > 64)
		goto usage;
	if (base_path) {
		if (argc - optind != 1) {
			fprintf(stderr, "with -B exactly one (split) input\n");
			return 2;
		}
		split_path = argv[optind];
		base = btf__parse(base_path, NULL);
		if (!base) {
			fprintf(stderr, "%s: %d\n", base_path, -errno);
			return 2;
		}
	}
	for (i = optind; i < argc; i++) {
		srcs[nsrc] = base ? btf__parse_split(argv[i], base) : btf__parse(argv[i], NULL);
		if (!srcs[nsrc]) {
			fprintf(stderr, "%s: %d\n", argv[i], -errno);
			return 2;
		}
		nsrc++;
	}
	for (i = 0; i < rounds; i++) {
		struct timespec a, b;

		btf = assemble();
		if (!btf)
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &a);
		err = btf__dedup(btf, NULL);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (err) {
			fprintf(stderr, "btf__dedup: %d\n", err);
			return 1;
		}
		printf("dedup_ns %lld\n",
		       (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
		btf__free(btf);
	}
	btf = assemble();
	if (!btf)
		return 1;
	err = btf__dedup(btf, NULL);
	if (err) {
		fprintf(stderr, "btf__dedup: %d\n", err);
		return 1;
	}
	raw = btf__raw_data(btf, &sz);
	f = fopen(out, "wb");
	if (!f || fwrite(raw, 1, sz, f) != sz || fclose(f)) {
		fprintf(stderr, "%s: write failed\n", out);
		return 1;
	}
	if (rounds) {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("maxrss_kb %ld\n", ru.ru_maxrss);
	}
	return 0;
usage:
	fprintf(stderr, "usage: %s [-B BASE] [-r ROUNDS] -o OUT INPUT...\n", argv[0]);
	return 2;
}
