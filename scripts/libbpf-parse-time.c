/* libbpf parse time of a BTF file (min of N): btf__new from memory and
 * btf__parse from the path. The comparator for crates/btf/examples/parse_time.rs.
 * Build: cc -O2 libbpf-parse-time.c -lbpf; usage: a.out FILE N */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <bpf/btf.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
int main(int argc,char**argv){FILE*f=fopen(argv[1],"rb");fseek(f,0,SEEK_END);long n=ftell(f);fseek(f,0,SEEK_SET);char*b=malloc(n);fread(b,1,n,f);
double best=1e9,bestp=1e9;for(int i=0;i<atoi(argv[2]);i++){double t=now();struct btf*x=btf__new(b,n);double d=now()-t;if(d<best)best=d;btf__free(x);
t=now();x=btf__parse(argv[1],NULL);d=now()-t;if(d<bestp)bestp=d;btf__free(x);}
printf("libbpf min: btf__new %.3f ms, btf__parse(path) %.3f ms\n",best,bestp);}
