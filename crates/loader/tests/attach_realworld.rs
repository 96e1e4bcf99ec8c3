//! Objects btfx did not write: the XDP programs Debian's xdp-tools ships
//! (/usr/lib/x86_64-linux-gnu/bpf/*.o), loaded by btfx and attached by
//! section name to lo (generic) in a private network namespace. The
//! reference is the kernel as iproute2 reports it (`ip -d link show`: the
//! attached program id must be the one btfx loaded) and libbpf's own
//! xdp-loader, which must attach the same objects too (run when installed).
//! LIBBPF_PIN_BY_NAME maps are pinned in a private bpffs directory that is
//! removed afterwards.

mod attach_util;

use std::path::PathBuf;

use attach_util::*;
use loader::attach::{auto_attach, Prog, Targets, XdpMode};
use loader::sys::Census;

const DIR: &str = "/usr/lib/x86_64-linux-gnu/bpf";

struct RmDir(PathBuf);
impl Drop for RmDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn debian_xdp_objects_attach_by_section() {
    if !can_bpf() {
        return;
    }
    let Ok(dir) = std::fs::read_dir(DIR) else {
        eprintln!("skipping: no {DIR} (xdp-tools not installed)");
        return;
    };
    let Some(fs) = bpffs() else {
        eprintln!("skipping: no bpffs for the objects' pinned maps");
        return;
    };
    let mut objs: Vec<PathBuf> = dir
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "o"))
        .collect();
    objs.sort();
    let pins = fs.join(format!("btfx-attach-realworld-{}", std::process::id()));
    std::fs::create_dir_all(&pins).unwrap();
    let _rm = RmDir(pins.clone());
    let xdp_loader = std::process::Command::new("xdp-loader")
        .arg("--help")
        .output()
        .is_ok();
    // xdp-loader makes <bpffs>/xdp for its dispatcher pins; remove it after
    // if it was not there before.
    let xdp_dir = fs.join("xdp");
    let _rm_xdp = (!xdp_dir.exists()).then(|| RmDir(xdp_dir.clone()));
    let counted = Census::begin().unwrap();
    let results = in_netns(move || {
        let mut out = Vec::new();
        for obj in objs {
            let elf = std::fs::read(&obj).unwrap();
            let stem = obj.file_stem().unwrap().to_string_lossy().into_owned();
            let Some(l) = load_with_pin_root(&elf, &stem, &pins) else {
                continue;
            };
            for (name, section, o) in outcomes(&l) {
                let Ok((id, fd)) = o else { continue };
                let spec = loader::progtype::from_section(section).unwrap();
                if spec.prog_type != loader::progtype::types::XDP {
                    continue;
                }
                let prog = Prog {
                    fd,
                    prog_type: spec.prog_type,
                    expected_attach_type: spec.expected_attach_type,
                    section,
                    name,
                };
                let t = Targets {
                    ifname: Some("lo".into()),
                    xdp_mode: XdpMode::Generic,
                    ..Targets::default()
                };
                let link = auto_attach(&prog, &t).unwrap_or_else(|e| panic!("{name}: {e}"));
                let shown = ip(&["-d", "link", "show", "lo"]);
                assert!(
                    shown.contains(&format!("prog/xdp id {id}")),
                    "{} {name}: kernel shows {shown}",
                    obj.display()
                );
                send_udp("127.0.0.1", "127.0.0.1", 3);
                drop(link);
                assert!(!ip(&["link", "show", "lo"]).contains("xdp"));
                // libbpf's xdp-loader attaches the same program.
                let by_libbpf = if xdp_loader {
                    let ok = std::process::Command::new("xdp-loader")
                        .args(["load", "-m", "skb", "-p"])
                        .arg(&pins)
                        .args(["-n", name, "lo"])
                        .arg(&obj)
                        .output()
                        .map(|o| o.status.success())
                        .unwrap_or(false);
                    let _ = std::process::Command::new("xdp-loader")
                        .args(["unload", "--all", "lo"])
                        .output();
                    Some(ok)
                } else {
                    None
                };
                out.push((obj.display().to_string(), name.to_string(), by_libbpf));
            }
        }
        out
    });
    let Some(results) = results else { return };
    let leftover: Vec<_> = std::fs::read_dir(&xdp_dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(leftover.is_empty(), "xdp-loader left {leftover:?}");
    for r in &results {
        eprintln!("attached {} {} (xdp-loader: {:?})", r.0, r.1, r.2);
    }
    assert!(
        results.len() >= 10,
        "only {} programs attached",
        results.len()
    );
    assert!(
        results.iter().all(|r| r.2 != Some(false)),
        "xdp-loader failed on some"
    );
    // The pinned maps go with their directory.
    drop(_rm);
    let leaks = counted.leaks().unwrap();
    assert!(leaks.is_empty(), "left behind: {leaks}");
}
