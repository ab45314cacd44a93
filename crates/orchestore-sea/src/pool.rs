//! Opening the connection pool, with no secret in any log line.
//!
//! The sqlx pool is built here and handed to SeaORM, rather than opened by SeaORM's
//! `Database::connect`: that call and its drivers' `connect` are traced with their
//! `ConnectOptions` as a span field, the URL and its password included, and a URL it cannot
//! parse is quoted in the error. sqlx, for its part, logs the value of a PostgreSQL parameter
//! it does not know (at WARN) before ignoring it: such parameters are refused before sqlx sees
//! them.

use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use orchestore_domain::DomainError;
use orchestore_repo::{RepoError, RepoResult};
use sea_orm::sqlx::pool::{PoolConnectionMetadata, PoolOptions};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sea_orm::sqlx::{self, ConnectOptions as _, Connection as _};
use sea_orm::{DatabaseConnection, DbErr, RuntimeErr};
use url::Url;

use crate::DbConfig;
use crate::connection_string::ConnectionString;
use crate::error::db_err;
use crate::lean_pool::{LeanPool, Limits, PING_AFTER_IDLE};
use crate::statements::StatementLog;

/// The PostgreSQL parameters sqlx reads, in a URL's query or a key=value string (and
/// `options[name]`).
const POSTGRES_PARAMETERS: [&str; 18] = [
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
];

/// Opens the pool `config` describes (`sqlite:…`, `postgres://…` or a PostgreSQL key=value
/// string) as [`SeaStore::connect`](crate::SeaStore::connect) does, for callers that also run
/// SQL of their own. Its errors never quote the connection string, and nothing it logs, at any
/// level, shows a secret of it.
pub async fn open_pool(config: &DbConfig) -> RepoResult<DatabaseConnection> {
    let opening = async {
        if config.url.is_sqlite() {
            open_sqlite(config).await
        } else {
            open_postgres(config).await
        }
    };
    tokio::time::timeout(config.connect_timeout, opening)
        .await
        .map_err(|_| {
            RepoError::unavailable(format!(
                "the database did not answer within database.connect_timeout ({:?})",
                config.connect_timeout
            ))
        })?
}

fn invalid(reason: impl Into<String>) -> RepoError {
    RepoError::Invalid(DomainError::invalid("database.url", reason))
}

fn connect_err(err: sqlx::Error) -> RepoError {
    db_err(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(err))))
}

/// The pool settings both backends share.
fn pool_options<DB: sqlx::Database>(config: &DbConfig) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(config.max_connections.max(1))
        .min_connections(config.min_connections)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(config.idle_timeout)
        // A connection that died while idle (a restart, a failover) must not fail a request,
        // but a ping before every use is one round trip more per query. As pgx's pool does,
        // only a connection idle for `PING_AFTER_IDLE` or more is pinged; one that died within
        // that second fails its first statement, which `conn.rs` runs again on another
        // connection when it could not have taken effect (a `BEGIN`, a read).
        .test_before_acquire(false)
        .before_acquire(|conn: &mut DB::Connection, meta: PoolConnectionMetadata| {
            Box::pin(async move {
                if meta.idle_for >= PING_AFTER_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Connections for work done together: as many as its statements that may run at once (plain
/// creates 4, claims 2, completions 2; see `work::together`).
pub(crate) const TOGETHER_CONNECTIONS: u32 = 8;

/// The store's own PostgreSQL connections beside the main pool (see `lean_pool`), opened
/// when first used with the main pool's connection options and limits.
#[derive(Debug, Clone)]
pub(crate) struct OwnConnections {
    /// For the statements done together (see `work::together`; also those that carry one
    /// call, as most do when the store is not busy), with PostgreSQL told to keep one generic
    /// plan per statement (`plan_cache_mode = force_generic_plan`). These few statements run
    /// thousands of times a second under load with the same shape; PostgreSQL would otherwise
    /// plan a claim afresh on every run (its generic plan, costed for an unknown `LIMIT`,
    /// never looks cheaper than a custom one), which took longer than running it. Their generic
    /// plans read the claimable index in claim order as the custom ones do (`bench/README.md`,
    /// the claim's `EXPLAIN`).
    pub(crate) together: LeanPool,
    /// For the statements that run alone outside a transaction: a read (a `SELECT`) and the
    /// store's direct statements, planned by PostgreSQL's default. As many as the main pool.
    pub(crate) single: LeanPool,
}

impl OwnConnections {
    /// The connections beside `main`, their statements counted in `statements`: opened with
    /// `main`'s connect options as they are at each connect, within its limits. Not with
    /// hooks the embedding program gave `main` (`after_connect`: sqlx keeps them private):
    /// session settings these connections need go in the connect options (`options`).
    pub(crate) fn beside(main: &sqlx::PgPool, statements: &Arc<StatementLog>) -> Self {
        let settings = main.options();
        let limits = |connections| Limits {
            connections,
            acquire_timeout: settings.get_acquire_timeout(),
            idle_timeout: settings.get_idle_timeout(),
            max_lifetime: settings.get_max_lifetime(),
        };
        let generic_plans = main.clone();
        let default_plans = main.clone();
        Self {
            together: LeanPool::new(
                Box::new(move || {
                    (*generic_plans.connect_options())
                        .clone()
                        .options([("plan_cache_mode", "force_generic_plan")])
                }),
                limits(TOGETHER_CONNECTIONS),
                Arc::clone(statements),
            ),
            single: LeanPool::new(
                Box::new(move || (*default_plans.connect_options()).clone()),
                limits(settings.get_max_connections()),
                Arc::clone(statements),
            ),
        }
    }
}

/// Statements at DEBUG (their SQL, never their bound values), slow ones at WARN.
fn with_statement_logging<O: sqlx::ConnectOptions>(options: O, config: &DbConfig) -> O {
    options
        .log_statements(log::LevelFilter::Debug)
        .log_slow_statements(log::LevelFilter::Warn, config.slow_statement_threshold)
}

async fn open_sqlite(config: &DbConfig) -> RepoResult<DatabaseConnection> {
    let url = config.url.expose();
    // sqlx refuses an unknown parameter with an error that names it, without its value.
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|err| invalid(err.to_string()))?
        .foreign_keys(true)
        .busy_timeout(config.sqlite_busy_timeout);
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let options = if config.sqlite_wal && !in_memory {
        options.journal_mode(SqliteJournalMode::Wal)
    } else {
        options
    };
    let pool = if in_memory {
        // An in-memory database lives as long as its one connection: never close it.
        pool_options::<sqlx::Sqlite>(config)
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>)
    } else {
        pool_options(config)
    };
    let pool = pool
        .connect_with(with_statement_logging(options, config))
        .await
        .map_err(connect_err)?;
    Ok(DatabaseConnection::from(pool))
}

async fn open_postgres(config: &DbConfig) -> RepoResult<DatabaseConnection> {
    let options = postgres_options(config.url.expose())?.options([(
        "statement_timeout",
        config.statement_timeout.as_millis().to_string(),
    )]);
    let pool = pool_options::<sqlx::Postgres>(config)
        .connect_with(with_statement_logging(options, config))
        .await
        .map_err(connect_err)?;
    Ok(DatabaseConnection::from(pool))
}

/// The options of a `postgres://` URL or a key=value string. A key=value string is read as the
/// same parameters in a URL's query, so that sqlx parses both forms alike.
fn postgres_options(raw: &str) -> RepoResult<PgConnectOptions> {
    if raw.trim().is_empty() {
        return Err(invalid("is empty"));
    }
    let url = match ConnectionString::parse(raw).map_err(|why| invalid(why.to_string()))? {
        ConnectionString::Url(url) => {
            if !matches!(url.scheme(), "postgres" | "postgresql") {
                return Err(invalid(
                    "use sqlite:, postgres:// or PostgreSQL key=value pairs",
                ));
            }
            url
        }
        ConnectionString::KeyValue(pairs) => {
            let mut url = Url::parse("postgres:").map_err(RepoError::internal)?;
            url.query_pairs_mut().extend_pairs(pairs);
            url
        }
    };
    let known = |key: &str| {
        POSTGRES_PARAMETERS.contains(&key) || (key.starts_with("options[") && key.ends_with(']'))
    };
    if let Some((unknown, _)) = url.query_pairs().find(|(key, _)| !known(key)) {
        return Err(invalid(format!(
            "the connection parameter `{unknown}` is not supported (supported: {})",
            POSTGRES_PARAMETERS.join(", ")
        )));
    }
    // sqlx's errors name the parameter at fault and quote no secret: a port or an address
    // that does not parse, an unknown `sslmode`.
    PgConnectOptions::from_url(&url).map_err(|err| invalid(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(raw: &str) -> PgConnectOptions {
        postgres_options(raw).unwrap_or_else(|err| panic!("{raw}: {err}"))
    }

    #[test]
    fn urls_and_key_value_strings_give_the_same_options() {
        let from_url = options("postgres://app:s3cret@db.example:6432/orchestore?sslmode=require");
        let from_pairs = options(
            "host=db.example port=6432 user=app password='s3cret' dbname=orchestore sslmode=require",
        );
        for parsed in [from_url, from_pairs] {
            assert_eq!(parsed.get_host(), "db.example");
            assert_eq!(parsed.get_port(), 6432);
            assert_eq!(parsed.get_username(), "app");
            assert_eq!(parsed.get_database(), Some("orchestore"));
            assert!(matches!(
                parsed.get_ssl_mode(),
                sqlx::postgres::PgSslMode::Require
            ));
        }
    }

    #[test]
    fn parameters_sqlx_would_log_are_refused_without_their_value() {
        for raw in [
            "postgres://app@db/orchestore?sslpassword=s3cret",
            "host=db sslpassword='s3cret words'",
            "postgres://app@db/orchestore?api_token=s3cret",
        ] {
            let err = postgres_options(raw).expect_err("refused").to_string();
            assert!(err.contains("is not supported"), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn unreadable_strings_are_refused_without_quoting_them() {
        for raw in [
            "host=db password='s3cret",
            "postgres://app:s3c/ret@db/orchestore",
            "mysql://app:s3cret@db/orchestore",
            "postgres://app:s3cret@db:99999/orchestore",
            "postgres://app:s3cret@db/orchestore?port=s3cret",
            "  ",
        ] {
            let err = postgres_options(raw).expect_err("refused").to_string();
            assert!(err.starts_with("database.url"), "{err}");
            assert!(!err.contains("s3c"), "{raw}: {err}");
        }
    }
}
