// SPDX-License-Identifier: GPL-2.0
/* Records libbpf's per-program outcome for one BPF object, for the corpus
 * oracle (scripts/record-corpus-oracle.sh). Built against the system
 * libbpf (libbpf-dev 1.1).
 *
 * usage: record-corpus-oracle OBJ PIN_ROOT OUT_TXT OUT_MAPS
 *
 * OUT_TXT gets, first, one line saying what happened to the object as a
 * whole: "open\t-ERRNO" (bpf_object__open failed: no program lines follow),
 * "whole\tloaded" or "whole\t-ERRNO" (bpf_object__load). Then one line per
 * program, in libbpf's order: "NAME\tSECTION\tloaded" or
 * "NAME\tSECTION\t-ERRNO". When the whole load failed, each program is
 * loaded alone from a fresh open, every other program's autoload off.
 * OUT_MAPS gets, after a whole load that worked, one line per map:
 * name, kernel name, type, key size, value size, max_entries, flags,
 * map_extra, and for a one-entry ARRAY the value at key 0 in hex and
 * what writing it back from user space returns (0, or -EPERM when frozen).
 * libbpf's warnings go to stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct bpf_object *open_obj(const char *path, const char *pin_root, int *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_root);
	struct bpf_object *obj = bpf_object__open_file(path, &opts);

	*err = obj ? 0 : -errno;
	return obj;
}

static void dump_maps(struct bpf_object *obj, FILE *out)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_map__fd(m);

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			fprintf(out, "%s\t?\n", bpf_map__name(m));
			continue;
		}
		fprintf(out, "%s\t%s\t%u\t%u\t%u\t%u\t%#x\t%llu", bpf_map__name(m), info.name,
			info.type, info.key_size, info.value_size, info.max_entries,
			info.map_flags, (unsigned long long)info.map_extra);
		if (info.type == BPF_MAP_TYPE_ARRAY && info.max_entries == 1 &&
		    info.value_size <= 4096) {
			unsigned char buf[4096];
			__u32 key = 0;

			fputc('\t', out);
			if (bpf_map_lookup_elem(fd, &key, buf) == 0) {
				for (__u32 i = 0; i < info.value_size; i++)
					fprintf(out, "%02x", buf[i]);
				/* Writable from user space (0), or frozen (-EPERM)? The
				 * value written is the one read. */
				fprintf(out, "\t%d", bpf_map_update_elem(fd, &key, buf, BPF_ANY) ? -errno : 0);
			} else {
				fprintf(out, "lookup:%d", -errno);
			}
		}
		fputc('\n', out);
	}
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *p;
	FILE *out, *maps;
	int err, n = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: %s OBJ PIN_ROOT OUT_TXT OUT_MAPS\n", argv[0]);
		return 2;
	}
	libbpf_set_print(print_fn);
	out = fopen(argv[3], "w");
	maps = fopen(argv[4], "w");
	if (!out || !maps)
		return 2;

	obj = open_obj(argv[1], argv[2], &err);
	if (!obj) {
		fprintf(out, "open\t%d\n", err);
		return 0;
	}
	err = bpf_object__load(obj);
	if (!err) {
		fprintf(out, "whole\tloaded\n");
		bpf_object__for_each_program(p, obj)
			fprintf(out, "%s\t%s\tloaded\n", bpf_program__name(p),
				bpf_program__section_name(p));
		dump_maps(obj, maps);
		bpf_object__close(obj);
		return 0;
	}
	fprintf(out, "whole\t%d\n", err);
	bpf_object__for_each_program(p, obj)
		n++;
	bpf_object__close(obj);

	for (int i = 0; i < n; i++) {
		struct bpf_program *me = NULL;
		int j = 0;

		obj = open_obj(argv[1], argv[2], &err);
		if (!obj)
			return 1;
		bpf_object__for_each_program(p, obj) {
			if (j++ == i)
				me = p;
			else
				bpf_program__set_autoload(p, false);
		}
		fprintf(stderr, "--- %s alone\n", bpf_program__name(me));
		err = bpf_object__load(obj);
		if (err)
			fprintf(out, "%s\t%s\t%d\n", bpf_program__name(me),
				bpf_program__section_name(me), err);
		else
			fprintf(out, "%s\t%s\tloaded\n", bpf_program__name(me),
				bpf_program__section_name(me));
		bpf_object__close(obj);
	}
	return 0;
}
