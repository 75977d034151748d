//! Exact decimal rules for amounts (元), rates and indicator values.
use rust_decimal::Decimal;

/// Largest amount a NUMERIC(16, 2) column holds: 10^14 − 0.01 元.
pub fn max_amount() -> Decimal {
    Decimal::new(9_999_999_999_999_999, 2)
}

/// Fraction digits that carry information: `1.50` has one, `12939.000` none.
pub fn significant_scale(value: Decimal) -> u32 {
    value.normalize().scale()
}

/// The value with exactly `scale` fraction digits, for a canonical text form (`"18094800.00"`).
/// Only call once `significant_scale(value) <= scale` holds, so nothing is rounded away.
pub fn with_scale(mut value: Decimal, scale: u32) -> Decimal {
    value.rescale(scale);
    value
}

/// Fraction digits a rate, share or percentage change is written with at least (a percentage with
/// two decimals).
pub const RATE_SCALE: u32 = 4;

/// A rate in canonical form: its own digits, and at least four (`1` → `1.0000`). Also what a rate
/// read back from the database is brought to, since a zero is stored without its fraction digits.
pub fn canonical_rate(value: Decimal) -> Decimal {
    with_scale(value, significant_scale(value).max(RATE_SCALE))
}

/// 万元 → 元, exactly.
pub fn wan_to_yuan(wan: Decimal) -> Decimal {
    wan * Decimal::from(10_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn converts_wan_exactly() {
        let yuan = with_scale(wan_to_yuan(Decimal::from_str("1809.48").unwrap()), 2);
        assert_eq!(yuan.to_string(), "18094800.00");
    }

    #[test]
    fn counts_only_significant_fraction_digits() {
        assert_eq!(significant_scale(Decimal::from_str("1.50").unwrap()), 1);
        assert_eq!(significant_scale(Decimal::from_str("12939.000").unwrap()), 0);
        assert_eq!(significant_scale(Decimal::from_str("0.125").unwrap()), 3);
    }

    #[test]
    fn canonical_form_has_two_decimals() {
        assert_eq!(with_scale(Decimal::from(5), 2).to_string(), "5.00");
        assert_eq!(with_scale(Decimal::from_str("0.8").unwrap(), 4).to_string(), "0.8000");
        assert_eq!(max_amount().to_string(), "99999999999999.99");
    }
}
