//! Tracing set-up: JSON or pretty lines, levels from `RUST_LOG`.
use tracing::subscriber::set_global_default;
use tracing_subscriber::{fmt::MakeWriter, layer::SubscriberExt, EnvFilter, Registry};

use crate::config::LogFormat;

/// Builds a subscriber writing to `sink`; `default_filter` applies when `RUST_LOG` is unset.
pub fn get_subscriber<Sink>(
    default_filter: &str,
    format: LogFormat,
    sink: Sink,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    Sink: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = Registry::default().with(filter);
    match format {
        LogFormat::Json => {
            Box::new(registry.with(tracing_subscriber::fmt::layer().json().flatten_event(true).with_writer(sink)))
        }
        LogFormat::Pretty => Box::new(registry.with(tracing_subscriber::fmt::layer().with_writer(sink))),
    }
}

/// Installs the subscriber for the whole process; call once.
pub fn init_subscriber(subscriber: Box<dyn tracing::Subscriber + Send + Sync>) {
    set_global_default(subscriber).expect("a tracing subscriber is installed once");
}
