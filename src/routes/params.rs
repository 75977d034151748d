//! The shapes of query values that several operations share, stated once for the OpenAPI
//! document so that a generated client can check a value before it sends it. The handlers
//! read the query themselves (`QueryPairs`); these types only describe it, and
//! `tests/api/openapi.rs` checks each pattern against the parsers on the same samples.
#![allow(dead_code)]

use utoipa::ToSchema;

/// 区划代码: 2, 4, 6 or 9 digits, or a 12-digit township code ending in `000` (read as its 9)
#[derive(ToSchema)]
#[schema(pattern = "^[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{3}(?:000)?)?)?)?$", example = "430482")]
pub struct RegionCodeText(String);

/// 年度: one year from 1990 to 2100 (`2022`), or an inclusive range of two (`2019..2024`)
#[derive(ToSchema)]
#[schema(pattern = "^(?:199[0-9]|20[0-9]{2}|2100)(?:\\.\\.(?:199[0-9]|20[0-9]{2}|2100))?$", example = "2019..2024")]
pub struct FiscalYears(String);

/// An opaque cursor that a previous page gave out (URL-safe base64)
#[derive(ToSchema)]
#[schema(pattern = "^[A-Za-z0-9_-]+$")]
pub struct Cursor(String);

/// Free text to look for; any characters but NUL
#[derive(ToSchema)]
#[schema(pattern = "^[^\\u0000]*$", example = "荫田")]
pub struct SearchText(String);
