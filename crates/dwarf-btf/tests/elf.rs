//! The ELF layer (src/elf.rs) against references it did not compute:
//!
//! - every DW_AT_name, DW_AT_producer, DW_AT_low_pc and DW_AT_high_pc that
//!   gimli reads from the sections `ElfInput` returns equals what
//!   llvm-dwarfdump-19 printed for the same object (it decompresses and
//!   applies relocations itself), for gcc and clang-19 objects of eight
//!   machines, both byte orders, DWARF 4 and 5, zlib, zstd and `.zdebug`
//!   (fixtures/dwarf/elf/*.ref, scripts/build-dwarf-elf-fixtures.sh);
//! - section headers and symbols equal readelf's (*.tables);
//! - damaged files give errors naming what is wrong;
//! - the Debian kernel debug package, where present (maintainer check:
//!   scripts/check-dwarf-elf-debian.sh records the reference summaries).

use std::path::{Path, PathBuf};

use dwarf_btf::elf::ElfInput;
use dwarf_btf::Error;
use gimli::{constants, EndianSlice, RunTimeEndian};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/dwarf/elf")
}

fn read(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A string as llvm's `raw_ostream::write_escaped` prints it.
fn escaped(s: &[u8]) -> String {
    let mut out = String::new();
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'"' => out.push_str("\\\""),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\{b:03o}")),
        }
    }
    out
}

type Dwarf<'a> = gimli::Dwarf<EndianSlice<'a, RunTimeEndian>>;
type Header<'a> = gimli::UnitHeader<EndianSlice<'a, RunTimeEndian>>;

fn dwarf<'a>(elf: &'a ElfInput<'_>) -> Result<Dwarf<'a>, gimli::Error> {
    let endian = if elf.little_endian {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    };
    gimli::Dwarf::load(|id| Ok(EndianSlice::new(elf.debug_section(id), endian)))
}

/// The reference lines (scripts/dwarf-elf-names.py's format) of .debug_info
/// as gimli reads them from `elf`'s sections.
fn names(elf: &ElfInput<'_>) -> Result<Vec<String>, gimli::Error> {
    let dwarf = dwarf(elf)?;
    let mut out = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        unit_lines(&dwarf, header, None, &mut out)?;
    }
    Ok(out)
}

/// The same for the type units of .debug_types ("tuN" for the offset).
fn type_unit_names(elf: &ElfInput<'_>) -> Result<Vec<String>, gimli::Error> {
    let dwarf = dwarf(elf)?;
    let mut out = Vec::new();
    let mut units = dwarf.type_units();
    let mut index = 0;
    while let Some(header) = units.next()? {
        unit_lines(&dwarf, header, Some(index), &mut out)?;
        index += 1;
    }
    Ok(out)
}

fn unit_lines(
    dwarf: &Dwarf<'_>,
    header: Header<'_>,
    type_unit: Option<usize>,
    out: &mut Vec<String>,
) -> Result<(), gimli::Error> {
    let unit = dwarf.unit(header)?;
    let mut cursor = unit.entries();
    while let Some(entry) = cursor.next_dfs()? {
        let at = match type_unit {
            Some(i) => format!("tu{i}"),
            None => {
                let offset = entry
                    .offset()
                    .to_debug_info_offset(&unit.header)
                    .map_or(u64::MAX, |o| o.0 as u64);
                format!("{offset:#010x}")
            }
        };
        let low = match entry.attr_value(constants::DW_AT_low_pc) {
            Some(v) => dwarf.attr_address(&unit, v)?,
            None => None,
        };
        for attr in entry.attrs() {
            let (name, value) = match attr.name() {
                constants::DW_AT_name | constants::DW_AT_producer => {
                    let s = dwarf.attr_string(&unit, attr.value())?;
                    let name = if attr.name() == constants::DW_AT_name {
                        "name"
                    } else {
                        "producer"
                    };
                    (name, escaped(s.slice()))
                }
                constants::DW_AT_low_pc => ("low_pc", format!("{:#x}", low.unwrap_or(u64::MAX))),
                constants::DW_AT_high_pc => {
                    // An address form, or a length from low_pc.
                    let v = match dwarf.attr_address(&unit, attr.value())? {
                        Some(a) => a,
                        None => attr
                            .udata_value()
                            .map_or(u64::MAX, |n| low.unwrap_or(0).wrapping_add(n)),
                    };
                    ("high_pc", format!("{v:#x}"))
                }
                _ => continue,
            };
            out.push(format!("{at} {name} {value}"));
        }
    }
    Ok(())
}

/// The directory and file tables of every line program header
/// (scripts/dwarf-elf-lines.py's format), in .debug_line order.
fn line_tables(elf: &ElfInput<'_>) -> Result<Vec<String>, gimli::Error> {
    let dwarf = dwarf(elf)?;
    let mut programs = std::collections::BTreeMap::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next()? {
        let unit = dwarf.unit(header)?;
        let Some(program) = &unit.line_program else {
            continue;
        };
        let h = program.header();
        let offset = h.offset().0 as u64;
        // DWARF 4 numbers both tables from 1 (0 is the unit's own).
        let base = usize::from(h.version() < 5);
        let mut lines = Vec::new();
        for (i, dir) in h.include_directories().iter().enumerate() {
            let s = dwarf.attr_string(&unit, *dir)?;
            lines.push(format!(
                "{offset:#010x} dir {} {}",
                i + base,
                escaped(s.slice())
            ));
        }
        for (i, file) in h.file_names().iter().enumerate() {
            let s = dwarf.attr_string(&unit, file.path_name())?;
            lines.push(format!(
                "{offset:#010x} file {} {}",
                i + base,
                escaped(s.slice())
            ));
        }
        programs.insert(offset, lines);
    }
    Ok(programs.into_values().flatten().collect())
}

fn reference(name: &str, ext: &str) -> Vec<String> {
    String::from_utf8(read(&format!("{name}.{ext}")))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The fixture objects, by name without extension.
fn variants() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some(name.strip_suffix(".ref")?.to_owned())
        })
        .collect();
    v.sort();
    v
}

fn object_file(variant: &str) -> String {
    if variant == "gcc-exe-relocs" {
        variant.to_owned()
    } else {
        format!("{variant}.o")
    }
}

#[test]
fn names_addresses_and_line_tables_match_llvm_dwarfdump() {
    let variants = variants();
    assert!(variants.len() >= 20, "fixtures missing: {variants:?}");
    let mut lines = 0;
    for v in &variants {
        let file = object_file(v);
        let bytes = read(&file);
        let want = reference(v, "ref");
        assert!(want.len() > 40, "{v}: short reference");
        let parsed = ElfInput::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let got = names(&parsed).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(got, want, "{file} (parse)");
        let opened = ElfInput::open(&fixtures().join(&file)).unwrap();
        assert_eq!(names(&opened).unwrap(), want, "{file} (open)");
        assert_eq!(parsed.is_rel, v != "gcc-exe-relocs", "{file}");
        let want_lines = reference(v, "lines");
        assert!(!want_lines.is_empty(), "{v}: no line tables");
        assert_eq!(line_tables(&parsed).unwrap(), want_lines, "{file} (lines)");
        lines += want.len() + want_lines.len();
    }
    println!(
        "{} objects, {lines} lines equal llvm-dwarfdump-19's",
        variants.len()
    );
}

#[test]
fn type_units_of_several_sections_match_llvm_dwarfdump() {
    // Five .debug_types sections (COMDAT groups), each with its own
    // .rela.debug_types: concatenated after relocation.
    let bytes = read("gcc-dwarf4-types.o");
    let elf = ElfInput::parse(&bytes).unwrap();
    let want = reference("gcc-dwarf4-types", "types");
    assert!(want.len() > 30);
    assert_eq!(type_unit_names(&elf).unwrap(), want);
}

#[test]
fn sections_and_symbols_match_readelf() {
    for v in variants() {
        let file = object_file(&v);
        let bytes = read(&file);
        let elf = ElfInput::parse(&bytes).unwrap();
        let (mut sections, mut symbols) = (0, 0);
        for line in reference(&v, "tables") {
            let f: Vec<&str> = line.splitn(7, ' ').collect();
            let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
            match f[0] {
                "section" => {
                    let index: usize = f[1].parse().unwrap();
                    let s = &elf.sections[index - 1];
                    assert_eq!(
                        (s.index, s.name.as_str(), s.address, s.size),
                        (index, f[2], hex(f[3]), hex(f[4])),
                        "{file}: {line}"
                    );
                    sections += 1;
                }
                "symbol" => {
                    let index: usize = f[1].parse().unwrap();
                    let s = &elf.symbols[index - 1];
                    let ndx = f[5].parse::<usize>().ok();
                    assert_eq!(
                        (s.value, s.size, s.is_function, s.is_object, s.section),
                        (hex(f[2]), hex(f[3]), f[4] == "FUNC", f[4] == "OBJECT", ndx),
                        "{file}: {line}"
                    );
                    // readelf names section symbols after their section.
                    if f[4] != "SECTION" {
                        assert_eq!(s.name, f[6], "{file}: {line}");
                    }
                    symbols += 1;
                }
                _ => panic!("{line}"),
            }
        }
        assert_eq!(elf.sections.len(), sections, "{file}");
        assert_eq!(elf.symbols.len(), symbols, "{file}");
    }
}

#[test]
fn tls_symbol_is_neither_function_nor_object() {
    let bytes = read("gcc-dwarf5.o");
    let elf = ElfInput::parse(&bytes).unwrap();
    let tls = elf
        .symbols
        .iter()
        .find(|s| s.name == "per_thread_counter")
        .unwrap();
    assert!(!tls.is_function && !tls.is_object);
    let walk = elf.symbols.iter().find(|s| s.name == "walk").unwrap();
    assert!(walk.is_function && !walk.is_object);
}

/// Offset of section `name`'s header and its (sh_offset, sh_size), read
/// with the object crate.
fn section(bytes: &[u8], name: &str) -> (usize, usize, usize) {
    use object::{Object, ObjectSection};
    let file = object::File::parse(bytes).unwrap();
    let s = file.section_by_name(name).unwrap();
    let (off, size) = s.file_range().unwrap();
    let class64 = bytes[4] == 2;
    let (shoff, entsize) = if class64 {
        (
            u64::from_le_bytes(bytes[0x28..0x30].try_into().unwrap()),
            64,
        )
    } else {
        (
            u64::from(u32::from_le_bytes(bytes[0x20..0x24].try_into().unwrap())),
            40,
        )
    };
    let hdr = shoff as usize + s.index().0 * entsize;
    (hdr, off as usize, size as usize)
}

fn elf_error(bytes: &[u8]) -> String {
    match ElfInput::parse(bytes) {
        Ok(_) => panic!("damaged input accepted"),
        Err(Error::Elf(msg)) => msg,
        Err(e) => panic!("not an ELF error: {e}"),
    }
}

#[test]
fn every_truncation_is_an_error() {
    for file in [
        "gcc-dwarf5.o",
        "gcc-dwarf5-zstd.o",
        "clang-i386-dwarf5-zlib.o",
        "clang-s390x-dwarf5.o",
    ] {
        let bytes = read(file);
        for len in 0..bytes.len() {
            assert!(ElfInput::parse(&bytes[..len]).is_err(), "{file}[..{len}]");
        }
    }
}

#[test]
fn damaged_compression_headers() {
    // gcc-dwarf5-zlib.o: .debug_info is SHF_COMPRESSED, Elf64_Chdr.
    let bytes = read("gcc-dwarf5-zlib.o");
    let (_, off, _) = section(&bytes, ".debug_info");
    let size = u64::from_le_bytes(bytes[off + 8..off + 16].try_into().unwrap());
    let patched = |at: usize, new: &[u8]| {
        let mut b = bytes.clone();
        b[at..at + new.len()].copy_from_slice(new);
        b
    };
    let msg = elf_error(&patched(off, &7u32.to_le_bytes()));
    assert!(
        msg.contains(".debug_info") && msg.contains("compression type 7"),
        "{msg}"
    );
    let msg = elf_error(&patched(off + 8, &(1u64 << 40).to_le_bytes()));
    assert!(msg.contains("absurd"), "{msg}");
    let msg = elf_error(&patched(off + 8, &(size + 1).to_le_bytes()));
    assert!(msg.contains("ends after"), "{msg}");
    let msg = elf_error(&patched(off + 8, &(size - 1).to_le_bytes()));
    assert!(msg.contains("produces more"), "{msg}");
    let msg = elf_error(&patched(off + 30, &[0xff; 8]));
    assert!(msg.contains("zlib stream"), "{msg}");

    // zstd: a damaged frame and a wrong size.
    let bytes = read("gcc-dwarf5-zstd.o");
    let (_, off, len) = section(&bytes, ".debug_info");
    let mut b = bytes.clone();
    b[off + 24..off + len].fill(0x5a);
    let msg = elf_error(&b);
    assert!(msg.contains(".debug_info") && msg.contains("zstd"), "{msg}");
    let size = u64::from_le_bytes(bytes[off + 8..off + 16].try_into().unwrap());
    let mut b = bytes.clone();
    b[off + 8..off + 16].copy_from_slice(&(size - 1).to_le_bytes());
    let msg = elf_error(&b);
    assert!(msg.contains("more than"), "{msg}");

    // Elf32_Chdr: the size is the second word.
    let bytes = read("clang-i386-dwarf5-zlib.o");
    let (_, off, _) = section(&bytes, ".debug_info");
    let mut b = bytes.clone();
    b[off + 4..off + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(elf_error(&b).contains("absurd"));

    // .zdebug without its magic.
    let bytes = read("gcc-dwarf4-zdebug.o");
    let (_, off, _) = section(&bytes, ".zdebug_info");
    let mut b = bytes.clone();
    b[off] = b'X';
    assert!(elf_error(&b).contains("ZLIB magic"));
}

#[test]
fn damaged_relocations() {
    let bytes = read("gcc-dwarf5.o");
    let (hdr, off, _) = section(&bytes, ".rela.debug_info");
    // Entry #1: r_offset, r_info (symbol << 32 | type), r_addend.
    let e = off + 24;
    let patched = |at: usize, new: &[u8]| {
        let mut b = bytes.clone();
        b[at..at + new.len()].copy_from_slice(new);
        b
    };
    let msg = elf_error(&patched(e, &0xff_ffffu64.to_le_bytes()));
    assert!(
        msg.contains(".rela.debug_info")
            && msg.contains("relocation #1")
            && msg.contains("do not fit"),
        "{msg}"
    );
    let msg = elf_error(&patched(e + 12, &0xf_ffffu32.to_le_bytes()));
    assert!(msg.contains("symbol index out of range"), "{msg}");
    let msg = elf_error(&patched(e + 8, &0x7fu32.to_le_bytes()));
    assert!(
        msg.contains("type 127") && msg.contains("not known"),
        "{msg}"
    );
    // sh_link pointing to another section than .symtab.
    let msg = elf_error(&patched(hdr + 40, &1u32.to_le_bytes()));
    assert!(msg.contains("not .symtab"), "{msg}");
    // A table that is not a whole number of entries.
    let msg = elf_error(&patched(hdr + 32, &25u64.to_le_bytes()));
    assert!(msg.contains("whole number"), "{msg}");
}

#[test]
fn section_ranges_past_the_end() {
    let bytes = read("gcc-dwarf5.o");
    let (hdr, _, _) = section(&bytes, ".debug_str");
    let mut b = bytes.clone();
    // sh_size.
    b[hdr + 32..hdr + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let msg = elf_error(&b);
    assert!(
        msg.contains(".debug_str") && msg.contains("past the end"),
        "{msg}"
    );
    let mut b = bytes.clone();
    // sh_offset.
    b[hdr + 24..hdr + 32].copy_from_slice(&u64::MAX.to_le_bytes());
    let msg = elf_error(&b);
    assert!(
        msg.contains(".debug_str") && msg.contains("past the end"),
        "{msg}"
    );
    assert!(ElfInput::open(&fixtures().join("gcc-dwarf5.o")).is_ok());
}

#[test]
fn extended_section_numbering() {
    // e_shnum 0 with the count in section 0's sh_size, and e_shstrndx
    // SHN_XINDEX with the index in section 0's sh_link, read the same.
    let bytes = read("gcc-dwarf5.o");
    let shoff = u64::from_le_bytes(bytes[0x28..0x30].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes(bytes[0x3c..0x3e].try_into().unwrap());
    let shstrndx = u16::from_le_bytes(bytes[0x3e..0x40].try_into().unwrap());
    let mut b = bytes.clone();
    b[0x3c..0x3e].copy_from_slice(&0u16.to_le_bytes());
    b[0x3e..0x40].copy_from_slice(&0xffffu16.to_le_bytes());
    b[shoff + 32..shoff + 40].copy_from_slice(&u64::from(shnum).to_le_bytes());
    b[shoff + 40..shoff + 44].copy_from_slice(&u32::from(shstrndx).to_le_bytes());
    let elf = ElfInput::parse(&b).unwrap();
    assert_eq!(elf.sections.len(), usize::from(shnum) - 1);
    assert_eq!(names(&elf).unwrap(), reference("gcc-dwarf5", "ref"));
}

#[test]
fn executables_are_not_relocated() {
    // gcc-exe-relocs keeps .rela.debug_info (--emit-relocs): a type no
    // machine knows there changes nothing, as the table is never read.
    let bytes = read("gcc-exe-relocs");
    let (_, off, _) = section(&bytes, ".rela.debug_info");
    let mut b = bytes.clone();
    b[off + 8..off + 12].copy_from_slice(&0x7fu32.to_le_bytes());
    let elf = ElfInput::parse(&b).unwrap();
    assert!(!elf.is_rel);
    assert_eq!(names(&elf).unwrap(), reference("gcc-exe-relocs", "ref"));
}

#[test]
fn not_elf_and_bad_headers() {
    assert!(elf_error(b"").contains("past the end"));
    assert!(elf_error(b"\x7fELF").contains("past the end"));
    assert!(elf_error(&[0u8; 64]).contains("bad magic"));
    let mut bytes = read("gcc-dwarf5.o");
    bytes[4] = 9;
    assert!(elf_error(&bytes).contains("class 9"));
    let mut bytes = read("gcc-dwarf5.o");
    // e_shentsize.
    bytes[0x3a] = 63;
    assert!(elf_error(&bytes).contains("e_shentsize"));
    let mut bytes = read("gcc-dwarf5.o");
    // e_shstrndx past the table.
    bytes[0x3e..0x40].copy_from_slice(&999u16.to_le_bytes());
    assert!(elf_error(&bytes).contains("name table index 999"));
    assert!(ElfInput::open(Path::new("/nonexistent/x.ko")).is_err());
}

/// FNV-1a 64 of the lines joined with newlines (scripts/check-dwarf-elf-debian.sh).
fn fnv1a(lines: &[String]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for line in lines {
        for &b in line.as_bytes().iter().chain(b"\n") {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

/// Where the Debian debug package is extracted (maintainer machines).
fn debian_root() -> Option<PathBuf> {
    let root =
        PathBuf::from(std::env::var_os("BTFX_DEBIAN_DBG").unwrap_or_else(|| "/work/dl/dbg".into()));
    if root.join("usr/lib/debug").is_dir() {
        Some(root)
    } else {
        println!(
            "skipped: no Debian debug package at {} (set BTFX_DEBIAN_DBG)",
            root.display()
        );
        None
    }
}

#[test]
fn debian_modules_match_llvm_dwarfdump_summaries() {
    let Some(root) = debian_root() else { return };
    let summary = String::from_utf8(read("debian-modules.txt")).unwrap();
    let (mut checked, mut lines) = (0, 0);
    for line in summary.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let path = f[0];
        let elf = ElfInput::open(&root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(elf.is_rel, "{path}");
        let names = names(&elf).unwrap();
        let tables = line_tables(&elf).unwrap();
        let summary = |l: &[String]| format!("{} {:016x}", l.len(), fnv1a(l));
        assert_eq!(
            format!("{} {}", summary(&names), summary(&tables)),
            f[1..].join(" "),
            "{path}"
        );
        checked += 1;
        lines += names.len() + tables.len();
    }
    assert!(checked >= 3);
    println!("{checked} Debian modules, {lines} lines agree with llvm-dwarfdump-19");
}

/// Peak memory of this process so far (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[test]
fn debian_vmlinux_opens() {
    let Some(root) = debian_root() else { return };
    let path = root.join("usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64");
    if !path.exists() {
        println!("skipped: {} absent", path.display());
        return;
    }
    let before = peak_rss_kib();
    let start = std::time::Instant::now();
    let elf = ElfInput::open(&path).unwrap();
    let took = start.elapsed();
    let read: usize = dwarf_btf::elf::DEBUG_SECTIONS
        .iter()
        .map(|&id| elf.debug_section(id).len())
        .sum();
    let file = std::fs::metadata(&path).unwrap().len();
    let info = elf.debug_section(gimli::SectionId::DebugInfo).len();
    assert!(!elf.is_rel && elf.little_endian);
    assert!(info > 100 << 20, ".debug_info is {info} bytes");
    assert!(elf
        .symbols
        .iter()
        .any(|s| s.name == "tcp_v4_connect" && s.is_function));
    // Only the debug sections (and the tables) are read, not the file.
    assert!((read as u64) < file / 2 + (file / 4));
    println!(
        "vmlinux: {file} bytes, {read} bytes of debug sections read ({info} of .debug_info), \
         {} symbols, {:.2} s, peak RSS {} MiB (before: {} MiB; run alone for a clean figure)",
        elf.symbols.len(),
        took.as_secs_f64(),
        peak_rss_kib() / 1024,
        before / 1024
    );
}
