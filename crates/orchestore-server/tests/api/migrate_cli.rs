//! `orchestore migrate …`, `orchestore verify` and the start-up refusals, run as an operator
//! runs them: the built binary, on a database the test owns (a SQLite file, or PostgreSQL).

use std::fs::OpenOptions;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use orchestore_repo::OrganizationRepo;
use orchestore_sea::{DbConfig, MIGRATION_LOCK_KEY, SeaStore};
use orchestore_testkit::{Fixture, TestDb};
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use crate::binary::{Run, orchestore};

/// `orchestore ARGS` on `url`, with nothing of the test's environment but `env`.
fn start(url: &str, args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_orchestore"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", url)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("orchestore starts")
}

/// Waits for `child`, killing it (and failing) after two minutes.
async fn finish(mut child: Child) -> Run {
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(120);
        while child.try_wait().expect("try_wait").is_none() {
            if Instant::now() > deadline {
                child.kill().ok();
                panic!("orchestore did not exit within two minutes");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().expect("the output");
        Run {
            status: output.status.code().expect("an exit status"),
            stdout: String::from_utf8(output.stdout).expect("utf-8"),
            stderr: String::from_utf8(output.stderr).expect("utf-8"),
        }
    })
    .await
    .expect("the run ends")
}

async fn count(store: &SeaStore, sql: &str) -> i64 {
    let backend = store.connection().get_database_backend();
    store
        .connection()
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .expect("count")
        .expect("a row")
        .try_get_by_index(0)
        .expect("a number")
}

async fn shipped(store: &SeaStore) -> Vec<String> {
    store
        .migration_status()
        .await
        .expect("status")
        .into_iter()
        .map(|m| m.name)
        .collect()
}

/// Two `migrate up` started while the test holds the migration lock: both wait; once it is
/// released, one applies every migration and the other none, and each is recorded once.
async fn concurrent_ups_apply_each_migration_once(url: &str, release: impl AsyncFnOnce()) {
    let first = start(url, &["migrate", "up"], &[]);
    let second = start(url, &["migrate", "up"], &[]);
    // Both are waiting for the lock the test holds.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (mut first, mut second) = (first, second);
    assert!(
        first.try_wait().expect("try_wait").is_none(),
        "the first waits"
    );
    assert!(
        second.try_wait().expect("try_wait").is_none(),
        "the second waits"
    );
    release().await;
    let (first, second) = (finish(first).await, finish(second).await);
    assert_eq!(
        (first.status, second.status),
        (0, 0),
        "{first:?}\n{second:?}"
    );

    let store = SeaStore::connect(&DbConfig::new(url)).await.expect("open");
    let total = shipped(&store).await.len();
    let mut outputs = [first.stdout, second.stdout];
    outputs.sort();
    assert_eq!(
        outputs,
        [
            "applied 0 migration(s); the database is up to date\n".to_owned(),
            format!("applied {total} migration(s); the database is up to date\n"),
        ]
    );
    let rows = count(&store, "SELECT COUNT(*) FROM seaql_migrations").await;
    let versions = count(
        &store,
        "SELECT COUNT(DISTINCT version) FROM seaql_migrations",
    )
    .await;
    let checksums = count(
        &store,
        "SELECT COUNT(*) FROM orchestore_migration_checksums",
    )
    .await;
    let total = i64::try_from(total).expect("a count");
    assert_eq!((rows, versions, checksums), (total, total, total));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_migrate_ups_at_once_apply_each_migration_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path().canonicalize().expect("the directory");
    let file = dir.join("orchestore.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(format!("{}-migrate-lock", file.display()))
        .expect("the lock file");
    lock.lock().expect("the lock");
    concurrent_ups_apply_each_migration_once(&url, async || {
        lock.unlock().expect("unlock");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_migrate_ups_at_once_apply_each_migration_once() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    // The transaction keeps one connection, whose session holds the lock.
    let holder = db.connection().begin().await.expect("begin");
    let lock = |sql: &str| {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, [MIGRATION_LOCK_KEY.into()])
    };
    holder
        .execute_raw(lock("SELECT pg_advisory_lock($1)"))
        .await
        .expect("the lock");
    concurrent_ups_apply_each_migration_once(db.url(), async || {
        holder
            .execute_raw(lock("SELECT pg_advisory_unlock($1)"))
            .await
            .expect("unlock");
        holder.commit().await.expect("commit");
    })
    .await;
}

on_file_backends!(
    a_changed_migration_is_refused_by_name,
    a_newer_schema_stops_the_server_naming_both_versions,
    down_and_fresh_on_data_ask_for_confirm,
    verify_reports_drift,
);

async fn a_changed_migration_is_refused_by_name(db: TestDb) {
    let store = db.store();
    let changed = "m20261127_000006_agents";
    store
        .connection()
        .execute_unprepared(&format!(
            "UPDATE orchestore_migration_checksums SET checksum = 'edited' WHERE version = '{changed}'"
        ))
        .await
        .expect("tamper");
    for args in [&["migrate", "up"][..], &["migrate", "status"], &["verify"]] {
        let run = orchestore(db.url(), args).await;
        assert_eq!(run.status, 1, "{args:?}: {run:?}");
        assert!(
            run.stderr.contains(&format!(
                "migration {changed} was changed after it was applied to this database"
            )),
            "{args:?}: {}",
            run.stderr
        );
    }
    let serve = finish(start(
        db.url(),
        &["serve"],
        &[("ORCHESTORE__SERVER__PORT", "0")],
    ))
    .await;
    assert_eq!(serve.status, 1, "{serve:?}");
    assert!(serve.stderr.contains(changed), "{}", serve.stderr);
}

async fn a_newer_schema_stops_the_server_naming_both_versions(db: TestDb) {
    let store = db.store();
    let newest_shipped = shipped(store).await.into_iter().max().expect("migrations");
    let future = "m20991231_000999_from_a_newer_orchestore";
    store
        .connection()
        .execute_unprepared(&format!(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{future}', 0)"
        ))
        .await
        .expect("a newer migration's row");
    let refusal = format!(
        "the database schema is at {future} but this binary knows migrations up to \
         {newest_shipped}: upgrade orchestore"
    );
    for auto_migrate in ["true", "false"] {
        let serve = finish(start(
            db.url(),
            &["serve"],
            &[
                ("ORCHESTORE__SERVER__PORT", "0"),
                ("ORCHESTORE__DATABASE__AUTO_MIGRATE", auto_migrate),
            ],
        ))
        .await;
        assert_eq!(serve.status, 1, "auto_migrate {auto_migrate}: {serve:?}");
        assert!(serve.stderr.contains(&refusal), "{}", serve.stderr);
    }
    let up = orchestore(db.url(), &["migrate", "up"]).await;
    assert_eq!(up.status, 1, "{up:?}");
    assert!(up.stderr.contains(&refusal), "{}", up.stderr);
}

async fn down_and_fresh_on_data_ask_for_confirm(db: TestDb) {
    let store = db.store();
    let total = shipped(store).await.len();
    let applied = async || {
        store
            .migration_status()
            .await
            .expect("status")
            .iter()
            .filter(|m| m.applied)
            .count()
    };
    let acme = Fixture::create(store, "acme", "correct horse battery").await;

    for args in [&["migrate", "down"][..], &["migrate", "fresh"]] {
        let refused = orchestore(db.url(), args).await;
        assert_eq!(refused.status, 1, "{args:?}: {refused:?}");
        assert!(refused.stderr.contains("holds data"), "{}", refused.stderr);
        assert!(
            refused.stderr.contains("add --confirm"),
            "{}",
            refused.stderr
        );
        assert_eq!(applied().await, total, "{args:?} changed nothing");
        assert!(
            store.get_organization(&acme.ctx).await.is_ok(),
            "the organization is still there"
        );
    }

    let down = orchestore(db.url(), &["migrate", "down", "--confirm"]).await;
    assert_eq!(
        (down.status, down.stdout.as_str()),
        (0, "reverted 1 migration(s)\n"),
        "{}",
        down.stderr
    );
    assert_eq!(applied().await, total - 1);

    // `--yes` shipped for `fresh`: it still confirms.
    let fresh = orchestore(db.url(), &["migrate", "fresh", "--yes"]).await;
    assert_eq!(fresh.status, 0, "{}", fresh.stderr);
    assert_eq!(
        fresh.stdout,
        format!(
            "reverted {} migration(s) and applied {total} again\n",
            total - 1
        )
    );
    assert_eq!(applied().await, total);

    // An empty database holds nothing to lose: no confirmation asked.
    let down = orchestore(db.url(), &["migrate", "down", "--steps", "2"]).await;
    assert_eq!(
        (down.status, down.stdout.as_str()),
        (0, "reverted 2 migration(s)\n"),
        "{}",
        down.stderr
    );
    let checksums = count(store, "SELECT COUNT(*) FROM orchestore_migration_checksums").await;
    assert_eq!(checksums, i64::try_from(total - 2).expect("a count"));
}

async fn verify_reports_drift(db: TestDb) {
    let store = db.store();
    let total = shipped(store).await.len();
    let clean = orchestore(db.url(), &["verify"]).await;
    assert_eq!(
        (clean.status, clean.stdout.as_str()),
        (0, format!("schema matches {total} migrations\n").as_str()),
        "{}",
        clean.stderr
    );

    let conn = store.connection();
    conn.execute_unprepared("DROP INDEX idx_execution_steps_organization_execution_id")
        .await
        .expect("drop an index");
    conn.execute_unprepared("ALTER TABLE agents ADD COLUMN nickname TEXT")
        .await
        .expect("add a column");
    widen_learning_records_created_by(&db).await;

    let drift = orchestore(db.url(), &["verify"]).await;
    assert_eq!(drift.status, 4, "{drift:?}");
    let (text, varchar) = match conn.get_database_backend() {
        DbBackend::Postgres => ("text", "character varying"),
        _ => ("TEXT", "VARCHAR"),
    };
    assert_eq!(
        drift.stdout.lines().collect::<Vec<_>>(),
        [
            format!("agents: unexpected column nickname ({text} null)"),
            "execution_steps: missing index idx_execution_steps_organization_execution_id \
             (organization_id, execution_id, id)"
                .to_owned(),
            format!(
                "learning_records.created_by: is {varchar}(300) not null, the migrations build \
                 {varchar}(100) not null"
            ),
        ]
    );
    assert!(
        drift.stderr.contains(&format!(
            "the schema differs from what {total} migrations build: 3 difference(s)"
        )),
        "{}",
        drift.stderr
    );

    if conn.get_database_backend() == DbBackend::Postgres {
        let scratch = count(
            store,
            "SELECT COUNT(*) FROM pg_namespace WHERE nspname LIKE 'orchestore_verify_%'",
        )
        .await;
        assert_eq!(scratch, 0, "the scratch schemas are dropped");
    }

    // A pending migration is reported as such, and fails too.
    store.rollback(Some(1)).await.expect("revert one");
    let pending = orchestore(db.url(), &["verify"]).await;
    assert_eq!(pending.status, 4, "{pending:?}");
    assert!(
        pending.stdout.starts_with("pending  m"),
        "{}",
        pending.stdout
    );
    assert!(
        pending.stderr.contains("1 migration(s) pending"),
        "{}",
        pending.stderr
    );
}

/// Changes the type of `learning_records.created_by` from a varchar(100) to a varchar(300):
/// PostgreSQL alters it; SQLite, which cannot, rebuilds the table (nothing refers to it).
async fn widen_learning_records_created_by(db: &TestDb) {
    let conn = db.connection();
    if conn.get_database_backend() == DbBackend::Postgres {
        conn.execute_unprepared(
            "ALTER TABLE learning_records ALTER COLUMN created_by TYPE varchar(300)",
        )
        .await
        .expect("alter the type");
        return;
    }
    let txn = conn.begin().await.expect("begin");
    let ddl: Vec<String> = txn
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'learning_records' \
             AND sql IS NOT NULL ORDER BY type DESC",
        ))
        .await
        .expect("the DDL")
        .iter()
        .map(|row| row.try_get_by_index(0).expect("sql"))
        .collect();
    txn.execute_unprepared("DROP TABLE learning_records")
        .await
        .expect("drop");
    for statement in &ddl {
        let widened =
            statement.replace("\"created_by\" varchar(100)", "\"created_by\" varchar(300)");
        txn.execute_unprepared(&widened).await.expect("recreate");
    }
    assert!(ddl[0].contains("\"created_by\" varchar(100)"), "{}", ddl[0]);
    txn.commit().await.expect("commit");
}
