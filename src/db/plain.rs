//! Text columns that hold an enum's snake_case name (`draft`, `department_overall`), read into
//! the enum from the row's bytes: no `String` per value, then a second parse.
use diesel::{
    deserialize::{self, FromSql},
    pg::{Pg, PgValue},
    sql_types::{Nullable, Text},
};
use serde::de::DeserializeOwned;

use crate::domain::record::{EvaluationKind, Grade, Status};

/// A TEXT column as `T`, for `#[diesel(deserialize_as = Plain<T>)]` on a `T` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Plain<T>(pub T);

/// A nullable TEXT column as `Option<T>`, for `#[diesel(deserialize_as = OptionalPlain<T>)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct OptionalPlain<T>(pub Option<T>);

/// The value's text as `T`, read as every other stored enum is (`db::evaluations::parse`).
fn parse<T: DeserializeOwned>(value: PgValue<'_>) -> deserialize::Result<T> {
    Ok(super::evaluations::parse("text", std::str::from_utf8(value.as_bytes())?)?)
}

impl<T: DeserializeOwned> FromSql<Text, Pg> for Plain<T> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        parse(value).map(Self)
    }
}

impl<T: DeserializeOwned> FromSql<Nullable<Text>, Pg> for OptionalPlain<T> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        parse(value).map(|v| Self(Some(v)))
    }

    fn from_nullable_sql(value: Option<PgValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), Self::from_sql)
    }
}

impl From<Plain<EvaluationKind>> for EvaluationKind {
    fn from(value: Plain<EvaluationKind>) -> Self {
        value.0
    }
}

impl From<Plain<Status>> for Status {
    fn from(value: Plain<Status>) -> Self {
        value.0
    }
}

impl From<OptionalPlain<Grade>> for Option<Grade> {
    fn from(value: OptionalPlain<Grade>) -> Self {
        value.0
    }
}
