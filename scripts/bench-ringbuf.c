// SPDX-License-Identifier: MIT OR Apache-2.0
/* libbpf's side of scripts/bench-ringbuf.sh: the same producer as
 * crates/loader/examples/ringbuf_bench.rs (testrun.bpf.o's `produce`,
 * BPF_PROG_TEST_RUN with repeat fills the 4 MiB ring), drained by
 * ring_buffer__consume with a callback that sums each record's first word.
 * Usage: bench-ringbuf OBJ [ROUNDS] [REPEAT]
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long sum;

static int on_record(void *ctx, void *data, size_t len)
{
	unsigned long long w;

	memcpy(&w, data, sizeof(w));
	sum += w;
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 10;
	int repeat = argc > 3 ? atoi(argv[3]) : 2000;
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	struct bpf_program *p;
	double rates[1000];
	char pkt[64] = {0};

	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "load failed\n");
		return 1;
	}
	p = bpf_object__find_program_by_name(obj, "produce");
	int map_fd = bpf_object__find_map_fd_by_name(obj, "bench");
	struct ring_buffer *rb = ring_buffer__new(map_fd, on_record, NULL, NULL);
	if (!p || !rb) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	if (rounds > 1000)
		rounds = 1000;
	for (int i = 0; i < rounds; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
			    .data_size_in = sizeof(pkt), .repeat = repeat);
		struct timespec a, b;

		if (bpf_prog_test_run_opts(bpf_program__fd(p), &o)) {
			fprintf(stderr, "test run failed\n");
			return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &a);
		int n = ring_buffer__consume(rb);
		clock_gettime(CLOCK_MONOTONIC, &b);
		double ns = (b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec);
		rates[i] = n / ns * 1e9;
		printf("libbpf records=%d ns=%.0f rate=%.0f\n", n, ns, rates[i]);
	}
	qsort(rates, rounds, sizeof(double), cmp);
	printf("libbpf median_rate=%.0f (sum %llu)\n", rates[rounds / 2], sum);
	ring_buffer__free(rb);
	bpf_object__close(obj);
	return 0;
}
