//! Word documents (.docx): the paragraphs and tables of `word/document.xml`, in document order.
use quick_xml::{escape::resolve_predefined_entity, events::Event, Reader};

use super::Block;

/// A table of a Word document: its cells as text and the ranges merged cells cover, as
/// (first row, first column, last row, last column), all inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WordTable {
    pub rows: Vec<Vec<String>>,
    pub merges: Vec<(usize, usize, usize, usize)>,
}

/// What a document holds, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Paragraph(String),
    Table(WordTable),
}

impl Part {
    /// As an intake block: a table keeps its cells (a merged cell's text in its first cell).
    pub fn block(&self) -> Block {
        match self {
            Part::Paragraph(text) => Block::Paragraph(text.clone()),
            Part::Table(table) => Block::Table(table.rows.clone()),
        }
    }
}

/// A cell being read: its text, how many grid columns it spans, whether it continues the merged
/// cell above it (`w:vMerge` without `restart`).
#[derive(Default)]
struct Cell {
    text: String,
    span: usize,
    continues_above: bool,
}

/// The parts of `word/document.xml`. Text of deleted revisions and field instructions is left
/// out; a line break inside a paragraph starts a new paragraph; a table nested in a cell is read
/// as that cell's text.
pub fn parts(xml: &str) -> Result<Vec<Part>, String> {
    let mut reader = Reader::from_str(xml);
    let mut parts = Vec::new();
    let mut paragraph = String::new();
    // Depth of tables entered; only the outermost becomes a table.
    let mut table_depth = 0_usize;
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut cell: Option<Cell> = None;
    let mut in_text = false;
    let mut skipping = 0_usize;
    let flush = |paragraph: &mut String, parts: &mut Vec<Part>| {
        for line in paragraph.split('\n') {
            if !line.trim().is_empty() {
                parts.push(Part::Paragraph(line.to_owned()));
            }
        }
        paragraph.clear();
    };
    loop {
        let event = reader.read_event().map_err(|e| format!("word/document.xml is not well-formed XML: {e}"))?;
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                "t" => in_text = true,
                "delText" | "instrText" => skipping += 1,
                "tbl" => {
                    table_depth += 1;
                    if table_depth == 1 {
                        flush(&mut paragraph, &mut parts);
                        rows.clear();
                    }
                }
                "tr" if table_depth == 1 => rows.push(Vec::new()),
                "tc" if table_depth == 1 => cell = Some(Cell { span: 1, ..Cell::default() }),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "tc" if table_depth == 1 => {
                    if let Some(row) = rows.last_mut() {
                        row.push(Cell { span: 1, ..Cell::default() });
                    }
                }
                "tab" if skipping == 0 => current(&mut paragraph, &mut cell).push('\t'),
                "br" | "cr" if skipping == 0 => current(&mut paragraph, &mut cell).push('\n'),
                "gridSpan" => {
                    if let (Some(cell), Some(span)) = (cell.as_mut(), value(&e)) {
                        cell.span = span.parse::<usize>().unwrap_or(1).clamp(1, 1000);
                    }
                }
                "vMerge" => {
                    if let Some(cell) = cell.as_mut() {
                        cell.continues_above = value(&e).is_none_or(|v| v != "restart");
                    }
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "delText" | "instrText" => skipping = skipping.saturating_sub(1),
                "p" => match cell.as_mut() {
                    Some(cell) if !cell.text.is_empty() && !cell.text.ends_with('\n') => cell.text.push('\n'),
                    Some(_) => {}
                    None if table_depth == 0 => flush(&mut paragraph, &mut parts),
                    None => {}
                },
                "tc" if table_depth == 1 => {
                    if let (Some(mut done), Some(row)) = (cell.take(), rows.last_mut()) {
                        done.text = done.text.trim_end_matches('\n').to_owned();
                        row.push(done);
                    }
                }
                "tbl" => {
                    table_depth = table_depth.saturating_sub(1);
                    if table_depth == 0 {
                        parts.push(Part::Table(lay_out(std::mem::take(&mut rows))));
                    }
                }
                _ => {}
            },
            Event::Text(text) if in_text && skipping == 0 => {
                current(&mut paragraph, &mut cell).push_str(&text.xml10_content());
            }
            Event::GeneralRef(reference) if in_text && skipping == 0 => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => resolve_predefined_entity(&reference.xml10_content()).map(str::to_owned),
                };
                if let Some(text) = resolved {
                    current(&mut paragraph, &mut cell).push_str(&text);
                }
            }
            Event::CData(text) if in_text && skipping == 0 => {
                current(&mut paragraph, &mut cell).push_str(&text.xml10_content());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    flush(&mut paragraph, &mut parts);
    Ok(parts)
}

fn current<'a>(paragraph: &'a mut String, cell: &'a mut Option<Cell>) -> &'a mut String {
    match cell {
        Some(cell) => &mut cell.text,
        None => paragraph,
    }
}

/// The `w:val` attribute of an element.
fn value(element: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    element.attributes().flatten().find(|a| a.key.local_name().as_ref() == "val").map(|a| a.value.into_owned())
}

/// Cells on the table's grid: a cell spanning columns fills them (its text in the first), a cell
/// continuing a vertical merge is empty and extends the merge above it.
fn lay_out(rows: Vec<Vec<Cell>>) -> WordTable {
    let mut table = WordTable::default();
    // Per column: the merge (index into table.merges) that a continuing cell extends.
    let mut open: Vec<Option<usize>> = Vec::new();
    for (r, row) in rows.into_iter().enumerate() {
        let mut cells = Vec::new();
        for cell in row {
            let c = cells.len();
            let span = cell.span;
            if open.len() < c + span {
                open.resize(c + span, None);
            }
            if cell.continues_above {
                if let Some(merge) = open[c] {
                    table.merges[merge].2 = r;
                } else {
                    // A continuation with nothing above it starts a merge of its own.
                    table.merges.push((r, c, r, c + span - 1));
                    open[c] = Some(table.merges.len() - 1);
                }
                cells.extend(std::iter::repeat_n(String::new(), span));
                continue;
            }
            if span > 1 {
                table.merges.push((r, c, r, c + span - 1));
                open[c] = Some(table.merges.len() - 1);
            } else {
                // The start of a possible vertical merge.
                table.merges.push((r, c, r, c));
                open[c] = Some(table.merges.len() - 1);
            }
            cells.push(cell.text);
            cells.extend(std::iter::repeat_n(String::new(), span - 1));
        }
        table.rows.push(cells);
    }
    // Single cells that merged with nothing are no merges.
    table.merges.retain(|&(r0, c0, r1, c1)| r0 != r1 || c0 != c1);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

    fn document(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}</w:body></w:document>"#
        )
    }

    #[test]
    fn paragraphs_and_tables_come_in_document_order() {
        let xml = document(
            r#"<w:p><w:r><w:t>收入总计1809.48</w:t></w:r><w:r><w:t xml:space="preserve">万元，</w:t></w:r></w:p>
               <w:tbl><w:tr><w:tc><w:p><w:r><w:t>项目名称</w:t></w:r></w:p></w:tc>
                            <w:tc><w:tcPr><w:gridSpan w:val="2"/></w:tcPr><w:p><w:r><w:t>委托业务项目</w:t></w:r></w:p></w:tc></w:tr>
                      <w:tr><w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr><w:p><w:r><w:t>产出指标</w:t></w:r></w:p></w:tc>
                            <w:tc><w:p><w:r><w:t>a</w:t></w:r></w:p><w:p><w:r><w:t>b</w:t></w:r></w:p></w:tc><w:tc/></w:tr>
                      <w:tr><w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r><w:t>c&amp;d</w:t></w:r></w:p></w:tc><w:tc/></w:tr></w:tbl>
               <w:p><w:r><w:t>其中：</w:t><w:tab/><w:t>基本支出</w:t><w:br/><w:t>第二行</w:t></w:r></w:p>
               <w:p><w:r><w:delText>删除</w:delText><w:t>保留</w:t></w:r></w:p>"#,
        );
        let parts = parts(&xml).unwrap();
        assert_eq!(parts[0], Part::Paragraph("收入总计1809.48万元，".into()));
        let Part::Table(table) = &parts[1] else { panic!("{parts:?}") };
        assert_eq!(
            table.rows,
            [vec!["项目名称", "委托业务项目", ""], vec!["产出指标", "a\nb", ""], vec!["", "c&d", ""]]
        );
        assert_eq!(table.merges, [(0, 1, 0, 2), (1, 0, 2, 0)]);
        assert_eq!(
            &parts[2..],
            [
                Part::Paragraph("其中：\t基本支出".into()),
                Part::Paragraph("第二行".into()),
                Part::Paragraph("保留".into())
            ]
        );
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(parts("<w:document><w:body><w:p>").is_ok_and(|p| p.is_empty()));
        assert!(parts("<a></b>").is_err());
    }
}
