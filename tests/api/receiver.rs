//! A webhook receiver on loopback, as an integrating system runs one: it checks each event's
//! signature, keeps each event id once, and can be told to fail or hang at first.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One event the receiver accepted (answered 2xx).
#[derive(Debug, Clone)]
pub struct Accepted {
    pub id: i64,
    pub body: Value,
    pub signature_valid: bool,
}

#[derive(Default)]
pub struct Log {
    /// Requests per event id, answered or not.
    pub requests: HashMap<i64, u32>,
    /// Accepted events, first acceptance of each id only, in arrival order.
    pub accepted: Vec<Accepted>,
    /// Requests for ids already accepted (repeats a receiver drops).
    pub repeats: u32,
}

pub struct Receiver {
    pub port: u16,
    pub log: Arc<Mutex<Log>>,
    server: actix_web::dev::ServerHandle,
}

#[derive(Clone)]
struct Behaviour {
    secret: String,
    /// Answer 500 to the first N requests of each event id.
    fail_first: u32,
    /// Never answer the very first request (the sender's connection stays open).
    hang_first: bool,
}

impl Receiver {
    pub async fn start(secret: &str, fail_first: u32, hang_first: bool) -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let behaviour = Behaviour { secret: secret.to_owned(), fail_first, hang_first };
        let state = (log.clone(), behaviour);
        let server = HttpServer::new(move || {
            App::new().app_data(web::Data::new(state.clone())).default_service(web::to(receive))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { port, log, server: handle }
    }

    pub fn accepted(&self) -> Vec<Accepted> {
        self.log.lock().unwrap().accepted.clone()
    }

    pub fn requests(&self, id: i64) -> u32 {
        self.log.lock().unwrap().requests.get(&id).copied().unwrap_or(0)
    }

    pub async fn stop(self) {
        self.server.stop(false).await;
    }
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<(Arc<Mutex<Log>>, Behaviour)>) -> HttpResponse {
    let (log, behaviour) = (&state.0, &state.1);
    let id: i64 = req.headers().get("perfeval-event-id").and_then(|v| v.to_str().ok()?.parse().ok()).unwrap_or(-1);
    let (count, first_ever) = {
        let mut log = log.lock().unwrap();
        let first_ever = log.requests.is_empty();
        let count = log.requests.entry(id).or_default();
        *count += 1;
        (*count, first_ever)
    };
    if behaviour.hang_first && first_ever {
        std::future::pending::<()>().await;
    }
    if count <= behaviour.fail_first {
        return HttpResponse::InternalServerError().body("not yet");
    }
    let signature = req.headers().get("perfeval-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let signature_valid = verify(&behaviour.secret, signature, &body);
    let mut log = log.lock().unwrap();
    if log.accepted.iter().any(|a| a.id == id) {
        log.repeats += 1;
    } else {
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        log.accepted.push(Accepted { id, body, signature_valid });
    }
    HttpResponse::NoContent().finish()
}

/// `t=<unix>,v1=<hex HMAC-SHA256("<t>.<body>")>`, as the README tells receivers to check it.
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut given = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", v)) => given = Some(v),
            _ => {}
        }
    }
    let (Some(timestamp), Some(given)) = (timestamp, given) else { return false };
    let fresh = timestamp.parse::<i64>().is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    fresh && expected == given
}
