//! The webhook deliverer: a task in every service instance that sends each change to the
//! endpoints registered for it, signed, at least once, in order per record, with retries.
//!
//! Each round fans new changes out into deliveries ([`db::webhooks::fan_out`]), then claims due
//! deliveries with `FOR UPDATE SKIP LOCKED` and sends them while holding the lock, so two
//! instances never send one delivery at once and a dead instance's deliveries are unlocked
//! (and sent by another) as soon as its connection drops. While no endpoint is registered the
//! task holds no connection and only looks again every ten polls (or at once when an endpoint
//! is registered through this instance).
use std::{sync::Arc, time::Duration};

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use crate::{
    config::WebhookSettings,
    db::{
        self,
        webhooks::{Claimed, Outcome},
    },
    domain::webhook_target::check_target,
    routes::changes::ChangeView,
};

/// The event an endpoint receives: the JSON body POSTed to a registered webhook URL (listed
/// among the document's schemas for receivers to generate their type from).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// The change's number: the same for every attempt, so a receiver drops repeats by it
    pub id: i64,
    /// `evaluation.` and the action (`evaluation.submit`, `evaluation.delete`)
    #[serde(rename = "type")]
    pub event_type: String,
    pub webhook_id: i64,
    pub delivery_id: i64,
    pub data: ChangeView,
}

/// The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the
/// endpoint's secret>`.
pub const SIGNATURE_HEADER: &str = "perfeval-signature";

/// `t=…,v1=…` for `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// The deliveries one round claims and sends together.
const CLAIM_BATCH: i64 = 16;

/// Starts the deliverer on the current runtime. `wake` makes it look at once.
pub fn spawn(database_url: String, settings: WebhookSettings, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move { run(database_url, settings, wake).await })
}

async fn run(database_url: String, settings: WebhookSettings, wake: Arc<Notify>) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("perfeval/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "webhook deliverer: no HTTP client; webhooks are not sent");
            return;
        }
    };
    let poll = Duration::from_millis(settings.poll_ms.max(10));
    let mut conn: Option<AsyncPgConnection> = None;
    loop {
        let idle = conn.is_none();
        let wait = if idle { poll * 10 } else { poll };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
        }
        if conn.is_none() {
            match db::connect(&database_url).await {
                Ok(fresh) => conn = Some(fresh),
                Err(error) => {
                    tracing::warn!(error = %format!("{error:#}"), "webhook deliverer: database unavailable");
                    continue;
                }
            }
        }
        let Some(active) = conn.as_mut() else { continue };
        match round(active, &client, &settings).await {
            // No endpoint: hold no connection while there is nothing to do.
            Ok(false) => conn = None,
            Ok(true) => {}
            Err(error) => {
                tracing::warn!(%error, "webhook deliverer: a round failed; reconnecting");
                conn = None;
            }
        }
    }
}

/// One round: fan out, then send until nothing is due. False when no endpoint is registered.
async fn round(
    conn: &mut AsyncPgConnection,
    client: &reqwest::Client,
    settings: &WebhookSettings,
) -> diesel::QueryResult<bool> {
    use diesel::QueryDsl;
    let any: bool = diesel::select(diesel::dsl::exists(db::schema::webhooks::table.select(db::schema::webhooks::id)))
        .get_result(conn)
        .await?;
    if !any {
        return Ok(false);
    }
    db::webhooks::fan_out(conn).await?;
    while send_due(conn, client, settings).await? > 0 {}
    Ok(true)
}

/// Claims due deliveries, sends them and records the outcomes, in one transaction that keeps
/// them locked while they are sent. Returns how many were sent.
async fn send_due(
    conn: &mut AsyncPgConnection,
    client: &reqwest::Client,
    settings: &WebhookSettings,
) -> diesel::QueryResult<usize> {
    conn.transaction(async |conn| {
        let claimed: Vec<Claimed> =
            diesel::sql_query(db::webhooks::CLAIM).bind::<diesel::sql_types::BigInt, _>(CLAIM_BATCH).load(conn).await?;
        let outcomes = futures_util::future::join_all(claimed.iter().map(|c| send(client, c, settings))).await;
        for (delivery, outcome) in claimed.iter().zip(&outcomes) {
            let retry_after = backoff(settings.retry_ms, delivery.attempts + 1);
            crate::metrics::webhook_attempt(matches!(outcome, Outcome::Delivered { .. }));
            db::webhooks::record_attempt(conn, delivery, outcome, retry_after, settings.max_attempts).await?;
            match outcome {
                Outcome::Delivered { status } => tracing::info!(
                    delivery = delivery.id,
                    webhook = delivery.webhook_id,
                    event = delivery.change.seq,
                    status,
                    "webhook delivered"
                ),
                Outcome::Failed { status, error } => tracing::warn!(
                    delivery = delivery.id,
                    webhook = delivery.webhook_id,
                    event = delivery.change.seq,
                    attempt = delivery.attempts + 1,
                    status,
                    error = %error,
                    "webhook delivery failed"
                ),
            }
        }
        Ok(claimed.len())
    })
    .await
}

/// The delay after attempt `attempt` (1-based): `base`, doubling, at most an hour.
pub fn backoff(base_ms: u64, attempt: i32) -> Duration {
    let factor = 1_u64 << (attempt.clamp(1, 30) - 1);
    Duration::from_millis(base_ms.saturating_mul(factor).min(3_600_000))
}

async fn send(client: &reqwest::Client, delivery: &Claimed, settings: &WebhookSettings) -> Outcome {
    let url = match check_target(&delivery.url, &settings.allow) {
        Ok(url) => url,
        Err(error) => return Outcome::Failed { status: None, error: error.to_string() },
    };
    let change = ChangeView::from(delivery.change.clone());
    let event = Event {
        id: delivery.change.seq,
        event_type: format!("evaluation.{}", change.action.as_str()),
        webhook_id: delivery.webhook_id,
        delivery_id: delivery.id,
        data: change,
    };
    let body = match serde_json::to_vec(&event) {
        Ok(body) => body,
        Err(error) => return Outcome::Failed { status: None, error: error.to_string() },
    };
    let timestamp = Utc::now().timestamp();
    let result = client
        .post(url)
        .header("content-type", "application/json")
        .header("perfeval-event-id", delivery.change.seq.to_string())
        .header("perfeval-delivery-id", delivery.id.to_string())
        .header("perfeval-attempt", (delivery.attempts + 1).to_string())
        .header(SIGNATURE_HEADER, signature(&delivery.secret, timestamp, &body))
        .body(body)
        .send()
        .await;
    match result {
        Ok(response) if response.status().is_success() => Outcome::Delivered { status: response.status().as_u16() },
        Ok(response) => Outcome::Failed {
            status: Some(response.status().as_u16()),
            error: format!("the endpoint answered {}", response.status()),
        },
        Err(error) => Outcome::Failed { status: None, error: format!("{error}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed with `printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec`.
        assert_eq!(
            signature("whsec", 1_700_000_000, b"{}"),
            "t=1700000000,v1=7d44587dddbaf4c7f70fef20f48cd594834ffea1641e3ac227b84408298738af"
        );
    }

    #[test]
    fn retries_back_off_doubling_up_to_an_hour() {
        assert_eq!(backoff(1_000, 1), Duration::from_secs(1));
        assert_eq!(backoff(1_000, 2), Duration::from_secs(2));
        assert_eq!(backoff(1_000, 5), Duration::from_secs(16));
        assert_eq!(backoff(1_000, 40), Duration::from_secs(3_600));
    }
}
