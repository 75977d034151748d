//! Plain-text reports: bytes decoded (UTF-8, GB18030/GBK, UTF-16 with a BOM) and split into paragraphs.
//!
//! Chinese reports saved as `.txt` on Windows are GBK far more often than UTF-8, and nothing in
//! the file says which. The two are told apart by content: text that is valid UTF-8 is UTF-8
//! (GBK text of any length is almost never valid UTF-8), anything else is decoded as GB18030
//! (a superset of GBK and GB2312) and rejected when that yields malformed sequences, control
//! characters or private-use characters, which is what a binary file or another code page gives.
use encoding_rs::{Encoding, GB18030, UTF_8};

use super::Block;

/// Why bytes could not be read as a text report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A NUL or other control byte: a Word, PDF, Excel or image file, not text
    #[error("not a text file: binary data (control character U+{code:04X}) at byte {offset}")]
    Binary { offset: usize, code: u32 },
    /// Neither UTF-8 nor GB18030/GBK (perhaps another code page)
    #[error("not UTF-8 or GB18030/GBK text: malformed sequence")]
    UnknownEncoding,
    /// A UTF-16 byte-order mark followed by malformed UTF-16
    #[error("malformed UTF-16 after a byte-order mark")]
    MalformedUtf16,
    /// Decoded, but into characters no report contains (private-use code points, or a
    /// replacement character where the encoding was guessed)
    #[error("not a text report: character U+{code:04X} after decoding as {encoding}")]
    Junk { encoding: &'static str, code: u32 },
}

/// The text of a report file: UTF-8 with or without BOM, UTF-16 with a BOM, or GB18030/GBK.
pub fn decode_text(bytes: &[u8]) -> Result<String, DecodeError> {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let body = &bytes[bom..];
        let text = encoding.decode_without_bom_handling_and_without_replacement(body).ok_or(if encoding == UTF_8 {
            DecodeError::UnknownEncoding
        } else {
            DecodeError::MalformedUtf16
        })?;
        return checked(text.into_owned(), encoding.name(), if encoding == UTF_8 { bom } else { 0 });
    }
    // Binary formats carry NUL bytes early; say so before trying code pages on them.
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(DecodeError::Binary { offset, code: 0 });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return checked(text.to_owned(), UTF_8.name(), 0);
    }
    let text =
        GB18030.decode_without_bom_handling_and_without_replacement(bytes).ok_or(DecodeError::UnknownEncoding)?;
    checked(text.into_owned(), GB18030.name(), 0)
}

/// Rejects decoded text holding control characters (other than tab, line and page breaks) or
/// private-use characters, and, when it was guessed to be GB18030, replacement characters.
/// `base` is the byte offset of the text in the input, for the message.
fn checked(text: String, encoding: &'static str, base: usize) -> Result<String, DecodeError> {
    for (offset, c) in text.char_indices() {
        let code = c as u32;
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}') {
            return Err(DecodeError::Binary { offset: base + offset, code });
        }
        let private = (0xE000..=0xF8FF).contains(&code) || (0xF0000..=0x10FFFF).contains(&code);
        if private || (code == 0xFFFD && encoding == GB18030.name()) {
            return Err(DecodeError::Junk { encoding, code });
        }
    }
    Ok(text)
}

/// Whitespace a paragraph is trimmed of: Unicode white space (incl. U+3000 ideographic space and
/// U+00A0 no-break space) and a stray byte-order mark or zero-width space.
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{feff}' | '\u{200b}')
}

/// A text split into paragraphs: one per non-empty line, trimmed of surrounding white space;
/// the text is otherwise kept exactly.
pub fn paragraphs(text: &str) -> Vec<Block> {
    text.split(['\n', '\r', '\u{2028}', '\u{2029}'])
        .map(|line| line.trim_matches(is_blank))
        .filter(|line| !line.is_empty())
        .map(|line| Block::Paragraph(line.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "收入总计１８０９．４８万元，其中：财政拨款收入1,799.48万元。";

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    }

    #[test]
    fn reads_utf8_with_and_without_bom() {
        assert_eq!(decode_text(SAMPLE.as_bytes()).unwrap(), SAMPLE);
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(SAMPLE.as_bytes());
        assert_eq!(decode_text(&with_bom).unwrap(), SAMPLE);
    }

    #[test]
    fn reads_gbk_and_gb18030_by_content() {
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(SAMPLE);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&gbk).is_err(), "GBK bytes must not pass as UTF-8");
        assert_eq!(decode_text(&gbk).unwrap(), SAMPLE);
        // A character outside GBK takes GB18030's four-byte form.
        let rare = "𠀀镇";
        let (gb18030, _, unmappable) = GB18030.encode(rare);
        assert!(!unmappable);
        assert_eq!(decode_text(&gb18030).unwrap(), rare);
    }

    #[test]
    fn keeps_a_replacement_character_of_utf8_but_not_one_guessed_from_gb18030() {
        assert_eq!(decode_text("收入\u{fffd}总计".as_bytes()).unwrap(), "收入\u{fffd}总计");
        // U+FFFD in GB18030's four-byte form, beside bytes that are not UTF-8
        let mut bytes = encoding_rs::GBK.encode("收入").0.into_owned();
        bytes.extend_from_slice(b"\x84\x31\xA4\x37");
        assert!(matches!(decode_text(&bytes), Err(DecodeError::Junk { code: 0xFFFD, .. })));
    }

    #[test]
    fn reads_utf16_with_a_bom() {
        assert_eq!(decode_text(&utf16(SAMPLE, false)).unwrap(), SAMPLE);
        assert_eq!(decode_text(&utf16(SAMPLE, true)).unwrap(), SAMPLE);
        let mut odd = utf16(SAMPLE, false);
        odd.push(0x41);
        assert_eq!(decode_text(&odd), Err(DecodeError::MalformedUtf16));
    }

    #[test]
    fn rejects_binary_files() {
        let docx = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00";
        assert_eq!(decode_text(docx), Err(DecodeError::Binary { offset: 5, code: 0 }));
        let pdf_stream = b"%PDF-1.7\n\x81\x30\x81\x30\x1b\x9c\xe2\xe3";
        assert!(matches!(decode_text(pdf_stream), Err(DecodeError::Binary { .. } | DecodeError::UnknownEncoding)));
        // Latin-1 text is neither UTF-8 nor GB18030.
        assert_eq!(decode_text(b"caf\xe9 ok"), Err(DecodeError::UnknownEncoding));
        // GB18030's user-defined area decodes, but to private-use characters.
        assert!(matches!(decode_text(b"\xaa\xa1\xaa\xa2"), Err(DecodeError::Junk { .. })));
        let message = decode_text(docx).unwrap_err().to_string();
        assert!(message.contains("binary"), "{message}");
    }

    #[test]
    fn splits_paragraphs_and_trims_ideographic_and_no_break_spaces() {
        let text = "\u{feff} 绩效评价报告\r\n\r\n\u{3000}\u{3000}一、基本情况：\u{a0}\n\t（一）部门 职责  \n   \n末行";
        let blocks = paragraphs(text);
        assert_eq!(
            blocks,
            ["绩效评价报告", "一、基本情况：", "（一）部门 职责", "末行"]
                .map(|p| Block::Paragraph(p.to_owned()))
                .to_vec()
        );
        assert!(paragraphs(" \n\u{3000}\n").is_empty());
    }
}
