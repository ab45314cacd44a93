use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize, Serializer};

/// A database URL whose password is redacted in `Debug`, `Display` and serialized output.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_sqlite(&self) -> bool {
        self.0.starts_with("sqlite:")
    }

    /// The URL with every password replaced by `***`: the one in the user information and a
    /// `password=` query parameter.
    pub fn redacted(&self) -> String {
        let (base, query) = match self.0.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.0.as_str(), None),
        };
        let mut out = match base.split_once("://") {
            Some((scheme, rest)) => {
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                match authority.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
                        let masked = if userinfo.contains(':') { ":***" } else { "" };
                        format!("{scheme}://{user}{masked}@{host}{path}")
                    }
                    None => base.to_owned(),
                }
            }
            None => base.to_owned(),
        };
        if let Some(query) = query {
            // Keys are compared decoded, as the driver reads them (`pass%77ord` is `password`).
            let mut masked = form_urlencoded::Serializer::new(String::new());
            for (key, value) in form_urlencoded::parse(query.as_bytes()) {
                if key.eq_ignore_ascii_case("password") {
                    masked.append_pair(&key, "***");
                } else {
                    masked.append_pair(&key, &value);
                }
            }
            out.push('?');
            out.push_str(&masked.finish());
        }
        out
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
    fn url_password_is_redacted() {
        let url = DatabaseUrl::new("postgres://app:s3cret@db:5432/orchestore");
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/orchestore");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(
            DatabaseUrl::new("sqlite::memory:").redacted(),
            "sqlite::memory:"
        );
    }
}
