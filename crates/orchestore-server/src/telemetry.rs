//! Logging: `tracing` to stderr, as text or JSON, filtered by `log.level` or `RUST_LOG`.

/// Where actix's HTTP/1 connection logs a request it cannot parse (a bad header, a head over
/// the limit) — at ERROR, once per connection, for anyone who sends garbage. The 400 or 431
/// answers it; the same failure is logged at TRACE there too, for whoever turns that on.
const HTTP_PARSER_TARGET: &str = "actix_http::h1::dispatcher";

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber. `rust_log` (the binary passes `RUST_LOG`) replaces
/// `settings.level` when given. Logs go to stderr so that stdout stays for command output.
pub fn init_tracing(settings: &LogSettings, rust_log: Option<&str>) -> Result<(), String> {
    let directives = rust_log
        .filter(|value| !value.trim().is_empty())
        .unwrap_or(&settings.level);
    let filter = EnvFilter::try_new(with_quiet_parser(directives))
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

/// `directives` with [`HTTP_PARSER_TARGET`] turned off, unless they set a level for
/// `actix_http` themselves: a client must not be able to write ERROR lines at will.
fn with_quiet_parser(directives: &str) -> String {
    if directives.contains("actix_http") {
        directives.to_owned()
    } else {
        format!("{directives},{HTTP_PARSER_TARGET}=off")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_of_client_requests_is_quiet_unless_asked() {
        assert_eq!(
            with_quiet_parser("info"),
            "info,actix_http::h1::dispatcher=off"
        );
        assert_eq!(
            with_quiet_parser("info,actix_http=trace"),
            "info,actix_http=trace"
        );
    }
}
