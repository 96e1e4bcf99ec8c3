#!/bin/sh
# Records fixtures/oracle/graph/: BTF encoded by pahole -J from the DWARF of
# six compilation units (fixtures/oracle/graph/cu.c with -DN=1..6, linked
# with ld -r), once compiled by clang-19 and once by gcc. The graph test
# (crates/btf/tests/graph.rs) compares them with btf::graph::compare.
# Needs clang-19, gcc, binutils, pahole (recorded with pahole v1.24, clang
# 19.1.7, gcc 12.2.0, GNU ld 2.40, Debian bookworm headers).
set -eu
cd "$(dirname "$0")/../fixtures/oracle/graph"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in 1 2 3 4 5 6; do
	clang-19 -g -gdwarf-4 -O1 -DN=$n -c cu.c -o "$tmp/clang$n.o"
	gcc -g -O1 -DN=$n -c cu.c -o "$tmp/gcc$n.o"
done
ld -r "$tmp"/clang?.o -o "$tmp/clang.o"
ld -r "$tmp"/gcc?.o -o "$tmp/gcc.o"
pahole -J --btf_gen_floats --btf_encode_detached=clang.btf "$tmp/clang.o"
pahole -J --btf_gen_floats --btf_encode_detached=gcc.btf "$tmp/gcc.o"
# pahole's parallel mode on the same input: recorded to show it is the
# same graph (here even the same bytes).
pahole -J -j --btf_gen_floats --btf_encode_detached=clang-j.btf "$tmp/clang.o"
{
	pahole --version
	clang-19 --version | head -1
	gcc --version | head -1
	ld --version | head -1
} > versions.txt
sha256sum clang.btf clang-j.btf gcc.btf
