//! Logging: `tracing` to stderr, as text or JSON, filtered by `log.level` or `RUST_LOG`.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. `rust_log` (the binary passes `RUST_LOG`) replaces
/// `settings.level` when given. Logs go to stderr so that stdout stays for command output.
pub fn init_tracing(settings: &LogSettings, rust_log: Option<&str>) -> Result<(), String> {
    let directives = rust_log
        .filter(|value| !value.trim().is_empty())
        .unwrap_or(&settings.level);
    let filter = EnvFilter::try_new(directives)
        .map_err(|err| format!("invalid log filter {directives:?}: {err}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match settings.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
    .map_err(|err| format!("cannot install the log subscriber: {err}"))
}
