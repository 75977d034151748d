//! perfeval: budget performance evaluation records (预算绩效评价) of Chinese township
//! governments, stored, checked and aggregated over a REST/JSON API.
pub mod auth;
pub mod cache;
pub mod caller;
pub mod config;
pub mod db;
pub mod demo;
pub mod docs;
pub mod domain;
pub mod error;
pub mod intake;
pub mod metrics;
pub mod openapi;
pub mod replicas;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod webhooks;
