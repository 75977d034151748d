//! Failure tests: the real `perfeval serve` binary as a child process, each test with a private
//! PostgreSQL of its own (a Unix socket in a temp folder) that it can stop and start; loopback
//! only, and every test bounded in time. They run one at a time.
//!
//! - `pg_restart`: PostgreSQL restarted under load;
//! - `kill9`: `kill -9` in the middle of a 5,000-record batch, then a replay with the same key;
//! - `sigterm`: SIGTERM with requests in flight;
//! - `webhook_kill9`: `kill -9` of the instance sending a webhook; the other instance sends it;
//! - `balanced`: two instances on one database behind a real haproxy (idempotent replays, ETags,
//!   token revocation, the rate limit, forwarded client addresses, `kill -9` and SIGTERM of one
//!   instance under load); needs `haproxy` installed;
//! - `replica`: a real hot standby (`pg_basebackup -R`) as read replica: reads served by it,
//!   read-your-writes with its replay paused, the standby stopped and started, and lagging.
//!
//! Run with `cargo test --test failures -- --nocapture` to see the measured figures.
#[path = "failures/balanced.rs"]
mod balanced;
#[path = "failures/harness.rs"]
mod harness;
#[path = "failures/kill9.rs"]
mod kill9;
#[path = "failures/pg_restart.rs"]
mod pg_restart;
#[path = "api/receiver.rs"]
mod receiver;
#[path = "failures/replica.rs"]
mod replica;
#[path = "failures/sigterm.rs"]
mod sigterm;
#[path = "failures/webhook_kill9.rs"]
mod webhook_kill9;
