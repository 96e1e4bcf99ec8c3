/* Prints libbpf's btf__resolve_size and btf__align_of for every STRUCT,
 * UNION, TYPEDEF and ARRAY of a BTF file: the oracle for btf's resolve_size
 * and align_of (fixtures/oracle/layout/). Build: cc libbpf-layout.c -lbpf
 * Usage: libbpf-layout FILE */
#include <stdio.h>
#include <bpf/btf.h>

int main(int argc, char **argv)
{
	struct btf *btf = argc > 1 ? btf__parse(argv[1], NULL) : NULL;
	if (!btf) {
		fprintf(stderr, "usage: %s BTF-FILE\n", argv[0]);
		return 1;
	}
	for (unsigned i = 1; i < btf__type_cnt(btf); i++) {
		const struct btf_type *t = btf__type_by_id(btf, i);
		if (!btf_is_composite(t) && !btf_is_typedef(t) && !btf_is_array(t))
			continue;
		printf("%u %lld %d\n", i, (long long)btf__resolve_size(btf, i), btf__align_of(btf, i));
	}
	return 0;
}
