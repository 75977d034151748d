//! The record filters shared by lists, exports and aggregates: `fiscal_year`, `region`,
//! `status`, `kind`, `grade`, `q`.
use serde::{de::DeserializeOwned, Serialize};

use crate::{
    db::evaluation_list::ListFilter,
    domain::{
        record::{EvaluationKind, Grade, Status},
        region_code::RegionCode,
        validation::FISCAL_YEARS,
    },
    error::ApiError,
    routes::{invalid_parameter, QueryPairs},
};

/// The filter parameters' names.
pub const FILTER_PARAMETERS: [&str; 6] = ["fiscal_year", "region", "status", "kind", "grade", "q"];

/// Reads the filters from the query, naming any malformed parameter (400).
pub fn parse_filter(query: &QueryPairs) -> Result<ListFilter, ApiError> {
    Ok(ListFilter {
        fiscal_years: query.one("fiscal_year")?.map(parse_years).transpose()?,
        region_prefixes: region_prefixes(query)?,
        statuses: enum_values::<Status>(query, "status")?,
        kinds: enum_values::<EvaluationKind>(query, "kind")?,
        grades: enum_values::<Grade>(query, "grade")?,
        unit_contains: match query.one("q")? {
            Some(q) if q.contains('\0') => return Err(ApiError::invalid_query("q", "must not contain NUL characters")),
            Some(q) if !q.is_empty() => Some(q.to_owned()),
            _ => None,
        },
        updated_since: None,
        // The handler sets the caller's own; until then, the least.
        visibility: Default::default(),
    })
}

/// `2022` or `2019..2024`; a range that runs backwards is well formed but empty (422).
pub fn parse_years(text: &str) -> Result<(i16, i16), ApiError> {
    let bad = || {
        ApiError::invalid_query(
            "fiscal_year",
            "must be a year (2022) or an inclusive range (2019..2024) within 1990–2100",
        )
    };
    let year = |t: &str| {
        (t.len() == 4).then(|| t.parse::<i32>().ok()).flatten().filter(|y| FISCAL_YEARS.contains(y)).map(|y| y as i16)
    };
    let (from, to) = match text.split_once("..") {
        Some((from, to)) => (year(from).ok_or_else(bad)?, year(to).ok_or_else(bad)?),
        None => {
            let y = year(text).ok_or_else(bad)?;
            (y, y)
        }
    };
    if from > to {
        return Err(invalid_parameter(
            "fiscal_year",
            "backwards_range",
            "the range runs backwards: give the earlier year first",
        ));
    }
    Ok((from, to))
}

/// Every `region`: a division code (`43`, `4304`, `430482`, `430482104`), under which records are selected.
pub fn region_prefixes(query: &QueryPairs) -> Result<Vec<String>, ApiError> {
    query
        .all("region")?
        .iter()
        .map(|code| {
            RegionCode::parse(code).map(|c| c.to_string()).map_err(|e| ApiError::invalid_query("region", e.to_string()))
        })
        .collect()
}

/// Every value of a parameter naming one of `T`'s values.
pub fn enum_values<T: DeserializeOwned + Serialize>(query: &QueryPairs, name: &str) -> Result<Vec<String>, ApiError> {
    query
        .all(name)?
        .into_iter()
        .map(|value| {
            serde_plain::from_str::<T>(&value)
                .map(|_| value.clone())
                .map_err(|_| ApiError::invalid_query(name, format!("`{value}` is not a known value")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_years_and_ranges() {
        assert_eq!(parse_years("2022").unwrap(), (2022, 2022));
        assert_eq!(parse_years("2019..2024").unwrap(), (2019, 2024));
        for bad in ["2024..2019", "22", "2019..", "1989", "x", " 2022", "+2022", "02022"] {
            assert!(parse_years(bad).is_err(), "{bad}");
        }
    }
}
