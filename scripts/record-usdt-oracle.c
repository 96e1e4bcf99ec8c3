// SPDX-License-Identifier: GPL-2.0
/* Records what libbpf does for USDT probes (run by
 * scripts/record-usdt-oracle.sh), with fixtures/bpf/attach/probes.bpf.o's
 * usdt programs:
 *
 *   fixture BIN     attaches tick and sema to BIN's btfx:tick and btfx:sema
 *                   with bpf_program__attach_usdt and prints the used
 *                   __bpf_usdt_specs slots, "<slot> <hex>", tick first;
 *   probes          for each "BIN PROVIDER NAME" line on stdin: attaches,
 *                   prints "probe BIN PROVIDER NAME", then "offset 0x.." for
 *                   each uprobe libbpf made (read back from the kernel with
 *                   BPF_TASK_FD_QUERY) and "spec <hex>" for each slot it
 *                   wrote; detaches and clears the slots.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

static void hex(const unsigned char *v, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		printf("%02x", v[i]);
	printf("\n");
}

static void offsets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char path[64], target[128];

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		if (strcmp(target, "anon_inode:[perf_event]"))
			continue;
		char buf[4096];
		__u32 blen = sizeof(buf), prog_id, fd_type;
		__u64 off, addr;
		if (bpf_task_fd_query(getpid(), atoi(e->d_name), 0, buf, &blen, &prog_id,
				      &fd_type, &off, &addr) == 0 &&
		    fd_type == BPF_FD_TYPE_UPROBE)
			printf("offset %#llx\n", (unsigned long long)off);
	}
	if (d)
		closedir(d);
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	unsigned char v[4096], zero[4096] = { 0 };

	if (!obj || bpf_object__load(obj))
		return 1;
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "__bpf_usdt_specs");
	int fd = bpf_map__fd(m);
	__u32 vsz = bpf_map__value_size(m), max = bpf_map__max_entries(m);
	struct bpf_program *tick = bpf_object__find_program_by_name(obj, "tick");

	if (!strcmp(argv[2], "fixture")) {
		const char *names[] = { "tick", "sema" };
		for (int i = 0; i < 2; i++) {
			struct bpf_program *p = bpf_object__find_program_by_name(obj, names[i]);
			if (!bpf_program__attach_usdt(p, -1, argv[3], "btfx", names[i], NULL))
				return 1;
		}
		for (int k = 0; k < 2; k++) {
			if (bpf_map_lookup_elem(fd, &k, v))
				return 1;
			printf("%d ", k);
			hex(v, vsz);
		}
		return 0;
	}
	char bin[4096], prov[256], name[256];
	while (scanf("%4095s %255s %255s", bin, prov, name) == 3) {
		printf("probe %s %s %s\n", bin, prov, name);
		struct bpf_link *l = bpf_program__attach_usdt(tick, -1, bin, prov, name, NULL);
		if (!l) {
			printf("error %d\n", -errno);
			continue;
		}
		offsets();
		for (__u32 k = 0; k < max; k++) {
			if (bpf_map_lookup_elem(fd, &k, v) || !memcmp(v, zero, vsz))
				continue;
			printf("spec ");
			hex(v, vsz);
			bpf_map_update_elem(fd, &k, zero, 0);
		}
		bpf_link__destroy(l);
	}
	return 0;
}
