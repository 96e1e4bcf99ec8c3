// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * record-core-log: print libbpf's complete log (every level, DEBUG included)
 * while opening and loading a BPF object, optionally relocating CO-RE against
 * a custom target BTF instead of the running kernel's.
 *
 *   cc -O2 -Wall -o record-core-log scripts/record-core-log.c -lbpf -lelf -lz
 *
 *   record-core-log [--btf TARGET.btf] [--only PROG] OBJ   load, log to stderr
 *   record-core-log --list OBJ                             list programs
 *
 * The libbpf log goes to stderr exactly as libbpf formats it ("libbpf: ..."
 * lines, and multi-line verifier logs). CO-RE relocation happens inside
 * bpf_object__load() before any program reaches the kernel, so the CO-RE part
 * of the log is complete even when the kernel then rejects a program (which is
 * expected when TARGET.btf is not the running kernel's BTF).
 *
 * --only PROG disables autoload of every other program (libbpf then neither
 * relocates nor loads them); the outcome is printed to stdout as
 * "PROG<TAB>SECTION<TAB>loaded|rejected<TAB>ERRNO".
 * Without --only the object-wide outcome is printed to stdout as
 * "load: ok" or "load: error ERRNO".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

static int print_all(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--btf TARGET.btf] [--only PROG | --list] OBJ\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *btf_path = NULL, *only = NULL, *path = NULL;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int list = 0, err, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--btf") && i + 1 < argc)
			btf_path = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = 1;
		else if (argv[i][0] == '-' || path)
			usage(argv[0]);
		else
			path = argv[i];
	}
	if (!path)
		usage(argv[0]);

	setvbuf(stderr, NULL, _IOLBF, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!list)
		libbpf_set_print(print_all);

	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = btf_path);
	obj = bpf_object__open_file(path, &opts);
	err = libbpf_get_error(obj);
	if (err) {
		printf("open: error %d\n", err);
		return 1;
	}

	if (list) {
		bpf_object__for_each_program(prog, obj)
			printf("%s\t%s\n", bpf_program__name(prog), bpf_program__section_name(prog));
		bpf_object__close(obj);
		return 0;
	}

	if (only) {
		int found = 0;

		bpf_object__for_each_program(prog, obj) {
			int me = !strcmp(bpf_program__name(prog), only);

			found |= me;
			bpf_program__set_autoload(prog, me);
		}
		if (!found) {
			printf("%s\t?\tmissing\n", only);
			bpf_object__close(obj);
			return 1;
		}
	}

	err = bpf_object__load(obj);
	if (only) {
		prog = bpf_object__find_program_by_name(obj, only);
		printf("%s\t%s\t%s\t%d\n", only, bpf_program__section_name(prog),
		       err ? "rejected" : "loaded", err);
	} else if (err) {
		printf("load: error %d\n", err);
	} else {
		printf("load: ok\n");
	}
	bpf_object__close(obj);
	return err ? 1 : 0;
}
