// SPDX-License-Identifier: GPL-2.0
/* For each section name on stdin (one a line), prints what libbpf's
 * libbpf_prog_type_by_name() makes of it: "NAME\tPROG_TYPE\tATTACH_TYPE",
 * or "NAME\t-ERRNO" when no SEC_DEF matches. Part of
 * scripts/record-corpus-oracle.sh (the corpus oracle's sec-names.tsv). */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

static int quiet(enum libbpf_print_level l, const char *f, va_list ap)
{
	return 0;
}

int main(void)
{
	char line[512];

	libbpf_set_print(quiet);
	while (fgets(line, sizeof(line), stdin)) {
		enum bpf_prog_type t;
		enum bpf_attach_type a;
		int err;

		line[strcspn(line, "\n")] = 0;
		err = libbpf_prog_type_by_name(line, &t, &a);
		if (err)
			printf("%s\t%d\n", line, err);
		else
			printf("%s\t%d\t%d\n", line, t, a);
	}
	return 0;
}
