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

/// Where a command's logs go. `serve` writes them to standard output, as a service does; the
/// commands whose output is data (`token create`, `demo-data --ndjson -`…) keep standard output
/// for that data, so `TOKEN=$(perfeval token create …)` captures the token alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// Installs the process's subscriber on `stream`, in the format `chosen` by
/// `PERFEVAL_LOG_FORMAT` or else the one that suits that stream (pretty on a terminal).
pub fn init_for(chosen: Option<LogFormat>, stream: LogStream) {
    match stream {
        LogStream::Stdout => {
            let format = LogFormat::for_stream(chosen, &std::io::stdout());
            init_subscriber(get_subscriber("info", format, std::io::stdout))
        }
        LogStream::Stderr => {
            let format = LogFormat::for_stream(chosen, &std::io::stderr());
            init_subscriber(get_subscriber("info", format, std::io::stderr))
        }
    }
}

/// Installs the subscriber for the whole process; call once.
pub fn init_subscriber(subscriber: Box<dyn tracing::Subscriber + Send + Sync>) {
    set_global_default(subscriber).expect("a tracing subscriber is installed once");
}
