//! The generated vmlinux.h is usable: btfx's header for the x86_64-6.18
//! fixture compiles with a small CO-RE program (`clang -target bpf`), and
//! the object carries CO-RE relocations for the fields it reads. Skips, with
//! a message, when no clang is installed.

use std::path::PathBuf;
use std::process::Command;

use btfx_tests::fixtures;

const PROG: &str = r#"#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, pid_t);
	__type(value, u64);
} switches SEC(".maps");

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	pid_t pid = next->pid;              /* CO-RE through the pragma */
	u64 start = BPF_CORE_READ(prev, start_time);
	const char *comm = next->comm;
	struct mm_struct *mm = BPF_CORE_READ(next, mm);

	if (mm && comm[0] != 0 && bpf_core_field_exists(next->se.sum_exec_runtime))
		bpf_map_update_elem(&switches, &pid, &start, BPF_ANY);
	return 0;
}
"#;

fn clang() -> Option<String> {
    ["clang-19", "clang"].into_iter().find_map(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| c.to_string())
    })
}

#[test]
fn vmlinux_h_compiles_with_a_core_program() {
    let Some(cc) = clang() else {
        eprintln!("skipped: neither clang-19 nor clang is installed");
        return;
    };
    let data = std::fs::read(fixtures().join("kernels/x86_64-6.18.btf")).unwrap();
    let btf = btf::Btf::parse(&data[..]).unwrap();
    let mut header = Vec::new();
    btf::dump::c::dump_c(&btf, &mut header).unwrap();

    let dir: PathBuf = std::env::temp_dir().join(format!("btfx-vmlinux-h-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vmlinux.h"), &header).unwrap();
    std::fs::write(dir.join("prog.bpf.c"), PROG).unwrap();
    let obj = dir.join("prog.bpf.o");
    let out = Command::new(&cc)
        .args([
            "-target",
            "bpf",
            "-O2",
            "-g",
            "-D__TARGET_ARCH_x86",
            "-Werror",
            "-c",
        ])
        .arg("-I")
        .arg(&dir)
        .arg(dir.join("prog.bpf.c"))
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cc} failed on btfx's vmlinux.h:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let elf = std::fs::read(&obj).unwrap();
    let ext = btf::elf_section(&elf, ".BTF.ext")
        .unwrap()
        .expect("no .BTF.ext in the object");
    // .BTF.ext header (little-endian, bpfel): hdr_len at 4, core_relo_len at 28.
    let word = |at: usize| u32::from_le_bytes(ext[at..at + 4].try_into().unwrap());
    assert!(word(4) >= 32, "no CO-RE part in the .BTF.ext header");
    assert!(word(28) > 0, "no CO-RE relocation records");
    // The program's BTF knows task_struct from our header.
    let prog_btf = btf::Btf::from_elf(&elf).unwrap();
    assert!(prog_btf
        .find_by_name_kind("task_struct", btf::Kind::Struct)
        .is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
