//! Tables for download: content negotiation, and CSV, NDJSON and JSON streamed page by page
//! or an XLSX workbook built in memory, from any paged source of rows.
use std::{borrow::Cow, future::Future, io::Write, pin::Pin};

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use futures_util::{
    future,
    stream::{self, Stream, StreamExt},
};
use rust_decimal::{prelude::ToPrimitive, Decimal};

use crate::{
    domain::record::{EvaluationKind, Grade, Status},
    error::ApiError,
    routes::{invalid_parameter, QueryPairs},
};

/// The query parameters this module reads; add them to a handler's `QueryPairs::only` list.
pub const PARAMETERS: [&str; 2] = ["format", "labels"];

/// Media type of an XLSX workbook.
pub const XLSX_MEDIA_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The most rows an XLSX export holds: the workbook is built in memory. CSV and NDJSON
/// stream and have no cap.
pub const XLSX_MAX_ROWS: usize = 100_000;

/// The longest text Excel keeps in a cell.
const XLSX_MAX_TEXT_CHARS: usize = 32_767;

/// What a column holds, which decides how XLSX stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Text,
    Integer,
    /// Exact decimals: text in CSV and NDJSON, numbers in XLSX.
    Decimal,
}

/// The Chinese name of a coded value (`draft` → `草稿`), if it is one of the column's codes.
pub type ValueLabels = fn(&str) -> Option<&'static str>;

/// One column of an export.
#[derive(Debug, Clone)]
pub struct Column {
    /// The machine name: the CSV/XLSX header by default, the NDJSON key always.
    pub name: Cow<'static, str>,
    /// The Chinese header, with `labels=zh`.
    pub label_zh: String,
    pub kind: CellKind,
    /// For a column of codes: their Chinese names, written instead of the codes in CSV and XLSX
    /// with `labels=zh`. NDJSON and JSON keep the codes, as the API writes them.
    pub values_zh: Option<ValueLabels>,
}

impl Column {
    pub fn new(name: impl Into<Cow<'static, str>>, label_zh: impl Into<String>, kind: CellKind) -> Self {
        Self { name: name.into(), label_zh: label_zh.into(), kind, values_zh: None }
    }

    /// A column of codes with these Chinese names.
    pub fn with_values_zh(self, labels: ValueLabels) -> Self {
        Self { values_zh: Some(labels), ..self }
    }
}

/// 评价类型: `department_overall` → 部门整体支出绩效自评, …
pub fn kind_zh(code: &str) -> Option<&'static str> {
    serde_plain::from_str::<EvaluationKind>(code).ok().map(EvaluationKind::label_zh)
}

/// 审核状态: `draft` → 草稿, …
pub fn status_zh(code: &str) -> Option<&'static str> {
    Status::parse(code).map(Status::label_zh)
}

/// 评价等级: `excellent` → 优, …
pub fn grade_zh(code: &str) -> Option<&'static str> {
    serde_plain::from_str::<Grade>(code).ok().map(Grade::label_zh)
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Null,
    Text(String),
    Integer(i64),
    Decimal(Decimal),
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Self::Integer(value)
    }
}

impl From<i32> for Cell {
    fn from(value: i32) -> Self {
        Self::Integer(value.into())
    }
}

impl From<Decimal> for Cell {
    fn from(value: Decimal) -> Self {
        Self::Decimal(value)
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Self::Null, Into::into)
    }
}

/// The response format a request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
    Ndjson,
}

impl Format {
    pub fn is_export(self) -> bool {
        self != Self::Json
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Ndjson => "ndjson",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => XLSX_MEDIA_TYPE,
            Self::Ndjson => "application/x-ndjson",
        }
    }
}

/// Which header row CSV and XLSX carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Labels {
    /// The column names (`expenditure_total`).
    #[default]
    En,
    /// The Chinese labels (`支出总计(元)`).
    Zh,
}

/// The format asked for: `format=json|csv|xlsx|ndjson` wins, else the `Accept` header
/// (`text/csv`, the XLSX type, `application/x-ndjson`, by their `q`), else JSON.
pub fn negotiate(req: &HttpRequest, query: &QueryPairs) -> Result<Format, ApiError> {
    if let Some(value) = query.one("format")? {
        return match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            "ndjson" => Ok(Format::Ndjson),
            _ => Err(ApiError::invalid_query("format", format!("`{value}` is not one of json, csv, xlsx, ndjson"))),
        };
    }
    let accept = req.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    Ok(from_accept(&accept))
}

/// `labels=en|zh`, default `en`.
pub fn labels(query: &QueryPairs) -> Result<Labels, ApiError> {
    match query.one("labels")?.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(Labels::En),
        Some(value) if value == "en" => Ok(Labels::En),
        Some(value) if value == "zh" => Ok(Labels::Zh),
        Some(_) => Err(ApiError::invalid_query("labels", "must be `en` (column names) or `zh` (Chinese labels)")),
    }
}

/// The preferred format among the media ranges of an `Accept` header. Only exact export
/// types select an export; wildcards, JSON and anything unknown mean JSON.
fn from_accept(accept: &str) -> Format {
    let mut ranges: Vec<(f32, Format)> = Vec::new();
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| {
                let (name, value) = p.split_once('=')?;
                name.trim().eq_ignore_ascii_case("q").then(|| value.trim().parse::<f32>().ok()).flatten()
            })
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let format = match essence.as_str() {
            "text/csv" => Format::Csv,
            XLSX_MEDIA_TYPE => Format::Xlsx,
            "application/x-ndjson" | "application/ndjson" => Format::Ndjson,
            "application/json" | "*/*" | "application/*" => Format::Json,
            _ => continue,
        };
        ranges.push((q, format));
    }
    // Stable: among equal q the first listed wins.
    ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranges.first().map_or(Format::Json, |(_, format)| *format)
}

/// A page of rows, each with one cell per column in column order.
pub type Rows = Vec<Vec<Cell>>;

/// A source of rows, page by page; an error ends it.
pub type RowStream = Pin<Box<dyn Stream<Item = Result<Rows, ApiError>>>>;

/// Turns a page fetcher into a row stream. `fetch` gets a position (starting with `first`)
/// and returns a page and the next position, `None` after the last page. Each page is
/// fetched only when the previous one has been written, so a slow client holds no
/// database connection and no more than a page in memory.
pub fn pages<P, F, Fut>(first: P, fetch: F) -> impl Stream<Item = Result<Rows, ApiError>>
where
    F: FnMut(P) -> Fut,
    Fut: Future<Output = Result<(Rows, Option<P>), ApiError>>,
{
    stream::try_unfold((Some(first), fetch), |(position, mut fetch)| async move {
        match position {
            None => Ok(None),
            Some(position) => {
                let (rows, next) = fetch(position).await?;
                Ok(Some((rows, (next, fetch))))
            }
        }
    })
}

/// What an export is made of, besides its rows.
pub struct Table {
    pub columns: Vec<Column>,
    pub labels: Labels,
    /// The download's name without extension: `evaluations` → `evaluations.csv`.
    pub file_stem: &'static str,
}

impl Table {
    fn headers(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(move |c| match self.labels {
            Labels::En => c.name.as_ref(),
            Labels::Zh => c.label_zh.as_str(),
        })
    }

    fn disposition(&self, format: Format) -> String {
        format!("attachment; filename=\"{}.{}\"", self.file_stem, format.extension())
    }
}

/// The 422 for an XLSX export over [`XLSX_MAX_ROWS`].
pub fn too_many_rows_for_xlsx(rows: impl std::fmt::Display) -> ApiError {
    invalid_parameter(
        "format",
        "too_many_rows",
        format!(
            "an xlsx export holds at most {XLSX_MAX_ROWS} rows and {rows} match; narrow the filters, set `limit`, \
             or use format=csv or format=ndjson, which stream any number of rows"
        ),
    )
}

/// Answers with the rows in `format`. CSV, NDJSON and JSON (an array of row objects) stream:
/// the first page is awaited so that an early failure is still a proper error response,
/// then each page is written as it comes; a later error is logged and cuts the response
/// short (no final chunk), so the client sees a failed download, not a short file. XLSX
/// collects up to [`XLSX_MAX_ROWS`] rows and builds the workbook on a blocking thread.
pub async fn respond<S>(format: Format, table: Table, rows: S) -> Result<HttpResponse, ApiError>
where
    S: Stream<Item = Result<Rows, ApiError>> + 'static,
{
    let mut rows: RowStream = Box::pin(rows);
    if table.labels == Labels::Zh && matches!(format, Format::Csv | Format::Xlsx) {
        let value_labels: Vec<Option<ValueLabels>> = table.columns.iter().map(|c| c.values_zh).collect();
        if value_labels.iter().any(Option::is_some) {
            rows = Box::pin(rows.map(move |page| {
                page.map(|mut page| {
                    translate(&value_labels, &mut page);
                    page
                })
            }));
        }
    }
    let mut response = HttpResponse::Ok();
    response.content_type(format.content_type());
    if format.is_export() {
        response.insert_header((header::CONTENT_DISPOSITION, table.disposition(format)));
    }
    if format == Format::Xlsx {
        let workbook = xlsx(&table, &mut rows).await?;
        return Ok(response.body(workbook));
    }

    let mut encoder = TextEncoder::new(format, &table.columns);
    let mut head = encoder.head(&table)?;
    match rows.next().await {
        None => {
            head.extend(encoder.tail());
            return Ok(response.body(head));
        }
        Some(first) => head.extend(encoder.page(&first?)?),
    }
    let body = stream::once(future::ready(Ok::<_, ApiError>(web::Bytes::from(head)))).chain(stream::unfold(
        Some((rows, encoder)),
        |state| async move {
            let (mut rows, mut encoder) = state?;
            loop {
                let chunk = match rows.next().await {
                    None => {
                        let tail = encoder.tail();
                        return (!tail.is_empty()).then(|| (Ok(web::Bytes::from(tail)), None));
                    }
                    Some(page) => page.and_then(|page| encoder.page(&page)),
                };
                match chunk {
                    // An empty chunk would end a chunked body early.
                    Ok(bytes) if bytes.is_empty() => continue,
                    Ok(bytes) => return Some((Ok(web::Bytes::from(bytes)), Some((rows, encoder)))),
                    Err(error) => {
                        tracing::error!(
                            error = ?error,
                            rows_written = encoder.rows_written,
                            "export failed after the response began; cutting it short"
                        );
                        return Some((Err(error), None));
                    }
                }
            }
        },
    ));
    Ok(response.streaming(body))
}

/// Replaces each coded text cell by its Chinese name, in the columns that have them; a value
/// without one (a code added later, or free text) is written as it is.
fn translate(value_labels: &[Option<ValueLabels>], rows: &mut Rows) {
    for row in rows {
        for (cell, labels) in row.iter_mut().zip(value_labels) {
            if let (Cell::Text(text), Some(labels)) = (&mut *cell, labels) {
                if let Some(zh) = labels(text) {
                    *cell = Cell::Text(zh.to_owned());
                }
            }
        }
    }
}

/// Writes pages of CSV, NDJSON or a JSON array.
struct TextEncoder {
    format: Format,
    /// The JSON keys, already quoted and escaped.
    keys: Vec<Vec<u8>>,
    rows_written: u64,
}

impl TextEncoder {
    fn new(format: Format, columns: &[Column]) -> Self {
        let keys = columns.iter().map(|c| serde_json::to_vec(c.name.as_ref()).expect("a string serialises")).collect();
        Self { format, keys, rows_written: 0 }
    }

    fn head(&self, table: &Table) -> Result<Vec<u8>, ApiError> {
        match self.format {
            Format::Csv => {
                // The BOM tells Excel the file is UTF-8, so Chinese text opens readable.
                let mut writer = csv_writer("\u{FEFF}".as_bytes().to_vec());
                writer.write_record(table.headers()).map_err(internal)?;
                writer.into_inner().map_err(|e| internal(e.into_error()))
            }
            Format::Json => Ok(b"[".to_vec()),
            Format::Ndjson | Format::Xlsx => Ok(Vec::new()),
        }
    }

    fn page(&mut self, rows: &[Vec<Cell>]) -> Result<Vec<u8>, ApiError> {
        let mut out = Vec::with_capacity(rows.len() * 24 * self.keys.len());
        if self.format == Format::Csv {
            let mut writer = csv_writer(out);
            for row in rows {
                debug_assert_eq!(row.len(), self.keys.len(), "one cell per column");
                writer.write_record(row.iter().map(csv_field)).map_err(internal)?;
            }
            out = writer.into_inner().map_err(|e| internal(e.into_error()))?;
            self.rows_written += rows.len() as u64;
            return Ok(out);
        }
        for row in rows {
            if self.format == Format::Json && self.rows_written > 0 {
                out.push(b',');
            }
            self.json_object(&mut out, row)?;
            if self.format == Format::Ndjson {
                out.push(b'\n');
            }
            self.rows_written += 1;
        }
        Ok(out)
    }

    fn tail(&self) -> Vec<u8> {
        match self.format {
            Format::Json => b"]".to_vec(),
            _ => Vec::new(),
        }
    }

    /// `{"name":value,…}` in column order: decimals as strings (as the JSON API writes
    /// them), integers as numbers, null as null.
    fn json_object(&self, out: &mut Vec<u8>, row: &[Cell]) -> Result<(), ApiError> {
        debug_assert_eq!(row.len(), self.keys.len(), "one cell per column");
        out.push(b'{');
        for (index, (key, cell)) in self.keys.iter().zip(row).enumerate() {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            out.push(b':');
            match cell {
                Cell::Null => out.extend_from_slice(b"null"),
                Cell::Text(text) => serde_json::to_writer(&mut *out, text).map_err(internal)?,
                Cell::Integer(n) => write!(out, "{n}").map_err(internal)?,
                Cell::Decimal(d) => serde_json::to_writer(&mut *out, &d.to_string()).map_err(internal)?,
            }
        }
        out.push(b'}');
        Ok(())
    }
}

fn csv_writer(out: Vec<u8>) -> csv::Writer<Vec<u8>> {
    // RFC 4180: CRLF line ends, fields quoted when they hold a quote, comma or line break.
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(out)
}

fn csv_field(cell: &Cell) -> Cow<'_, [u8]> {
    match cell {
        Cell::Null => Cow::Borrowed(b""),
        Cell::Text(text) => match neutralised(text) {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        },
        Cell::Integer(n) => Cow::Owned(n.to_string().into_bytes()),
        // Exact text with its scale: 18094800.00, never through f64.
        Cell::Decimal(d) => Cow::Owned(d.to_string().into_bytes()),
    }
}

/// Collects the rows into one worksheet (bold, frozen header row; numbers as numbers) and
/// returns the workbook's bytes. The sheet is in constant-memory mode: rows go to a temporary
/// file as they are written, so memory stays flat up to the row cap.
async fn xlsx(table: &Table, rows: &mut RowStream) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::Format as CellFormat;

    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory().map_err(internal)?;
    sheet.set_name(table.file_stem).map_err(internal)?;
    let bold = CellFormat::new().set_bold();
    for (col, header) in table.headers().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, header, &bold).map_err(internal)?;
        sheet.set_column_width(col, display_width(header).clamp(10, 40) as f64 + 2.0).map_err(internal)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(internal)?;
    // Decimals keep their scale on screen: `#,##0.00` for 2 fraction digits.
    let mut decimal_formats: Vec<Option<CellFormat>> = vec![None; 29];
    let mut written = 0usize;
    while let Some(page) = rows.next().await {
        let page = page?;
        if written + page.len() > XLSX_MAX_ROWS {
            return Err(too_many_rows_for_xlsx(format!("more than {XLSX_MAX_ROWS}")));
        }
        for row in page {
            written += 1;
            let r = written as u32;
            for (col, cell) in row.into_iter().enumerate() {
                let col = col as u16;
                match cell {
                    Cell::Null => continue,
                    Cell::Text(text) => sheet.write_string(r, col, excel_text(text)),
                    Cell::Integer(n) => sheet.write_number(r, col, n as f64),
                    Cell::Decimal(d) => {
                        let scale = d.scale() as usize;
                        let format = decimal_formats[scale].get_or_insert_with(|| {
                            let fraction = if scale == 0 { String::new() } else { format!(".{}", "0".repeat(scale)) };
                            CellFormat::new().set_num_format(format!("#,##0{fraction}"))
                        });
                        // Excel has no decimal type; money up to 15 significant digits is exact.
                        sheet.write_number_with_format(r, col, d.to_f64().unwrap_or(f64::NAN), format)
                    }
                }
                .map_err(internal)?;
            }
        }
    }
    web::block(move || workbook.save_to_buffer())
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("building the workbook: {e}")))?
        .map_err(internal)
}

/// Excel keeps at most 32,767 characters in a cell.
fn excel_text(text: String) -> String {
    let text = match neutralised(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(text) => text,
    };
    match text.char_indices().nth(XLSX_MAX_TEXT_CHARS) {
        Some((at, _)) => text[..at].to_owned(),
        None => text,
    }
}

/// A text cell that a spreadsheet would read as a formula (OWASP "CSV injection": it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, which spreadsheets show
/// as text and do not evaluate. Only text cells: numbers and dates are written as numbers.
fn neutralised(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// Width in Excel's character units: CJK characters take two.
fn display_width(text: &str) -> usize {
    text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn internal(error: impl std::error::Error + Send + Sync + 'static) -> ApiError {
    ApiError::Internal(anyhow::Error::new(error))
}

#[cfg(test)]
mod tests {
    use actix_web::{body::to_bytes, test::TestRequest};

    use super::*;

    fn query(text: &str) -> QueryPairs {
        QueryPairs(form_urlencoded::parse(text.as_bytes()).into_owned().collect())
    }

    fn negotiated(accept: Option<&str>, text: &str) -> Result<Format, ApiError> {
        let mut req = TestRequest::default();
        if let Some(accept) = accept {
            req = req.insert_header((header::ACCEPT, accept));
        }
        negotiate(&req.to_http_request(), &query(text))
    }

    #[test]
    fn the_format_parameter_wins_over_accept() {
        assert_eq!(negotiated(Some("text/csv"), "format=ndjson").unwrap(), Format::Ndjson);
        assert_eq!(negotiated(Some("text/csv"), "format=json").unwrap(), Format::Json);
        assert_eq!(negotiated(None, "format=XLSX").unwrap(), Format::Xlsx);
        let error = negotiated(None, "format=pdf").unwrap_err();
        assert_eq!(error.problem().errors[0].field, "format");
        assert_eq!(error.problem().status, 400);
    }

    #[test]
    fn accept_picks_the_preferred_known_type() {
        assert_eq!(negotiated(None, "").unwrap(), Format::Json);
        assert_eq!(negotiated(Some("text/csv"), "").unwrap(), Format::Csv);
        assert_eq!(negotiated(Some("application/x-ndjson"), "").unwrap(), Format::Ndjson);
        assert_eq!(negotiated(Some(XLSX_MEDIA_TYPE), "").unwrap(), Format::Xlsx);
        assert_eq!(negotiated(Some("application/json;q=0.5, text/csv"), "").unwrap(), Format::Csv);
        assert_eq!(negotiated(Some("text/csv;q=0.2, application/json"), "").unwrap(), Format::Json);
        assert_eq!(negotiated(Some("text/csv;q=0"), "").unwrap(), Format::Json);
        assert_eq!(negotiated(Some("text/html,application/xhtml+xml,*/*;q=0.8"), "").unwrap(), Format::Json);
        assert_eq!(negotiated(Some("text/*"), "").unwrap(), Format::Json);
    }

    #[test]
    fn labels_are_en_or_zh() {
        assert_eq!(labels(&query("")).unwrap(), Labels::En);
        assert_eq!(labels(&query("labels=zh")).unwrap(), Labels::Zh);
        assert_eq!(labels(&query("labels=en")).unwrap(), Labels::En);
        assert_eq!(labels(&query("labels=fr")).unwrap_err().problem().errors[0].field, "labels");
    }

    fn table(labels: Labels) -> Table {
        Table {
            columns: vec![
                Column::new("unit", "单位名称", CellKind::Text),
                Column::new("fiscal_year", "年度", CellKind::Integer),
                Column::new("expenditure_total", "支出总计(元)", CellKind::Decimal),
            ],
            labels,
            file_stem: "evaluations",
        }
    }

    fn two_pages() -> impl Stream<Item = Result<Rows, ApiError>> {
        pages(0, |n: u32| async move {
            let rows = match n {
                0 => vec![
                    vec![
                        Cell::from("荫田镇, \"人民政府\""),
                        Cell::from(2022),
                        Cell::from(Decimal::new(1_809_480_000, 2)),
                    ],
                    vec![Cell::from("line\nbreak"), Cell::from(2021), Cell::Null],
                ],
                _ => vec![vec![Cell::from("柏坊镇"), Cell::from(2022), Cell::from(Decimal::new(50, 1))]],
            };
            Ok((rows, (n == 0).then_some(1)))
        })
    }

    /// The response's content type and disposition, and its body.
    async fn body(format: Format, labels: Labels) -> ([String; 2], Vec<u8>) {
        let response = respond(format, table(labels), two_pages()).await.unwrap();
        let header = |name| response.headers().get(name).map_or("", |v| v.to_str().unwrap()).to_owned();
        let headers = [header(header::CONTENT_TYPE), header(header::CONTENT_DISPOSITION)];
        (headers, to_bytes(response.into_body()).await.unwrap().to_vec())
    }

    #[actix_web::test]
    async fn csv_has_a_bom_quotes_fields_and_keeps_decimals_exact() {
        let (headers, bytes) = body(Format::Csv, Labels::En).await;
        assert_eq!(headers, ["text/csv; charset=utf-8", "attachment; filename=\"evaluations.csv\""]);
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF");
        assert_eq!(
            std::str::from_utf8(&bytes[3..]).unwrap(),
            "unit,fiscal_year,expenditure_total\r\n\
             \"荫田镇, \"\"人民政府\"\"\",2022,18094800.00\r\n\
             \"line\nbreak\",2021,\r\n\
             柏坊镇,2022,5.0\r\n"
        );
        let (_, zh) = body(Format::Csv, Labels::Zh).await;
        assert!(std::str::from_utf8(&zh[3..]).unwrap().starts_with("单位名称,年度,支出总计(元)\r\n"));
    }

    #[actix_web::test]
    async fn labels_zh_names_the_codes_of_columns_that_have_names_in_csv_only() {
        let table = |labels| Table {
            columns: vec![
                Column::new("status", "审核状态", CellKind::Text).with_values_zh(status_zh),
                Column::new("unit", "单位名称", CellKind::Text),
                Column::new("records", "记录数", CellKind::Integer),
            ],
            labels,
            file_stem: "evaluations",
        };
        let rows = || {
            stream::iter([Ok(vec![
                vec![Cell::from("draft"), Cell::from("draft"), Cell::from(3)],
                vec![Cell::from("archived"), Cell::Null, Cell::Null],
            ])])
        };
        let text = |format, labels| async move {
            let response = respond(format, table(labels), rows()).await.unwrap();
            String::from_utf8(to_bytes(response.into_body()).await.unwrap().to_vec()).unwrap()
        };
        assert_eq!(
            text(Format::Csv, Labels::Zh).await,
            "\u{feff}审核状态,单位名称,记录数\r\n草稿,draft,3\r\narchived,,\r\n",
            "a code without a name is written as it is"
        );
        assert_eq!(
            text(Format::Csv, Labels::En).await,
            "\u{feff}status,unit,records\r\ndraft,draft,3\r\narchived,,\r\n"
        );
        assert!(text(Format::Ndjson, Labels::Zh).await.starts_with("{\"status\":\"draft\","));
        assert_eq!(kind_zh("department_overall"), Some("部门整体支出绩效自评"));
        assert_eq!(grade_zh("fair"), Some("中"));
        assert_eq!(status_zh("published"), Some("已公开"));
        assert_eq!(grade_zh("草稿"), None);
    }

    #[test]
    fn text_that_a_spreadsheet_would_evaluate_is_neutralised() {
        for formula in ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_field(&Cell::Text(formula.to_owned())).as_ref(), format!("'{formula}").as_bytes());
            assert_eq!(excel_text(formula.to_owned()), format!("'{formula}"));
        }
        for text in ["荫田镇", "1+1", "a=b", ""] {
            assert_eq!(csv_field(&Cell::Text(text.to_owned())).as_ref(), text.as_bytes());
            assert_eq!(excel_text(text.to_owned()), text);
        }
        let negative = Decimal::new(-123, 2);
        assert_eq!(csv_field(&Cell::Decimal(negative)).as_ref(), b"-1.23", "numbers stay numbers");
        assert_eq!(csv_field(&Cell::Integer(-5)).as_ref(), b"-5");
    }

    #[actix_web::test]
    async fn ndjson_and_json_write_one_object_per_row() {
        let (headers, bytes) = body(Format::Ndjson, Labels::Zh).await;
        assert_eq!(headers, ["application/x-ndjson", "attachment; filename=\"evaluations.ndjson\""]);
        let lines: Vec<serde_json::Value> =
            std::str::from_utf8(&bytes).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(
            lines[0],
            serde_json::json!({"unit": "荫田镇, \"人民政府\"", "fiscal_year": 2022, "expenditure_total": "18094800.00"})
        );
        assert_eq!(lines[1]["expenditure_total"], serde_json::Value::Null);
        assert_eq!(lines.len(), 3);

        let (_, bytes) = body(Format::Json, Labels::En).await;
        let array: Vec<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(array, lines);
    }

    #[actix_web::test]
    async fn xlsx_is_a_zip_workbook() {
        let (headers, bytes) = body(Format::Xlsx, Labels::En).await;
        assert_eq!(headers, [XLSX_MEDIA_TYPE, "attachment; filename=\"evaluations.xlsx\""]);
        assert_eq!(&bytes[..2], b"PK");
    }

    #[actix_web::test]
    async fn an_error_before_the_first_page_is_an_error_response() {
        let failing = stream::iter([Err::<Rows, _>(ApiError::Unavailable("down".into()))]);
        let error = respond(Format::Csv, table(Labels::En), failing).await.unwrap_err();
        assert_eq!(error.problem().status, 503);
    }

    #[actix_web::test]
    async fn an_error_after_the_first_page_cuts_the_body_short() {
        let rows = stream::iter([
            Ok(vec![vec![Cell::from("a"), Cell::from(1), Cell::Null]]),
            Err(ApiError::Unavailable("down".into())),
        ]);
        let response = respond(Format::Csv, table(Labels::En), rows).await.unwrap();
        assert!(to_bytes(response.into_body()).await.is_err());
    }

    #[actix_web::test]
    async fn xlsx_stops_past_its_row_cap() {
        let page = || vec![vec![Cell::Integer(1), Cell::Null, Cell::Null]; 1000];
        let rows = stream::iter((0..=XLSX_MAX_ROWS / 1000).map(move |_| Ok(page())));
        let error = respond(Format::Xlsx, table(Labels::En), rows).await.unwrap_err();
        let problem = error.problem();
        assert_eq!((problem.status, problem.errors[0].field.as_str()), (422, "format"));
        assert!(problem.detail.contains("format=csv"), "{}", problem.detail);
    }

    #[test]
    fn long_text_is_cut_to_what_excel_keeps() {
        assert_eq!(excel_text("荫".repeat(40_000)).chars().count(), XLSX_MAX_TEXT_CHARS);
        assert_eq!(excel_text("short".into()), "short");
    }
}
