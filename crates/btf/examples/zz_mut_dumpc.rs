fn main() {
    let data = std::fs::read("/work/main/fixtures/bpf/core_fields.bpf.o").unwrap();
    let btf_bytes = btf::btf_section(&data).unwrap().into_owned();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for n in 0..3000 {
        let mut m = btf_bytes.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % m.len();
            m[i] = next() as u8;
        }
        let t = std::time::Instant::now();
        let Ok(b) = btf::Btf::parse(&m[..]) else {
            continue;
        };
        let tp = t.elapsed();
        let mut out = Vec::new();
        let r = btf::dump::c::dump_c(&b, &mut out);
        let td = t.elapsed();
        if td.as_millis() > 5 {
            println!(
                "{n}: parse {tp:?} total {td:?} out {} {:?}",
                out.len(),
                r.err()
            );
        }
    }
}
