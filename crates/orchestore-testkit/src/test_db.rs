use std::io::Write as _;

use orchestore_sea::{DatabaseUrl, DbConfig, SeaStore, open_pool};

use crate::TEST_BCRYPT_COST;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

/// The variable that points the PostgreSQL half of the suite at a server, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const PG_URL_VAR: &str = "ORCHESTORE_TEST_PG_URL";

/// A database owned by one test: in-memory SQLite, or a PostgreSQL database created for it
/// and dropped when it is dropped. It is migrated; the store is ready to use.
pub struct TestDb {
    store: SeaStore,
    url: String,
    postgres: Option<PgDatabase>,
}

struct PgDatabase {
    admin_url: String,
    name: String,
}

impl TestDb {
    /// PostgreSQL: the generic plan (the one a connection keeps) of the foreign-key check of a
    /// row that names one of `table`'s rows by `(organization_id, id)`, as `EXPLAIN` prints it.
    pub async fn reference_check_plan(&self, table: &str) -> String {
        use sea_orm::{Database, DbBackend, Statement, TransactionTrait};
        let db = Database::connect(self.url())
            .await
            .expect("connect to the test database");
        // One connection for the three statements: a transaction holds it.
        let txn = db.begin().await.expect("begin");
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_generic_plan")
            .await
            .expect("generic plans");
        txn.execute_unprepared(&format!(
            "PREPARE reference_check(uuid, uuid) AS
                 SELECT 1 FROM ONLY {table} x WHERE organization_id = $1 AND id = $2
                 FOR KEY SHARE OF x"
        ))
        .await
        .expect("prepare");
        txn.query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "EXPLAIN EXECUTE reference_check(gen_random_uuid(), gen_random_uuid())",
        ))
        .await
        .expect("explain")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a plan line"))
        .collect::<Vec<_>>()
        .join("\n")
    }

    /// A fresh, migrated in-memory SQLite database.
    pub async fn sqlite() -> Self {
        let url = "sqlite::memory:".to_owned();
        let store = connect_and_migrate(&url).await;
        Self {
            store,
            url,
            postgres: None,
        }
    }

    /// A fresh, migrated SQLite file in `dir`, for tests that need several connections or a
    /// second process.
    pub async fn sqlite_file(dir: &std::path::Path) -> Self {
        let url = format!("sqlite://{}?mode=rwc", dir.join("orchestore.db").display());
        let store = connect_and_migrate(&url).await;
        Self {
            store,
            url,
            postgres: None,
        }
    }

    /// A fresh, migrated PostgreSQL database on the server named by `ORCHESTORE_TEST_PG_URL`.
    /// Without it: `None` after printing that the test was skipped, or a panic when `CI` is
    /// set, since CI must run both halves.
    pub async fn postgres() -> Option<Self> {
        let db = Self::postgres_unmigrated().await?;
        db.store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("migrating {}: {e}", DatabaseUrl::new(&db.url)));
        Some(db)
    }

    /// Like [`TestDb::postgres`], but with no migration applied.
    pub async fn postgres_unmigrated() -> Option<Self> {
        let Some(admin_url) = pg_admin_url() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{PG_URL_VAR} is not set, and under CI the PostgreSQL tests must run"
            );
            // Straight to stderr: the test harness captures `eprintln!`.
            let _ = writeln!(
                std::io::stderr().lock(),
                "skipped: {PG_URL_VAR} is not set, so this PostgreSQL test did not run"
            );
            return None;
        };
        let name = format!("orchestore_test_{}", Uuid::new_v4().simple());
        let admin = admin_connection(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {PG_URL_VAR}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        admin.close().await.ok();
        let url = replace_database(&admin_url, &name);
        let store = SeaStore::connect(&DbConfig {
            max_connections: 5,
            min_connections: 0,
            ..DbConfig::new(&url)
        })
        .await
        .unwrap_or_else(|e| panic!("connecting to {name}: {e}"))
        .with_password_cost(TEST_BCRYPT_COST);
        Some(Self {
            store,
            url,
            postgres: Some(PgDatabase { admin_url, name }),
        })
    }

    /// An unmigrated in-memory SQLite database.
    pub async fn sqlite_unmigrated() -> Self {
        let url = "sqlite::memory:".to_owned();
        let store = SeaStore::connect(&DbConfig::new(&url))
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"))
            .with_password_cost(TEST_BCRYPT_COST);
        Self {
            store,
            url,
            postgres: None,
        }
    }

    pub fn store(&self) -> &SeaStore {
        &self.store
    }

    /// The database itself, for cases that change it behind the store's back (as an attacker
    /// with access to it would) and check that the store notices.
    pub fn connection(&self) -> &sea_orm::DatabaseConnection {
        self.store.connection()
    }

    /// The database URL (with its password, for tests only).
    pub fn url(&self) -> &str {
        &self.url
    }
}

async fn connect_and_migrate(url: &str) -> SeaStore {
    let store = SeaStore::connect(&DbConfig::new(url))
        .await
        .unwrap_or_else(|e| panic!("opening {url}: {e}"))
        .with_password_cost(TEST_BCRYPT_COST);
    store
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrating {url}: {e}"));
    store
}

/// One connection to the server's admin database, opened as the store opens its pool, so that
/// no log line shows the URL's password.
async fn admin_connection(admin_url: &str) -> orchestore_repo::RepoResult<DatabaseConnection> {
    open_pool(&DbConfig {
        max_connections: 1,
        min_connections: 1,
        ..DbConfig::new(admin_url)
    })
    .await
}

fn pg_admin_url() -> Option<String> {
    std::env::var(PG_URL_VAR)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// `postgres://user@host:5432/postgres?x=y` with the database name replaced.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme| scheme + 3)
        .and_then(|start| base[start..].find('/').map(|slash| start + slash))
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime guarantee: drop the database from a thread of its own.
        let handle = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(admin) = admin_connection(&pg.admin_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg.name);
                    if let Err(e) = admin.execute_unprepared(&drop).await {
                        eprintln!("could not drop test database {}: {e}", pg.name);
                    }
                    admin.close().await.ok();
                }
            });
        });
        handle.join().ok();
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "t3"),
            "postgres://h:5432/t3"
        );
    }
}
