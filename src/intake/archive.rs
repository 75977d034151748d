//! Zip containers (XLSX, DOCX) opened with limits, so that a zip bomb is refused before it is inflated.
//!
//! [`check`] reads only the central directory; since the sizes declared there can lie, every
//! reader here also stops inflating once it has produced more bytes than it was allowed.
use std::io::{Cursor, Read, Write};

use zip::{result::ZipError, write::SimpleFileOptions, CompressionMethod, ZipArchive, ZipWriter};

/// Most entries a container may hold (an XLSX of a few sheets has a dozen or two).
pub const MAX_ENTRIES: usize = 10_000;
/// Highest compression ratio accepted for an entry that inflates to more than [`RATIO_FLOOR`]:
/// XML compresses about 10–30:1, a run of zeros about 1000:1.
pub const MAX_RATIO: u64 = 200;
/// Entries smaller than this (declared, uncompressed) are not held to [`MAX_RATIO`].
pub const RATIO_FLOOR: u64 = 1 << 20;

/// Why a container was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// It would inflate beyond the limit (in total, or one absurdly compressed entry, or too many
    /// entries): the HTTP layer answers 413.
    #[error("the archive would decompress to more than {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded, in bytes (for too many entries: the entry limit)
        limit: u64,
    },
    /// Not a readable zip, or an entry that cannot be read (encrypted, unknown compression,
    /// absent): 422.
    #[error("not a readable zip archive: {0}")]
    Corrupt(String),
}

fn corrupt(error: ZipError) -> ArchiveError {
    ArchiveError::Corrupt(error.to_string())
}

fn open(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, ArchiveError> {
    let archive = ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    if archive.len() > MAX_ENTRIES {
        return Err(ArchiveError::TooLarge { limit: MAX_ENTRIES as u64 });
    }
    // A well-formed office file never repeats a name; a repeated one could hide an entry's size.
    if archive.has_duplicate_names() {
        return Err(ArchiveError::Corrupt("the archive repeats an entry name".into()));
    }
    Ok(archive)
}

/// Refuses a container whose central directory declares more than `max_uncompressed` bytes in
/// all, more than [`MAX_ENTRIES`] entries, or an entry over 1 MiB compressed more than 200:1.
/// Nothing is inflated.
pub fn check(bytes: &[u8], max_uncompressed: u64) -> Result<(), ArchiveError> {
    let archive = open(bytes)?;
    let too_large = ArchiveError::TooLarge { limit: max_uncompressed };
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_data(index).map_err(corrupt)?;
        let size = entry.size();
        total = total.saturating_add(size);
        if total > max_uncompressed {
            return Err(too_large);
        }
        if size > RATIO_FLOOR && size / entry.compressed_size().max(1) > MAX_RATIO {
            return Err(too_large);
        }
    }
    Ok(())
}

/// Inflates one entry, refusing once it yields more than `max` bytes whatever its header declares.
pub fn read_entry(bytes: &[u8], name: &str, max: u64) -> Result<Vec<u8>, ArchiveError> {
    let mut archive = open(bytes)?;
    let file = archive.by_name(name).map_err(|error| match error {
        ZipError::FileNotFound => ArchiveError::Corrupt(format!("the archive has no entry {name}")),
        error => corrupt(error),
    })?;
    bounded(file, max)
}

fn bounded(reader: impl Read, max: u64) -> Result<Vec<u8>, ArchiveError> {
    let mut out = Vec::new();
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|error| ArchiveError::Corrupt(error.to_string()))?;
    if out.len() as u64 > max {
        return Err(ArchiveError::TooLarge { limit: max });
    }
    Ok(out)
}

/// The container rewritten without compression, keeping only the entries `keep` accepts and
/// inflating at most `max_uncompressed` bytes in all: a parser that inflates by itself then reads
/// bytes that were counted. Directories are dropped.
pub fn repack(bytes: &[u8], max_uncompressed: u64, keep: impl Fn(&str) -> bool) -> Result<Vec<u8>, ArchiveError> {
    check(bytes, max_uncompressed)?;
    let mut archive = open(bytes)?;
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let mut budget = max_uncompressed;
    for index in 0..archive.len() {
        let file = archive.by_index(index).map_err(corrupt)?;
        let name = file.name().map_err(corrupt)?.into_owned();
        if file.is_dir() || !keep(&name) {
            continue;
        }
        let data = bounded(file, budget).map_err(|error| match error {
            ArchiveError::TooLarge { .. } => ArchiveError::TooLarge { limit: max_uncompressed },
            error => error,
        })?;
        budget -= data.len() as u64;
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Stored)
            .large_file(data.len() as u64 >= u32::MAX as u64);
        writer.start_file(name, options).map_err(corrupt)?;
        writer.write_all(&data).map_err(|error| ArchiveError::Corrupt(error.to_string()))?;
    }
    Ok(writer.finish().map_err(corrupt)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_of(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            let options =
                SimpleFileOptions::default().compression_method(method).large_file(data.len() > u32::MAX as usize);
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// Declares `size` as every entry's uncompressed size, in the local and the central headers.
    fn declare_size(bytes: &mut [u8], size: u32) {
        let at = |signature: &[u8]| -> Vec<usize> {
            bytes.windows(4).enumerate().filter(|(_, w)| *w == signature).map(|(i, _)| i).collect()
        };
        let (local, central) = (at(b"PK\x03\x04"), at(b"PK\x01\x02"));
        for offset in local.into_iter().map(|i| i + 22).chain(central.into_iter().map(|i| i + 24)) {
            bytes[offset..offset + 4].copy_from_slice(&size.to_le_bytes());
        }
    }

    #[test]
    fn a_small_real_zip_passes_and_its_entries_read() {
        let bytes = zip_of(&[("a.xml", b"<a>hello</a>"), ("b/c.xml", &[b'x'; 5000])], CompressionMethod::Deflated);
        check(&bytes, 1 << 20).unwrap();
        assert_eq!(read_entry(&bytes, "a.xml", 100).unwrap(), b"<a>hello</a>");
        assert_eq!(read_entry(&bytes, "b/c.xml", 5000).unwrap().len(), 5000);
        assert_eq!(read_entry(&bytes, "b/c.xml", 4999), Err(ArchiveError::TooLarge { limit: 4999 }));
        assert!(matches!(read_entry(&bytes, "missing.xml", 100), Err(ArchiveError::Corrupt(_))));
        let repacked = repack(&bytes, 1 << 20, |name| name.ends_with(".xml")).unwrap();
        assert_eq!(read_entry(&repacked, "b/c.xml", 5000).unwrap(), vec![b'x'; 5000]);
    }

    #[test]
    fn a_zip_bomb_is_refused_from_its_directory_without_inflating_it() {
        // 200 MB of zeros deflate to about 200 KB: a ratio near 1000:1.
        let zeros = vec![0u8; 200 << 20];
        let bomb = zip_of(&[("xl/worksheets/sheet1.xml", &zeros)], CompressionMethod::Deflated);
        drop(zeros);
        assert!(bomb.len() < 1 << 20, "the bomb is small: {} bytes", bomb.len());
        // Refused by its ratio even under a generous total limit …
        assert_eq!(check(&bomb, 1 << 30), Err(ArchiveError::TooLarge { limit: 1 << 30 }));
        // … and by the total under the usual one.
        assert_eq!(check(&bomb, 64 << 20), Err(ArchiveError::TooLarge { limit: 64 << 20 }));
        let started = std::time::Instant::now();
        assert!(repack(&bomb, 64 << 20, |_| true).is_err());
        assert!(started.elapsed().as_millis() < 500, "refused without inflating");
    }

    #[test]
    fn declared_sizes_that_lie_do_not_get_past_the_bounded_readers() {
        // 5 MB of zeros whose headers claim 1000 bytes: the directory passes, the reading stops.
        let zeros = vec![0u8; 5 << 20];
        let mut bytes = zip_of(&[("word/document.xml", &zeros)], CompressionMethod::Deflated);
        declare_size(&mut bytes, 1000);
        check(&bytes, 1 << 20).expect("the directory says 1000 bytes");
        let started = std::time::Instant::now();
        assert!(read_entry(&bytes, "word/document.xml", 1 << 20).is_err());
        assert!(repack(&bytes, 1 << 20, |_| true).is_err());
        assert!(started.elapsed().as_millis() < 500, "stopped early");
        // An honest entry larger than the reader allows is refused once the allowance is inflated.
        let honest = zip_of(&[("word/document.xml", &zeros)], CompressionMethod::Deflated);
        assert_eq!(read_entry(&honest, "word/document.xml", 1 << 20), Err(ArchiveError::TooLarge { limit: 1 << 20 }));
    }

    #[test]
    fn declared_sizes_adding_up_beyond_the_limit_are_refused() {
        let mut bytes = zip_of(&[("a.xml", b"<a/>"), ("b.xml", b"<b/>")], CompressionMethod::Stored);
        declare_size(&mut bytes, 600 << 20);
        assert_eq!(check(&bytes, 1 << 30), Err(ArchiveError::TooLarge { limit: 1 << 30 }));
    }

    #[test]
    fn too_many_entries_are_refused() {
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("{i}.xml")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|name| (name.as_str(), &b""[..])).collect();
        let bytes = zip_of(&entries, CompressionMethod::Stored);
        assert_eq!(check(&bytes, 1 << 30), Err(ArchiveError::TooLarge { limit: MAX_ENTRIES as u64 }));
    }

    #[test]
    fn garbage_and_truncated_archives_are_corrupt() {
        assert!(matches!(check(b"this is not a zip at all", 1 << 20), Err(ArchiveError::Corrupt(_))));
        assert!(matches!(check(b"", 1 << 20), Err(ArchiveError::Corrupt(_))));
        let bytes = zip_of(&[("a.xml", b"<a>hello</a>")], CompressionMethod::Deflated);
        assert!(matches!(check(&bytes[..bytes.len() / 2], 1 << 20), Err(ArchiveError::Corrupt(_))));
    }
}
