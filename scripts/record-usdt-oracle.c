// SPDX-License-Identifier: GPL-2.0
/* Records the USDT argument specs libbpf writes: attaches
 * fixtures/bpf/attach/probes.bpf.o's tick and sema programs to
 * probe_target.user's btfx:tick and btfx:sema with bpf_program__attach_usdt,
 * then prints each used __bpf_usdt_specs slot as "<slot> <hex bytes>", in
 * attach order (tick first). Run by scripts/record-usdt-oracle.sh.
 */
#include <stdio.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

int main(int argc, char **argv)
{
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	const char *bin = argv[2];
	const char *names[] = { "tick", "sema" };
	struct bpf_link *links[2];
	unsigned char v[4096];

	if (!obj || bpf_object__load(obj))
		return 1;
	for (int i = 0; i < 2; i++) {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, names[i]);
		links[i] = bpf_program__attach_usdt(p, -1, bin, "btfx", names[i], NULL);
		if (!links[i]) {
			fprintf(stderr, "attach %s failed\n", names[i]);
			return 1;
		}
	}
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "__bpf_usdt_specs");
	int fd = bpf_map__fd(m);
	__u32 vsz = bpf_map__value_size(m);
	for (int k = 0; k < 2; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			return 1;
		printf("%d ", k);
		for (__u32 i = 0; i < vsz; i++)
			printf("%02x", v[i]);
		printf("\n");
	}
	return 0;
}
