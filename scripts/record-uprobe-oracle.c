// SPDX-License-Identifier: GPL-2.0
/* Records where libbpf puts a uprobe: for each "binary function" line on
 * stdin, attach fixtures/bpf/attach/probes.bpf.o's add_entry program with
 * bpf_program__attach_uprobe_opts(func_name = function) and ask the kernel
 * (BPF_TASK_FD_QUERY on the link's perf event fd, found in /proc/self/fd)
 * for the file offset it probes. Prints "binary function 0xOFFSET" (or
 * "binary function error -ERRNO"). Built and run by
 * scripts/record-uprobe-oracle.sh.
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

static int perf_fds(int *out, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	char path[64], target[128];

	while (d && (e = readdir(d)) && n < max) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = 0;
		if (strcmp(target, "anon_inode:[perf_event]") == 0)
			out[n++] = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	struct bpf_program *prog, *p;
	char bin[4096], func[256];

	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s\n", argv[1]);
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, "add_entry");
	(void)p;
	while (scanf("%4095s %255s", bin, func) == 2) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func);
		struct bpf_link *link = bpf_program__attach_uprobe_opts(prog, -1, bin, 0, &opts);
		if (!link) {
			printf("%s %s error %d\n", bin, func, -errno);
			continue;
		}
		int fds[8], n = perf_fds(fds, 8);
		for (int i = 0; i < n; i++) {
			char buf[4096];
			__u32 len = sizeof(buf), prog_id, fd_type;
			__u64 off, addr;
			if (bpf_task_fd_query(getpid(), fds[i], 0, buf, &len, &prog_id,
					      &fd_type, &off, &addr) == 0 &&
			    fd_type == BPF_FD_TYPE_UPROBE)
				printf("%s %s %#llx\n", bin, func, (unsigned long long)off);
		}
		bpf_link__destroy(link);
	}
	return 0;
}
