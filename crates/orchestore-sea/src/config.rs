use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

use crate::connection_string;

/// Where the database is: a URL (`sqlite://orchestore.db?mode=rwc`,
/// `postgres://app:pw@db/orchestore`) or a PostgreSQL key=value string
/// (`host=db user=app password=pw dbname=orchestore`). `Debug`, `Display` and serialized output
/// show it [redacted](DatabaseUrl::redacted).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The string with its secrets, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// The string with every secret replaced by `***`: a URL's password, and the value of every
    /// parameter (in a URL's query or a key=value string) whose name says it is a secret
    /// (`password`, `sslpassword`, `…key`, `…token`, `…secret`). A string that cannot be read
    /// shows only why.
    pub fn redacted(&self) -> String {
        connection_string::redact(&self.0)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.redacted())
    }
}

/// How to connect. Durations read from configuration as `"250ms"`, `"5s"`, `"10m"` or a
/// number of seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DbConfig {
    pub url: DatabaseUrl,
    pub max_connections: u32,
    pub min_connections: u32,
    #[serde(with = "crate::serde_duration")]
    pub connect_timeout: Duration,
    /// How long a caller waits for a pooled connection before the database counts as
    /// unavailable.
    #[serde(with = "crate::serde_duration")]
    pub acquire_timeout: Duration,
    #[serde(with = "crate::serde_duration")]
    pub idle_timeout: Duration,
    /// PostgreSQL aborts a statement that runs longer (SQLite has no such setting).
    #[serde(with = "crate::serde_duration")]
    pub statement_timeout: Duration,
    /// Statements slower than this are logged at WARN.
    #[serde(with = "crate::serde_duration")]
    pub slow_statement_threshold: Duration,
    /// SQLite: write-ahead logging, so readers do not block the writer.
    pub sqlite_wal: bool,
    /// SQLite: how long a writer waits for the lock before giving up.
    #[serde(with = "crate::serde_duration")]
    pub sqlite_busy_timeout: Duration,
    /// Apply pending migrations when the server starts.
    pub auto_migrate: bool,
}

impl DbConfig {
    pub const DEFAULT_URL: &'static str = "sqlite://orchestore.db?mode=rwc";

    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: DatabaseUrl::new(url),
            ..Self::default()
        }
    }
}

impl Default for DbConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::new(Self::DEFAULT_URL),
            max_connections: 10,
            min_connections: 1,
            connect_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
            statement_timeout: Duration::from_secs(30),
            slow_statement_threshold: Duration::from_millis(500),
            sqlite_wal: true,
            sqlite_busy_timeout: Duration::from_secs(5),
            auto_migrate: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_display_and_serialized_output_are_redacted() {
        for (url, secret) in [
            ("postgres://app:s3cret@db:5432/orchestore", "s3cret"),
            (
                "postgres://app@db/orchestore?sslpassword=k3y-pass",
                "k3y-pass",
            ),
            (
                "host=db user=app password='two s3cret words' dbname=orchestore",
                "two s3cret words",
            ),
        ] {
            let config = DbConfig::new(url);
            let outputs = [
                format!("{config:?}"),
                format!("{:?}", config.url),
                config.url.to_string(),
                serde_json::to_string(&config).expect("json"),
            ];
            for output in outputs {
                assert!(!output.contains(secret), "{secret} leaked in {output}");
                assert!(output.contains("***"), "{output}");
            }
        }
        assert_eq!(
            DatabaseUrl::new("sqlite::memory:").to_string(),
            "sqlite::memory:"
        );
    }
}
