//! Finding `.BTF` in an ELF file (object files, vmlinux, kernel modules).

use std::borrow::Cow;

use object::{Object, ObjectSection};

use crate::{Error, Result};

/// Does `data` start like an ELF file (rather than raw BTF)?
pub fn is_elf(data: &[u8]) -> bool {
    data.starts_with(b"\x7fELF")
}

/// The bytes of the named section of an ELF file.
pub fn section<'data>(elf: &'data [u8], name: &str) -> Result<Option<Cow<'data, [u8]>>> {
    let file = object::File::parse(elf)
        .map_err(|e| Error::Elf(format!("not a readable ELF file: {e}")))?;
    let Some(sec) = file.section_by_name(name) else {
        return Ok(None);
    };
    let data = sec
        .uncompressed_data()
        .map_err(|e| Error::Elf(format!("section {name}: {e}")))?;
    Ok(Some(data))
}

/// The bytes of the `.BTF` section of an ELF file.
pub fn btf_section(elf: &[u8]) -> Result<Cow<'_, [u8]>> {
    section(elf, ".BTF")?.ok_or_else(|| Error::Elf("no .BTF section".into()))
}
