//! Statistical division codes (统计用区划代码): 2/4/6/9 digits, 12-digit township form accepted.
use std::fmt;

/// Level of a division, told by the length of its code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    /// 省级 (2 digits)
    Province,
    /// 地级 (4 digits)
    Prefecture,
    /// 县级 (6 digits)
    County,
    /// 乡级 (9 digits)
    Township,
}

impl RegionLevel {
    pub const ALL: [RegionLevel; 4] = [Self::Province, Self::Prefecture, Self::County, Self::Township];

    /// Digits in a code of this level.
    pub fn code_len(self) -> usize {
        match self {
            Self::Province => 2,
            Self::Prefecture => 4,
            Self::County => 6,
            Self::Township => 9,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::Prefecture => "prefecture",
            Self::County => "county",
            Self::Township => "township",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == text)
    }
}

/// A well-formed division code, normalised (the 12-digit form becomes 9 digits).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode(String);

/// Why a text is not a region code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionCodeError(pub &'static str);

impl fmt::Display for RegionCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl RegionCode {
    /// Parses `43`, `4304`, `430482`, `430482104` or `430482104000`.
    pub fn parse(text: &str) -> Result<Self, RegionCodeError> {
        if !text.bytes().all(|b| b.is_ascii_digit()) || text.is_empty() {
            return Err(RegionCodeError("a region code has only digits: 2, 4, 6, 9 or 12 of them"));
        }
        match text.len() {
            2 | 4 | 6 | 9 => Ok(Self(text.to_owned())),
            12 if text.ends_with("000") => Ok(Self(text[..9].to_owned())),
            12 => Err(RegionCodeError("a 12-digit township code ends in 000")),
            _ => Err(RegionCodeError("a region code has 2, 4, 6, 9 or 12 digits")),
        }
    }

    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            2 => RegionLevel::Province,
            4 => RegionLevel::Prefecture,
            6 => RegionLevel::County,
            _ => RegionLevel::Township,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The codes of every level above this one, top first (`43`, `4304`, `430482` for a township).
    pub fn ancestors(&self) -> Vec<RegionCode> {
        RegionLevel::ALL
            .into_iter()
            .map(RegionLevel::code_len)
            .filter(|&len| len < self.0.len())
            .map(|len| Self(self.0[..len].to_owned()))
            .collect()
    }

    /// The code of the given (higher or equal) level that contains this one.
    pub fn at_level(&self, level: RegionLevel) -> Option<RegionCode> {
        (level.code_len() <= self.0.len()).then(|| Self(self.0[..level.code_len()].to_owned()))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_level() {
        assert_eq!(RegionCode::parse("43").unwrap().level(), RegionLevel::Province);
        assert_eq!(RegionCode::parse("4304").unwrap().level(), RegionLevel::Prefecture);
        assert_eq!(RegionCode::parse("430482").unwrap().level(), RegionLevel::County);
        assert_eq!(RegionCode::parse("430482104").unwrap().level(), RegionLevel::Township);
    }

    #[test]
    fn normalises_the_twelve_digit_form() {
        assert_eq!(RegionCode::parse("430482104000").unwrap().as_str(), "430482104");
        assert!(RegionCode::parse("430482104001").is_err());
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in ["", "4", "430", "43048210", "4304821040", "43a482104", " 430482104", "４３"] {
            assert!(RegionCode::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn lists_ancestors_top_first() {
        let code = RegionCode::parse("430482104").unwrap();
        let ancestors: Vec<String> = code.ancestors().iter().map(ToString::to_string).collect();
        assert_eq!(ancestors, ["43", "4304", "430482"]);
        assert_eq!(code.at_level(RegionLevel::County).unwrap().as_str(), "430482");
        assert!(RegionCode::parse("43").unwrap().ancestors().is_empty());
    }
}
