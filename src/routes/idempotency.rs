//! `Idempotency-Key` on POSTs: a retry with the same key and body replays the first response;
//! the same key with another body is refused (422).
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::{
    db::idempotency::{self, Entry, KeyRef, StoredResponse},
    error::{ApiError, ErrorCode},
};

/// The header clients send.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed response.
pub const REPLAYED: &str = "idempotency-replayed";

/// A request's key, the endpoint it belongs to and a hash of its body.
pub struct Idempotency {
    scope: String,
    key: String,
    request_hash: Vec<u8>,
}

impl Idempotency {
    /// The request's key, if it sent one (1–255 visible ASCII characters). Keys belong to the
    /// caller: another token's use of the same key is a different key.
    pub fn from_request(req: &HttpRequest, body: &[u8]) -> Result<Option<Self>, ApiError> {
        let Some(value) = req.headers().get(HEADER) else { return Ok(None) };
        let key = value
            .to_str()
            .ok()
            .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
            .ok_or_else(|| {
                ApiError::invalid_field("Idempotency-Key", "invalid", "1 to 255 visible ASCII characters")
            })?;
        Ok(Some(Self {
            scope: format!("{} {} {}", caller_name(req), req.method(), req.path()),
            key: key.to_owned(),
            request_hash: body_hash(body),
        }))
    }

    pub fn key_ref(&self) -> KeyRef<'_> {
        KeyRef { scope: &self.scope, key: &self.key }
    }

    /// The first response, when this key was seen before with the same body; 422 when it was
    /// seen with another body.
    pub async fn replay(&self, conn: &mut diesel_async::AsyncPgConnection) -> Result<Option<HttpResponse>, ApiError> {
        match idempotency::find(conn, &self.key_ref()).await? {
            None => Ok(None),
            Some(stored) => self.replay_stored(stored).map(Some),
        }
    }

    /// The first response to the request's key, if it has one and was answered before.
    pub async fn replay_any(
        key: Option<&Self>,
        conn: &mut diesel_async::AsyncPgConnection,
    ) -> Result<Option<HttpResponse>, ApiError> {
        match key {
            Some(key) => key.replay(conn).await,
            None => Ok(None),
        }
    }

    /// A response to store for this key.
    pub fn stored(&self, status: StatusCode, headers: &[(&str, String)], body: Vec<u8>) -> StoredResponse {
        StoredResponse {
            request_hash: self.request_hash.clone(),
            status: status.as_u16() as i16,
            headers: serde_json::Value::Array(
                headers.iter().map(|(name, value)| serde_json::json!([name, value])).collect(),
            ),
            body,
        }
    }

    /// Claims the key for a request whose writes commit before its answer exists (a batch, an
    /// import). `None`: the request is this one's to run and answer (see [`Self::answer`]).
    /// A replay when the key was answered with this body; 422 when it was used with another;
    /// 409 with `Retry-After` while a request with this key and body runs. The claim is held by
    /// `conn`'s session, which the request must keep until it answers: it lapses when that
    /// session ends (the instance died) or after [`CLAIM_LEASE`], and a retry then runs the
    /// request again.
    pub async fn claim(&self, conn: &mut diesel_async::AsyncPgConnection) -> Result<Option<HttpResponse>, ApiError> {
        match idempotency::claim(conn, &self.key_ref(), &self.request_hash, CLAIM_LEASE).await? {
            idempotency::Claim::Claimed => Ok(None),
            idempotency::Claim::Taken(Entry::Answered(stored)) => self.replay_stored(stored).map(Some),
            idempotency::Claim::Taken(Entry::Claimed { request_hash }) if request_hash == self.request_hash => {
                Err(ApiError::Conflict {
                    code: ErrorCode::IdempotencyKeyInUse,
                    detail: "a request with this Idempotency-Key and body is still being answered; retry it later"
                        .to_owned(),
                })
            }
            idempotency::Claim::Taken(Entry::Claimed { .. }) => Err(reused_with_another_body()),
        }
    }

    /// Stores the answer to the key this request claimed. The answer to send: this one, or the
    /// one a request that took the claim over after it lapsed stored first.
    pub async fn answer(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        response: StoredResponse,
    ) -> Result<HttpResponse, ApiError> {
        if idempotency::answer(conn, &self.key_ref(), &response).await? {
            return Ok(rebuild(&response, false));
        }
        Ok(match idempotency::find(conn, &self.key_ref()).await? {
            Some(first) => to_response(&first),
            None => rebuild(&response, false),
        })
    }

    /// A claimed request's 200 JSON answer, stored for its key first (see [`Self::answer`]);
    /// a request without a claim answers it as it is.
    pub async fn answer_json(
        claimed: Option<&Self>,
        conn: &mut diesel_async::AsyncPgConnection,
        body: Vec<u8>,
    ) -> Result<HttpResponse, ApiError> {
        match claimed {
            Some(key) => {
                let json = [("content-type", "application/json".to_owned())];
                key.answer(conn, key.stored(StatusCode::OK, &json, body)).await
            }
            None => Ok(HttpResponse::Ok().content_type("application/json").body(body)),
        }
    }

    /// A failed request's error, once the key it claimed (if any) is given up, so that its
    /// retry runs at once. A claim that cannot be released (the database is down) lapses with
    /// its session or its time.
    pub async fn failed(
        claimed: Option<&Self>,
        conn: &mut diesel_async::AsyncPgConnection,
        error: ApiError,
    ) -> ApiError {
        if let Some(key) = claimed {
            if let Err(cause) = idempotency::release(conn, &key.key_ref(), &key.request_hash).await {
                tracing::warn!(error = %cause, "could not release an Idempotency-Key claim; it lapses on its own");
            }
        }
        error
    }

    fn replay_stored(&self, stored: StoredResponse) -> Result<HttpResponse, ApiError> {
        if stored.request_hash == self.request_hash {
            Ok(to_response(&stored))
        } else {
            Err(reused_with_another_body())
        }
    }
}

/// How long a batch's or an import's claim on its key holds at most while its session lives: a
/// request dropped before it answered (its client went away) leaves its session to the pool.
/// A retry meeting the claim meanwhile gets 409 with `Retry-After`.
pub const CLAIM_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

fn reused_with_another_body() -> ApiError {
    ApiError::invalid_field(
        "Idempotency-Key",
        "reused_with_another_body",
        "this key was already used with a different request body",
    )
}

/// Equal JSON bodies hash equally whatever their spacing or member order; other bodies by their bytes.
fn body_hash(body: &[u8]) -> Vec<u8> {
    let canonical = serde_json::from_slice::<serde_json::Value>(body).ok().and_then(|v| serde_json::to_vec(&v).ok());
    Sha256::digest(canonical.as_deref().unwrap_or(body)).to_vec()
}

/// Rebuilds a stored response, marked as a replay.
pub fn to_response(stored: &StoredResponse) -> HttpResponse {
    rebuild(stored, true)
}

fn rebuild(stored: &StoredResponse, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status as u16).unwrap_or(StatusCode::OK);
    let mut builder = HttpResponse::build(status);
    for pair in stored.headers.as_array().into_iter().flatten() {
        if let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) {
            builder.insert_header((name, value));
        }
    }
    if replayed {
        builder.insert_header((REPLAYED, "true"));
    }
    builder.body(web::Bytes::from(stored.body.clone()))
}

fn caller_name(req: &HttpRequest) -> String {
    use actix_web::HttpMessage;
    req.extensions().get::<crate::auth::Actor>().map_or_else(|| "anonymous".to_owned(), |actor| actor.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_json_hashes_equally_whatever_its_layout() {
        assert_eq!(body_hash(br#"{"a": 1, "b": "x"}"#), body_hash(br#"{"b":"x","a":1}"#));
        assert_ne!(body_hash(br#"{"a": 1}"#), body_hash(br#"{"a": 1.0}"#), "numbers keep their exact text");
        assert_ne!(body_hash(b"line 1\n"), body_hash(b"line 2\n"));
    }
}
