//! The server's settings: plain structs with defaults, loaded in layers by the binary.
//!
//! Layers, later wins: the defaults below → an optional TOML file → environment variables
//! `ORCHESTORE__SECTION__KEY` → `DATABASE_URL`. A key no struct knows is an error, so a typo
//! never falls back to a default silently.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use orchestore_domain::{DomainError, PasswordHash, PurgeBatch};
use orchestore_sea::DbConfig;
use serde::{Deserialize, Serialize, Serializer};

/// Everything the server needs to start. Tests build it in code; the binary loads it with
/// [`Settings::load`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DbConfig,
    pub auth: AuthSettings,
    pub bootstrap: BootstrapSettings,
    pub log: LogSettings,
    pub queue: QueueSettings,
    pub audit: AuditSettings,
    pub collaboration: CollaborationSettings,
    pub metrics: MetricsSettings,
    pub retention: RetentionSettings,
    pub workflows: WorkflowSettings,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port (see `Application::port`).
    pub port: u16,
    /// The reverse proxies whose `X-Forwarded-For` names the client (for sessions, login
    /// limits and the audit log); from anyone else the header is ignored. A TOML list, or a
    /// comma-separated string (`ORCHESTORE__SERVER__TRUSTED_PROXIES=10.0.0.1,10.0.0.2`).
    #[serde(deserialize_with = "addresses")]
    pub trusted_proxies: Vec<IpAddr>,
    /// How long a client has to send a request's body, from the end of its head; past it the
    /// answer is 408. A body trickled in byte by byte holds a connection no longer.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub body_read_timeout: Duration,
    /// How long a request may take, its body included, before the answer is 503 with
    /// `Retry-After`; what it was doing is dropped and its transaction rolled back.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub request_timeout: Duration,
    /// Whether the server answers `GET /docs`, the interactive page of the API.
    pub docs: bool,
}

/// A list of IP addresses, or one string of them separated by commas (environment variables
/// arrive as strings).
fn addresses<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<IpAddr>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Addresses {
        List(Vec<IpAddr>),
        Joined(String),
    }
    match Addresses::deserialize(d)? {
        Addresses::List(list) => Ok(list),
        Addresses::Joined(joined) => joined
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse()
                    .map_err(|_| serde::de::Error::custom(format!("{part:?} is not an IP address")))
            })
            .collect(),
    }
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 8080,
            trusted_proxies: Vec::new(),
            body_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            docs: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// The HS256 key for access tokens. When unset, one is generated on first start and kept
    /// in the database, so that every replica signs with the same key.
    pub jwt_secret: Option<Secret>,
    #[serde(with = "orchestore_sea::serde_duration")]
    pub access_token_ttl: Duration,
    #[serde(with = "orchestore_sea::serde_duration")]
    pub refresh_token_ttl: Duration,
    /// bcrypt cost for the passwords this server hashes (4 to 31).
    pub bcrypt_cost: u32,
    /// How long this server trusts the standing of a session it has read (not revoked, its
    /// user active, its permissions not cut) before it reads it again. A change made through
    /// this server takes effect at once; one made through another replica, within this bound.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub session_check_interval: Duration,
    /// Failed logins allowed per organization and e-mail address within
    /// `login_failure_window` (0: no limit); past them, logins are 429 until it closes.
    pub login_failures_per_account: u32,
    /// Failed logins allowed per client address within the window (0: no limit).
    pub login_failures_per_address: u32,
    #[serde(with = "orchestore_sea::serde_duration")]
    pub login_failure_window: Duration,
    /// Whether anyone may create an organization, and become its owner, with
    /// `POST /api/v1/organizations/signup`. Off by default: organizations come from the
    /// bootstrap and from embedders.
    pub open_signup: bool,
    /// Sign-ups one client address may attempt within `signup_window` (0: no limit), counted
    /// when they pass the checks of their input, whether they then succeed or not.
    pub signups_per_address: u32,
    #[serde(with = "orchestore_sea::serde_duration")]
    pub signup_window: Duration,
    /// How long an invitation's token can be accepted.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub invitation_ttl: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            bcrypt_cost: PasswordHash::DEFAULT_COST,
            session_check_interval: Duration::from_secs(5),
            login_failures_per_account: 10,
            login_failures_per_address: 100,
            login_failure_window: Duration::from_secs(15 * 60),
            open_signup: false,
            signups_per_address: 5,
            signup_window: Duration::from_secs(3600),
            invitation_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// What to create when the database has no user at all.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapSettings {
    /// Slug (and display name) of the first organization.
    pub organization: String,
    /// The first owner's email; `admin@localhost` when unset.
    pub admin_email: Option<String>,
    /// The first owner's password; generated and logged once when unset.
    pub admin_password: Option<Secret>,
}

impl Default for BootstrapSettings {
    fn default() -> Self {
        Self {
            organization: "default".to_owned(),
            admin_email: None,
            admin_password: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSettings {
    /// How often the server returns expired leases to the queue (every organization's);
    /// claims that find nothing do it too.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub lease_sweep_interval: Duration,
    /// How often the server fires the schedules due (every organization's).
    #[serde(with = "orchestore_sea::serde_duration")]
    pub schedule_interval: Duration,
    /// The largest task payload or result, in bytes of JSON, kept in the task's row; a larger
    /// one (up to the hard maximum of 4 MiB) is stored in its own table, so that claims and
    /// lists stay fast with large payloads.
    pub inline_payload_limit: usize,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            lease_sweep_interval: Duration::from_secs(5),
            schedule_interval: Duration::from_secs(1),
            inline_payload_limit: orchestore_sea::DEFAULT_INLINE_PAYLOAD_LIMIT,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkflowSettings {
    /// How often the server ends the durable waits due (every organization's): timeouts of
    /// waits for a signal, and waits for a time.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub wait_interval: Duration,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            wait_interval: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// How often the server seals the audit rows written since into their organization's hash
    /// chain; a round that stops at its bound with rows left is followed by another, at once
    /// while no request is being handled (the sealer yields to requests, for at most twelve
    /// intervals in a row). Until then a row is in the log but not yet covered by the chain.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub seal_interval: Duration,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            seal_interval: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollaborationSettings {
    /// How often the server marks what ended in every organization: rewards not redeemed in
    /// time, grants and suspensions past their end. The authorization does not wait for it
    /// (it compares the instants itself); the sweep keeps the statuses and the lists true.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub sanction_sweep_interval: Duration,
    /// How often the server takes the scheduled snapshots of every organization's leaderboards
    /// (at least 1s): at the start of each slot of this length since the Unix epoch (midnight
    /// UTC for a day), whichever replica gets there first.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub snapshot_interval: Duration,
    /// How often the server turns the task runs that ended since (succeeded, or failed for
    /// good) into reliability events of their agents, in every organization.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub reputation_feed_interval: Duration,
}

impl Default for CollaborationSettings {
    fn default() -> Self {
        Self {
            sanction_sweep_interval: Duration::from_secs(30),
            snapshot_interval: Duration::from_secs(24 * 3600),
            reputation_feed_interval: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsSettings {
    /// Whether the server answers `GET /metrics` (Prometheus text format).
    pub enabled: bool,
    /// When set, a scrape must send `Authorization: Bearer <token>`.
    pub token: Option<Secret>,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            token: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// How often the server purges, in every organization with a retention policy, the rows
    /// past their age (`orchestore retention run` does it once). `0s` turns it off.
    #[serde(with = "orchestore_sea::serde_duration")]
    pub interval: Duration,
    /// The most rows a purge deletes in one statement (1 to 100,000): each batch is its own
    /// short transaction, so that a purge never holds a lock for long.
    pub batch_size: u32,
}

impl RetentionSettings {
    /// The batch size as a purge takes it; refused when out of bounds.
    pub fn batch(&self) -> Result<PurgeBatch, DomainError> {
        PurgeBatch::parse("retention.batch_size", self.batch_size)
    }
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3600),
            batch_size: PurgeBatch::default().rows(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// An `EnvFilter` directive such as `info` or `orchestore_server=debug,info`. `RUST_LOG`,
    /// when set, takes its place.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            // PostgreSQL's notices ("relation … already exists, skipping") are not news.
            level: "info,sqlx::postgres::notice=warn".to_owned(),
            format: LogFormat::Text,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A secret setting. `Debug` and serialized output show `<redacted>`; only
/// [`Secret::expose`] gives the value.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    const REDACTED: &'static str = "<redacted>";

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::REDACTED)
    }
}

/// Why the settings cannot be loaded: the key and the source at fault, and what was expected.
/// It quotes neither a string value (a secret put under the wrong key would be one) nor the
/// line of a file that does not parse, as `config`'s own messages do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl From<config::ConfigError> for SettingsError {
    fn from(err: config::ConfigError) -> Self {
        Self(describe(&err))
    }
}

fn describe(err: &config::ConfigError) -> String {
    use config::ConfigError;
    let at = |key: &Option<String>, origin: &Option<String>| {
        let key = key.as_ref().map(|key| format!(" for key `{key}`"));
        let origin = origin.as_ref().map(|origin| format!(" in {origin}"));
        format!("{}{}", key.unwrap_or_default(), origin.unwrap_or_default())
    };
    match err {
        ConfigError::Type {
            origin,
            unexpected,
            expected,
            key,
        } => {
            // `string "…"`, `64-bit integer `…``: the kind, without the value.
            let shown = unexpected.to_string();
            let found = shown
                .split_once(['"', '`'])
                .map_or(shown.as_str(), |(kind, _)| kind)
                .trim_end();
            format!(
                "invalid type: {found}, expected {expected}{}",
                at(key, origin)
            )
        }
        ConfigError::FileParse { uri, cause } => {
            let file = uri.as_deref().unwrap_or("the configuration file");
            match cause.downcast_ref::<toml::de::Error>() {
                // The first line of toml's message is the position; the next ones quote the line.
                Some(toml) => {
                    let full = toml.to_string();
                    let position = full.lines().next().unwrap_or("TOML parse error");
                    format!("{file}: {position}: {}", toml.message().trim())
                }
                None => format!("{file} cannot be parsed"),
            }
        }
        ConfigError::At { error, origin, key } => format!("{}{}", describe(error), at(key, origin)),
        other => other.to_string(),
    }
}

impl Settings {
    /// The prefix of the environment variables that override settings.
    pub const ENV_PREFIX: &'static str = "ORCHESTORE";

    /// Loads the layers over the defaults: `file` (TOML, required when given), then the
    /// `ORCHESTORE__SECTION__KEY` entries of `env`, then `DATABASE_URL` from `env`. The binary
    /// passes the process environment; tests pass a map.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, SettingsError> {
        let env: config::Map<String, String> = env.into_iter().collect();
        let database_url = env.get("DATABASE_URL").cloned();
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(
                config::File::from(path)
                    .format(config::FileFormat::Toml)
                    .required(true),
            );
        }
        let settings = builder
            .add_source(
                config::Environment::with_prefix(Self::ENV_PREFIX)
                    .prefix_separator("__")
                    .separator("__")
                    // Values stay strings until a typed field asks for a number or a bool, so
                    // a password such as `0123` or a slug such as `007` arrives as written.
                    .try_parsing(false)
                    .source(Some(env)),
            )
            .set_override_option("database.url", database_url)?
            .build()?
            .try_deserialize()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn toml_file(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::Builder::new()
            .suffix(".toml")
            .tempfile()
            .expect("temp file");
        file.write_all(text.as_bytes()).expect("write config");
        file
    }

    #[test]
    fn defaults_apply_without_any_source() {
        let settings = Settings::load(None, env(&[])).expect("defaults load");
        assert_eq!(settings.server.host, "127.0.0.1");
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.auth.access_token_ttl, Duration::from_secs(900));
        assert_eq!(settings.auth.bcrypt_cost, 12);
        assert_eq!(settings.bootstrap.organization, "default");
        assert_eq!(settings.database.url.expose(), DbConfig::DEFAULT_URL);
        assert_eq!(settings.log.format, LogFormat::Text);
        assert_eq!(settings.audit.seal_interval, Duration::from_secs(5));
        assert_eq!(settings.retention.interval, Duration::from_secs(3600));
        assert_eq!(settings.retention.batch().map(PurgeBatch::rows), Ok(1000));
        assert_eq!(
            settings.collaboration.snapshot_interval,
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            settings.collaboration.reputation_feed_interval,
            Duration::from_secs(5)
        );
        assert!(!settings.auth.open_signup);
        assert_eq!(
            settings.auth.invitation_ttl,
            Duration::from_secs(7 * 24 * 3600)
        );
    }

    #[test]
    fn sign_up_and_invitations_are_set_from_the_environment() {
        let settings = Settings::load(
            None,
            env(&[
                ("ORCHESTORE__AUTH__OPEN_SIGNUP", "true"),
                ("ORCHESTORE__AUTH__SIGNUPS_PER_ADDRESS", "2"),
                ("ORCHESTORE__AUTH__SIGNUP_WINDOW", "10m"),
                ("ORCHESTORE__AUTH__INVITATION_TTL", "2d"),
            ]),
        )
        .expect("load");
        assert!(settings.auth.open_signup);
        assert_eq!(settings.auth.signups_per_address, 2);
        assert_eq!(settings.auth.signup_window, Duration::from_secs(600));
        assert_eq!(
            settings.auth.invitation_ttl,
            Duration::from_secs(2 * 24 * 3600)
        );
    }

    #[test]
    fn metrics_are_on_by_default_and_take_a_token() {
        let settings = Settings::load(None, env(&[])).expect("defaults load");
        assert!(settings.metrics.enabled);
        assert!(settings.metrics.token.is_none());
        let settings = Settings::load(
            None,
            env(&[
                ("ORCHESTORE__METRICS__ENABLED", "false"),
                ("ORCHESTORE__METRICS__TOKEN", "scrape-me"),
            ]),
        )
        .expect("load");
        assert!(!settings.metrics.enabled);
        assert_eq!(
            settings.metrics.token.as_ref().map(Secret::expose),
            Some("scrape-me")
        );
    }

    #[test]
    fn trusted_proxies_are_a_comma_separated_list() {
        let settings = Settings::load(
            None,
            env(&[("ORCHESTORE__SERVER__TRUSTED_PROXIES", "10.0.0.1,::1")]),
        )
        .expect("load");
        assert_eq!(
            settings.server.trusted_proxies,
            vec![
                "10.0.0.1".parse::<IpAddr>().expect("ip"),
                "::1".parse().expect("ip")
            ]
        );
        let wrong = Settings::load(
            None,
            env(&[("ORCHESTORE__SERVER__TRUSTED_PROXIES", "not-an-address")]),
        );
        assert!(wrong.is_err());
    }

    #[test]
    fn request_timeouts_have_defaults_and_are_set_from_the_environment() {
        let settings = Settings::load(None, env(&[])).expect("defaults load");
        assert_eq!(settings.server.body_read_timeout, Duration::from_secs(10));
        assert_eq!(settings.server.request_timeout, Duration::from_secs(30));
        let settings = Settings::load(
            None,
            env(&[
                ("ORCHESTORE__SERVER__BODY_READ_TIMEOUT", "2s"),
                ("ORCHESTORE__SERVER__REQUEST_TIMEOUT", "1m"),
            ]),
        )
        .expect("load");
        assert_eq!(settings.server.body_read_timeout, Duration::from_secs(2));
        assert_eq!(settings.server.request_timeout, Duration::from_secs(60));
    }

    #[test]
    fn environment_values_stay_as_written() {
        let settings = Settings::load(
            None,
            env(&[
                ("ORCHESTORE__BOOTSTRAP__ORGANIZATION", "007"),
                ("ORCHESTORE__BOOTSTRAP__ADMIN_PASSWORD", "0123456789"),
                ("ORCHESTORE__AUTH__JWT_SECRET", "TRUE"),
                ("ORCHESTORE__SERVER__PORT", "9001"),
                ("ORCHESTORE__DATABASE__SQLITE_WAL", "false"),
            ]),
        )
        .expect("load");
        assert_eq!(settings.bootstrap.organization, "007");
        let password = settings.bootstrap.admin_password.expect("password");
        assert_eq!(password.expose(), "0123456789");
        assert_eq!(settings.auth.jwt_secret.expect("secret").expose(), "TRUE");
        assert_eq!(settings.server.port, 9001);
        assert!(!settings.database.sqlite_wal);
    }

    #[test]
    fn later_layers_win() {
        let file = toml_file(
            r#"
            [server]
            port = 9000
            host = "0.0.0.0"
            [auth]
            access_token_ttl = "5m"
            [audit]
            seal_interval = "2s"
            [database]
            url = "sqlite://from-file.db"
            max_connections = 3
            "#,
        );
        let settings = Settings::load(
            Some(file.path()),
            env(&[
                ("ORCHESTORE__SERVER__PORT", "9100"),
                ("ORCHESTORE__AUTH__JWT_SECRET", "12345"),
                ("ORCHESTORE__LOG__FORMAT", "json"),
                ("ORCHESTORE__DATABASE__URL", "sqlite://from-env.db"),
                ("DATABASE_URL", "postgres://app:pw@db/orchestore"),
                ("ORCHESTORE_CONFIG", "ignored.toml"),
                ("UNRELATED", "x"),
            ]),
        )
        .expect("layers load");
        assert_eq!(settings.server.port, 9100);
        assert_eq!(settings.server.host, "0.0.0.0");
        assert_eq!(settings.auth.access_token_ttl, Duration::from_secs(300));
        assert_eq!(settings.audit.seal_interval, Duration::from_secs(2));
        assert_eq!(
            settings.auth.jwt_secret.as_ref().map(Secret::expose),
            Some("12345")
        );
        assert_eq!(settings.log.format, LogFormat::Json);
        assert_eq!(settings.database.max_connections, 3);
        assert_eq!(
            settings.database.url.expose(),
            "postgres://app:pw@db/orchestore"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let file = toml_file("[server]\nprot = 9000\n");
        let err = Settings::load(Some(file.path()), env(&[])).expect_err("typo refused");
        assert!(err.to_string().contains("prot"), "{err}");
        let err = Settings::load(None, env(&[("ORCHESTORE__SERVER__PROT", "1")]))
            .expect_err("typo refused");
        assert!(err.to_string().contains("prot"), "{err}");
    }

    #[test]
    fn load_errors_quote_no_value() {
        let cases = [
            // A string where a number goes, and a line that does not parse.
            "[database]\nmax_connections = \"postgres://app:s3cret@db/x\"\n",
            "[database]\nurl = \"postgres://app:s3cret@db/x\n",
            "[auth]\njwt_secret = \"s3cret\" trailing\n",
        ];
        for text in cases {
            let file = toml_file(text);
            let err = Settings::load(Some(file.path()), env(&[])).expect_err("refused");
            let message = err.to_string();
            assert!(!message.contains("s3cret"), "{message}");
            assert!(message.contains(".toml"), "names the file: {message}");
        }
        let file = toml_file("[database]\nurl = \"postgres://app:s3cret@db/x\n");
        let err = Settings::load(Some(file.path()), env(&[])).expect_err("refused");
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = Settings::load(
            None,
            env(&[("ORCHESTORE__DATABASE__MIN_CONNECTIONS", "s3cret")]),
        )
        .expect_err("refused");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(
            err.to_string().contains("database.min_connections"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_is_an_error() {
        let missing = Path::new("/nonexistent/orchestore.toml");
        assert!(Settings::load(Some(missing), env(&[])).is_err());
    }

    #[test]
    fn secrets_are_redacted_everywhere() {
        let mut settings = Settings::default();
        settings.auth.jwt_secret = Some(Secret::new("jwt-s3cret"));
        settings.bootstrap.admin_password = Some(Secret::new("admin-s3cret"));
        settings.metrics.token = Some(Secret::new("metrics-s3cret"));
        settings.database = DbConfig::new("postgres://app:db-s3cret@db/orchestore");
        let mut key_value = settings.clone();
        key_value.database = DbConfig::new("host=db user=app password='db-s3cret' dbname=x");
        let outputs = [
            format!("{key_value:?}"),
            serde_json::to_string(&key_value).expect("json"),
            toml::to_string(&key_value).expect("toml"),
            format!("{settings:?}"),
            serde_json::to_string(&settings).expect("json"),
            toml::to_string(&settings).expect("toml"),
        ];
        for output in outputs {
            for secret in ["jwt-s3cret", "admin-s3cret", "db-s3cret", "metrics-s3cret"] {
                assert!(!output.contains(secret), "{secret} leaked in {output}");
            }
            assert!(output.contains("<redacted>"), "{output}");
        }
    }

    #[test]
    fn durations_round_trip() {
        for (text, seconds) in [("15m", 900), ("30d", 2_592_000), ("90s", 90), ("2h", 7200)] {
            assert_eq!(
                orchestore_sea::serde_duration::parse(text),
                Ok(Duration::from_secs(seconds))
            );
            assert_eq!(
                orchestore_sea::serde_duration::format(Duration::from_secs(seconds)),
                text
            );
        }
        assert_eq!(
            orchestore_sea::serde_duration::parse("250ms"),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(
            orchestore_sea::serde_duration::format(Duration::from_millis(250)),
            "250ms"
        );
        assert!(orchestore_sea::serde_duration::parse("soon").is_err());
        assert!(orchestore_sea::serde_duration::parse("5y").is_err());
    }
}
