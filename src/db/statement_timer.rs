//! Every statement a pooled connection sends is timed into `/metrics`'s statement histogram,
//! labelled by its first keyword and its outcome (never its text).
use std::{collections::VecDeque, fmt::Write as _, time::Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::AsyncPgConnection;

/// The histogram's name.
pub const DB_STATEMENT_DURATION: &str = "perfeval_db_statement_duration_seconds";

/// Times the statements of one connection ([`DB_STATEMENT_DURATION`]), from the moment diesel
/// hands a statement to the connection to its answer (for a query that returns rows, its first).
///
/// A connection may have several statements in flight at once (diesel-async pipelines the
/// queries of a `join!`); PostgreSQL answers them in order, so starts are matched with answers
/// first in, first out. A statement whose future was dropped before its answer (a client gone,
/// a sibling's error in a `try_join!`) leaves a start behind: the queue is emptied whenever the
/// pool hands the connection out again ([`StatementTimer::reset`]).
#[derive(Debug, Default)]
pub struct StatementTimer {
    started: VecDeque<Instant>,
}

/// Most statements in flight on one connection that are timed.
const MAX_IN_FLIGHT: usize = 64;

impl StatementTimer {
    /// Forgets the starts of statements that never got their answer.
    pub fn reset(conn: &mut AsyncPgConnection) {
        use diesel_async::AsyncConnection;
        if let Some(timer) = conn.instrumentation().downcast_mut::<StatementTimer>() {
            timer.started.clear();
        }
    }
}

impl Instrumentation for StatementTimer {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                if self.started.len() == MAX_IN_FLIGHT {
                    self.started.pop_front();
                }
                self.started.push_back(Instant::now());
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                let Some(started) = self.started.pop_front() else { return };
                let outcome = if error.is_some() { "error" } else { "ok" };
                ::metrics::histogram!(DB_STATEMENT_DURATION, "kind" => statement_kind(query), "outcome" => outcome)
                    .record(started.elapsed());
            }
            _ => {}
        }
    }
}

/// The kind of a statement, from its first keyword: `select`, `insert`, `update`, `delete`,
/// `with`, `transaction` (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) or `other`. Only the
/// first few characters of the text are looked at; the SQL itself is never a label.
fn statement_kind(query: &dyn std::fmt::Display) -> &'static str {
    let mut head = Keyword::default();
    // Stops (with an error, which is the point) at the first character after the keyword.
    let _ = write!(head, "{query}");
    match &head.bytes[..head.len] {
        b"SELECT" => "select",
        b"INSERT" => "insert",
        b"UPDATE" => "update",
        b"DELETE" => "delete",
        b"WITH" => "with",
        b"BEGIN" | b"COMMIT" | b"ROLLBACK" | b"SAVEPOINT" | b"RELEASE" => "transaction",
        _ => "other",
    }
}

/// The leading keyword of a text, upper-cased, past any white space and opening parentheses.
#[derive(Default)]
struct Keyword {
    bytes: [u8; 10],
    len: usize,
}

impl std::fmt::Write for Keyword {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        for byte in text.bytes() {
            if self.len == 0 && (byte.is_ascii_whitespace() || byte == b'(') {
                continue;
            }
            if !byte.is_ascii_alphabetic() || self.len == self.bytes.len() {
                return Err(std::fmt::Error);
            }
            self.bytes[self.len] = byte.to_ascii_uppercase();
            self.len += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_told_apart_by_their_first_keyword_only() {
        assert_eq!(statement_kind(&"SELECT 1"), "select");
        assert_eq!(statement_kind(&"  (select x from t) union (select y from u)"), "select");
        assert_eq!(statement_kind(&"INSERT INTO \"evaluations\" (\"a\") VALUES ($1) -- binds: [1]"), "insert");
        assert_eq!(statement_kind(&"update t set a = 1"), "update");
        assert_eq!(statement_kind(&"DELETE FROM t"), "delete");
        assert_eq!(statement_kind(&"WITH x AS (SELECT 1) SELECT * FROM x"), "with");
        assert_eq!(statement_kind(&"BEGIN"), "transaction");
        assert_eq!(statement_kind(&"ROLLBACK TO SAVEPOINT diesel_savepoint_1"), "transaction");
        assert_eq!(statement_kind(&"SET statement_timeout = 30000"), "other");
        assert_eq!(statement_kind(&"SELECTED"), "other");
        assert_eq!(statement_kind(&"-- a comment\nSELECT 1"), "other");
        assert_eq!(statement_kind(&""), "other");
    }
}
