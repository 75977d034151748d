//! PLACEHOLDER until the intake-report branch lands.
use super::{Block, Draft};

#[derive(Debug)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn decode_text(bytes: &[u8]) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| DecodeError(e.to_string()))
}

pub fn paragraphs(text: &str) -> Vec<Block> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| Block::Paragraph(l.trim().to_owned())).collect()
}

pub fn read_report(_blocks: &[Block]) -> Draft {
    Draft {
        record: serde_json::from_str(r#"{"region_code":"","fiscal_year":0,"kind":"department_overall","unit":""}"#)
            .unwrap(),
        provenance: vec![],
        unmatched: vec![],
        notes: vec![],
        sheet: None,
    }
}
