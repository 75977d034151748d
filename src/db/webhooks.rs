//! Webhook endpoints and their deliveries.
//!
//! The change feed (`changes`) is the outbox: each write stores its change in its own
//! transaction. A deliverer in every service instance fans new changes out into one delivery
//! per matching endpoint, then claims due deliveries with `FOR UPDATE SKIP LOCKED` and keeps
//! them locked while it sends them. So instances never send the same delivery at once, and the
//! deliveries of an instance that dies are unlocked when its connection drops and sent by another.
use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*, sql_types};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::changes::ChangeRow;
use super::schema::{webhook_deliveries as deliveries, webhooks};

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(Pg))]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub region_code: Option<String>,
    pub secret: String,
    pub after_seq: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// An endpoint to register.
pub struct NewWebhook<'a> {
    pub url: &'a str,
    pub events: Vec<String>,
    pub region_code: Option<String>,
    pub secret: &'a str,
    pub created_by: &'a str,
}

/// One event for one endpoint.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = deliveries, check_for_backend(Pg))]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub change_seq: i64,
    pub evaluation_id: i64,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Registers an endpoint; it is sent the changes that commit from now on.
pub async fn create(conn: &mut AsyncPgConnection, new: NewWebhook<'_>) -> QueryResult<WebhookRow> {
    let after = super::changes::latest(conn).await?;
    diesel::insert_into(webhooks::table)
        .values((
            webhooks::url.eq(new.url),
            webhooks::events.eq(new.events),
            webhooks::region_code.eq(new.region_code),
            webhooks::secret.eq(new.secret),
            webhooks::after_seq.eq(after),
            webhooks::created_by.eq(new.created_by),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table.select(WebhookRow::as_select()).order(webhooks::id).load(conn).await
}

pub async fn get(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<WebhookRow>> {
    webhooks::table.find(id).select(WebhookRow::as_select()).first(conn).await.optional()
}

/// Removes an endpoint and its deliveries; false when there was none.
pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<bool> {
    Ok(diesel::delete(webhooks::table.find(id)).execute(conn).await? > 0)
}

/// An endpoint's deliveries after delivery `after` (by id), oldest first.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    webhook_id: i64,
    state: Option<&str>,
    after: i64,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = deliveries::table
        .select(DeliveryRow::as_select())
        .filter(deliveries::webhook_id.eq(webhook_id))
        .filter(deliveries::id.gt(after))
        .into_boxed();
    if let Some(state) = state {
        query = query.filter(deliveries::state.eq(state.to_owned()));
    }
    query.order(deliveries::id).limit(limit).load(conn).await
}

/// Sends a delivery again from its first attempt (a failed one, or a delivered one the
/// receiver lost). `None` when the endpoint has no such delivery.
pub async fn replay(conn: &mut AsyncPgConnection, webhook_id: i64, id: i64) -> QueryResult<Option<DeliveryRow>> {
    diesel::update(deliveries::table.find(id).filter(deliveries::webhook_id.eq(webhook_id)))
        .set((
            deliveries::state.eq("pending"),
            deliveries::attempts.eq(0),
            deliveries::next_attempt_at.eq(diesel::dsl::now),
            deliveries::delivered_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// The most changes one fan-out takes per endpoint.
const FAN_OUT_BATCH: i64 = 1_000;

/// Makes the deliveries of the changes committed since each endpoint's position, and moves the
/// position past every change looked at. Endpoints another instance is fanning out are skipped.
/// Returns how many endpoints moved.
pub async fn fan_out(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    use diesel_async::AsyncConnection;
    conn.transaction(async |conn| {
        let endpoints: Vec<(i64, i64)> = webhooks::table
            .select((webhooks::id, webhooks::after_seq))
            .order(webhooks::id)
            // Not FOR UPDATE: a delivery's foreign key takes KEY SHARE on its endpoint, which
            // FOR UPDATE would block (and deadlock with an insert waiting on this fan-out).
            .for_no_key_update()
            .skip_locked()
            .load(conn)
            .await?;
        let mut moved = 0;
        for (id, after) in endpoints {
            moved += diesel::sql_query(FAN_OUT)
                .bind::<sql_types::BigInt, _>(id)
                .bind::<sql_types::BigInt, _>(after)
                .bind::<sql_types::BigInt, _>(FAN_OUT_BATCH)
                .execute(conn)
                .await?;
        }
        Ok(moved)
    })
    .await
}

/// One endpoint's fan-out: the next changes after its position that match its events and
/// region become deliveries, and its position moves past all of them.
const FAN_OUT: &str = "\
WITH endpoint AS (SELECT id, events, region_code FROM webhooks WHERE id = $1),
scanned AS (
    SELECT seq, evaluation_id, action, region_code FROM changes
    WHERE seq > $2 ORDER BY seq LIMIT $3
),
made AS (
    INSERT INTO webhook_deliveries (webhook_id, change_seq, evaluation_id)
    SELECT e.id, s.seq, s.evaluation_id FROM scanned s, endpoint e
    WHERE (cardinality(e.events) = 0 OR s.action = ANY (e.events))
      AND (e.region_code IS NULL OR (s.region_code >= e.region_code AND s.region_code < e.region_code || '~'))
    ORDER BY s.seq
    ON CONFLICT DO NOTHING
)
UPDATE webhooks SET after_seq = (SELECT max(seq) FROM scanned)
WHERE id = $1 AND EXISTS (SELECT 1 FROM scanned)";

/// A delivery claimed for sending, with what it sends.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = sql_types::BigInt)]
    pub id: i64,
    #[diesel(sql_type = sql_types::BigInt)]
    pub webhook_id: i64,
    #[diesel(sql_type = sql_types::Integer)]
    pub attempts: i32,
    #[diesel(sql_type = sql_types::Text)]
    pub url: String,
    #[diesel(sql_type = sql_types::Text)]
    pub secret: String,
    #[diesel(embed)]
    pub change: ChangeRow,
}

/// Due deliveries, locked until the calling transaction ends, skipping those another instance
/// holds. A delivery waits while an earlier one of the same record to the same endpoint is
/// pending, so each endpoint gets a record's events in order.
pub const CLAIM: &str = "\
SELECT d.id, d.webhook_id, d.attempts, w.url, w.secret, c.seq, c.evaluation_id, c.region_code, c.fiscal_year,
       c.kind, c.unit, c.project_name, c.revision, c.action, c.status, c.previous_status, c.actor, c.at
FROM webhook_deliveries d
JOIN webhooks w ON w.id = d.webhook_id
JOIN changes c ON c.seq = d.change_seq
WHERE d.state = 'pending' AND d.next_attempt_at <= now()
  AND NOT EXISTS (
      SELECT 1 FROM webhook_deliveries earlier
      WHERE earlier.webhook_id = d.webhook_id AND earlier.evaluation_id = d.evaluation_id
        AND earlier.state = 'pending' AND earlier.change_seq < d.change_seq
  )
ORDER BY d.change_seq
LIMIT $1
FOR UPDATE OF d SKIP LOCKED";

/// What one attempt came to.
pub enum Outcome {
    Delivered { status: u16 },
    Failed { status: Option<u16>, error: String },
}

/// Records an attempt: delivered, or failed and retried after `retry_after` until the
/// attempt `max_attempts`, after which it stays failed until replayed.
pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    claimed: &Claimed,
    outcome: &Outcome,
    retry_after: std::time::Duration,
    max_attempts: i32,
) -> QueryResult<()> {
    let attempts = claimed.attempts + 1;
    let target = deliveries::table.find(claimed.id);
    match outcome {
        Outcome::Delivered { status } => {
            diesel::update(target)
                .set((
                    deliveries::state.eq("delivered"),
                    deliveries::attempts.eq(attempts),
                    deliveries::last_status.eq(Some(*status as i16)),
                    deliveries::last_error.eq(None::<String>),
                    deliveries::delivered_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
        }
        Outcome::Failed { status, error } => {
            let next = Utc::now() + chrono::Duration::from_std(retry_after).unwrap_or(chrono::Duration::hours(1));
            diesel::update(target)
                .set((
                    deliveries::state.eq(if attempts >= max_attempts { "failed" } else { "pending" }),
                    deliveries::attempts.eq(attempts),
                    deliveries::last_status.eq(status.map(|s| s as i16)),
                    deliveries::last_error.eq(Some(error.as_str())),
                    deliveries::next_attempt_at.eq(next),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}
