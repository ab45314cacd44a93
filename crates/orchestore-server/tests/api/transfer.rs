//! `orchestore copy`, `orchestore export` and `orchestore import jsonl`, run as an operator
//! runs them: the built binary, between databases the test owns (SQLite files, PostgreSQL
//! databases), filled through the repositories with one of each row an organization holds.
//!
//! Databases are compared through their dumps: every row of every table in its
//! backend-independent form, the system roles (which each database's migrations seed with ids
//! of their own) named by their code.

use std::collections::BTreeMap;
use std::path::Path;

use orchestore_testkit::TestDb;
use orchestore_testkit::cases::isolation::populate_organization;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::binary::{Run, orchestore_with};

async fn orchestore(url: &str, args: &[&str]) -> Run {
    orchestore_with(url, args, &[("RUST_LOG", "warn")]).await
}

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A database a test owns, by URL: kept (and dropped) with this value.
struct Database {
    url: String,
    _db: Option<TestDb>,
    _dir: tempfile::TempDir,
}

impl Database {
    /// A database with no table at all. `None`: PostgreSQL is not configured.
    async fn empty(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        Some(match backend {
            Backend::Sqlite => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("empty.db").display()
                ),
                _db: None,
                _dir: dir,
            },
            Backend::Postgres => {
                let db = TestDb::postgres_unmigrated().await?;
                Self {
                    url: db.url().to_owned(),
                    _db: Some(db),
                    _dir: dir,
                }
            }
        })
    }

    /// A migrated database holding organizations `slugs`, each filled.
    async fn filled(backend: Backend, slugs: &[&str]) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = match backend {
            Backend::Sqlite => TestDb::sqlite_file(dir.path()).await,
            Backend::Postgres => TestDb::postgres().await?,
        };
        for slug in slugs {
            populate_organization(db.store(), slug).await;
        }
        Some(Self {
            url: db.url().to_owned(),
            _db: Some(db),
            _dir: dir,
        })
    }

    fn store(&self) -> &TestDb {
        self._db
            .as_ref()
            .expect("a database opened by the test kit")
    }

    async fn export(&self, organization: Option<&str>) -> Dump {
        let mut args = vec!["export"];
        if let Some(org) = organization {
            args.extend(["--organization", org]);
        }
        let run = orchestore(&self.url, &args).await;
        assert_eq!(run.status, 0, "export: {}", run.stderr);
        Dump::parse(&run.stdout)
    }
}

/// A dump, parsed.
#[derive(Debug, PartialEq)]
struct Dump {
    text: String,
    rows: BTreeMap<String, Vec<Value>>,
    end: BTreeMap<String, Value>,
}

impl Dump {
    fn parse(text: &str) -> Self {
        let mut lines = text.lines();
        let header: Value = serde_json::from_str(lines.next().expect("a header")).expect("json");
        assert_eq!(header["orchestore_dump"], 1, "{header}");
        let mut rows: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut end = BTreeMap::new();
        for line in lines {
            let line: Value = serde_json::from_str(line).expect("json");
            if let Some(tables) = line.get("end") {
                end = serde_json::from_value(tables.clone()).expect("the last line");
            } else {
                let table = line["table"].as_str().expect("a table").to_owned();
                rows.entry(table).or_default().push(line["row"].clone());
            }
        }
        assert!(!end.is_empty(), "the dump ends with its last line");
        Self {
            text: text.to_owned(),
            rows,
            end,
        }
    }

    fn organization(&self, slug: &str) -> String {
        self.rows["organizations"]
            .iter()
            .find(|row| row["slug"] == slug)
            .and_then(|row| row["id"].as_str())
            .unwrap_or_else(|| panic!("no organization {slug}"))
            .to_owned()
    }

    fn system_roles(&self) -> BTreeMap<String, String> {
        self.rows
            .get("roles")
            .into_iter()
            .flatten()
            .filter(|row| row["organization_id"].is_null())
            .map(|row| {
                (
                    row["id"].as_str().expect("id").to_owned(),
                    format!("system role {}", row["code"].as_str().expect("code")),
                )
            })
            .collect()
    }

    /// Every row of every table, sorted, with the ids of `system_roles` (id → name) replaced by
    /// their names; the system roles' own rows (seeded by each database's migrations) left out.
    fn comparable(&self, system_roles: &BTreeMap<String, String>) -> BTreeMap<String, Vec<String>> {
        self.rows
            .iter()
            .map(|(table, rows)| {
                let mut lines: Vec<String> = rows
                    .iter()
                    .filter(|row| !(table == "roles" && row["organization_id"].is_null()))
                    .map(|row| {
                        let mut line = row.to_string();
                        for (id, name) in system_roles {
                            line = line.replace(id, name);
                        }
                        line
                    })
                    .collect();
                lines.sort();
                (table.clone(), lines)
            })
            .collect()
    }
}

/// Asserts that `b` holds exactly the rows of `a` (ids, timestamps and all).
fn assert_same_rows(a: &Dump, a_roles: &Dump, b: &Dump, b_roles: &Dump) {
    let (left, right) = (
        a.comparable(&a_roles.system_roles()),
        b.comparable(&b_roles.system_roles()),
    );
    assert_eq!(
        left.keys().collect::<Vec<_>>(),
        right.keys().collect::<Vec<_>>()
    );
    for (table, rows) in &left {
        assert_eq!(rows, &right[table], "table {table}");
    }
}

fn write_dump(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the dump");
    path.display().to_string()
}

async fn copy(from: &str, to: &str) -> Run {
    orchestore(from, &["copy", "--from", from, "--to", to]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_from_sqlite_to_postgres_and_back_keeps_every_row() {
    let source = Database::filled(Backend::Sqlite, &["acme", "beta"])
        .await
        .expect("sqlite");
    let Some(postgres) = Database::empty(Backend::Postgres).await else {
        return;
    };
    let back = Database::empty(Backend::Sqlite).await.expect("sqlite");

    let there = copy(&source.url, &postgres.url).await;
    assert_eq!(there.status, 0, "{}", there.stderr);
    assert!(
        there.stdout.contains("counts and checksums verified"),
        "{}",
        there.stdout
    );
    let again = copy(&postgres.url, &back.url).await;
    assert_eq!(again.status, 0, "{}", again.stderr);

    let (original, on_postgres, returned) = (
        source.export(None).await,
        postgres.export(None).await,
        back.export(None).await,
    );
    assert!(original.rows["tasks"].len() >= 4 && !original.rows["knowledge_embeddings"].is_empty());
    assert_same_rows(&original, &original, &on_postgres, &on_postgres);
    assert_same_rows(&original, &original, &returned, &returned);
    // The per-table counts and checksums of the rows that are not seeded agree too.
    for table in [
        "tasks",
        "task_dependencies",
        "task_events",
        "audit_logs",
        "knowledge_embeddings",
    ] {
        assert_eq!(original.end[table], returned.end[table], "{table}");
        assert_eq!(original.end[table], on_postgres.end[table], "{table}");
    }
    // Each summary line names a table with its source count.
    let tasks_line = there
        .stdout
        .lines()
        .find(|l| l.starts_with("tasks "))
        .expect("a line for tasks");
    assert!(
        tasks_line.contains(&original.rows["tasks"].len().to_string()),
        "{tasks_line}"
    );

    // The audit chains still verify, to the same heads.
    let verified = orchestore(&source.url, &["audit", "verify"]).await;
    for db in [&postgres.url, &back.url] {
        let run = orchestore(db, &["audit", "verify"]).await;
        assert_eq!(run.status, 0, "{}", run.stderr);
        assert_eq!(run.stdout, verified.stdout);
    }
    // SQLite's full-text keys are the target's own, rebuilt by its triggers.
    let keys = sea_orm::Database::connect(&back.url)
        .await
        .expect("connect")
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT COUNT(*) FROM knowledge_fts_keys",
        ))
        .await
        .expect("count")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a count");
    assert_eq!(
        usize::try_from(keys).expect("count"),
        returned.rows["knowledge_entries"].len()
    );
}

async fn a_dump_moves_between_backends(from: Backend, to: Backend) {
    let Some(source) = Database::filled(from, &["acme", "beta"]).await else {
        return;
    };
    let Some(target) = Database::empty(to).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = source.export(None).await;
    let path = write_dump(dir.path(), "dump.jsonl", &dump.text);

    let import = orchestore(&target.url, &["import", "jsonl", &path]).await;
    assert_eq!(import.status, 0, "{}", import.stderr);
    assert!(import.stdout.contains("imported "), "{}", import.stdout);
    let imported = target.export(None).await;
    assert_same_rows(&dump, &dump, &imported, &imported);

    // The same dump again: the first organization's row it meets collides (named by its
    // table and key), and nothing is written.
    let twice = orchestore(&target.url, &["import", "jsonl", &path]).await;
    assert_eq!(twice.status, 1);
    assert!(
        twice
            .stderr
            .contains("the target already holds a row of table ")
            && twice.stderr.contains("nothing was written"),
        "{}",
        twice.stderr
    );
    assert_eq!(target.export(None).await, imported);

    // A dump cut short is refused, and nothing is written.
    let fresh = Database::empty(to).await.expect("the same backend again");
    let cut: Vec<&str> = dump.text.lines().collect();
    let cut = cut[..cut.len() - 1].join("\n") + "\n";
    let cut_path = write_dump(dir.path(), "cut.jsonl", &cut);
    let refused = orchestore(&fresh.url, &["import", "jsonl", &cut_path]).await;
    assert_eq!(refused.status, 1);
    assert!(refused.stderr.contains("cut short"), "{}", refused.stderr);
    let left = fresh.export(None).await;
    assert!(
        !left.rows.contains_key("organizations"),
        "nothing of the dump: {:?}",
        left.rows.keys()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_dump_moves_into_postgres() {
    a_dump_moves_between_backends(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_dump_moves_into_sqlite() {
    a_dump_moves_between_backends(Backend::Postgres, Backend::Sqlite).await;
}

async fn an_organization_moves_in_beside_another(from: Backend, to: Backend) {
    let Some(source) = Database::filled(from, &["acme", "beta"]).await else {
        return;
    };
    let Some(target) = Database::filled(to, &["gamma"]).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let source_all = source.export(None).await;
    let (acme, beta) = (
        source_all.organization("acme"),
        source_all.organization("beta"),
    );
    let dump = source.export(Some(&acme)).await;
    assert!(!dump.text.contains(&beta), "nothing of beta in acme's dump");
    assert!(!dump.rows.contains_key("permissions"), "no global table");
    assert_eq!(dump.rows["organizations"].len(), 1);
    let target_before = target.export(None).await;
    let gamma = target_before.organization("gamma");
    let gamma_before = target.export(Some(&gamma)).await;
    let path = write_dump(dir.path(), "acme.jsonl", &dump.text);

    let import = orchestore(&target.url, &["import", "jsonl", &path]).await;
    assert_eq!(import.status, 0, "{}", import.stderr);

    let target_after = target.export(None).await;
    assert_same_rows(
        &dump,
        &source_all,
        &target.export(Some(&acme)).await,
        &target_after,
    );
    assert_eq!(target.export(Some(&gamma)).await, gamma_before);
    assert!(!target_after.text.contains(&beta));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_from_sqlite_moves_in_beside_another_on_postgres() {
    an_organization_moves_in_beside_another(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_from_postgres_moves_in_beside_another_on_sqlite() {
    an_organization_moves_in_beside_another(Backend::Postgres, Backend::Sqlite).await;
}

/// An organization's dump into a database that has an organization of the same slug (two
/// servers bootstrapped alike, say) is refused at the organization itself: never merged.
async fn an_organization_is_never_merged_into_one_with_its_slug(from: Backend, to: Backend) {
    let Some(source) = Database::filled(from, &["acme"]).await else {
        return;
    };
    let Some(target) = Database::filled(to, &["acme"]).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let acme = source.export(None).await.organization("acme");
    let dump = source.export(Some(&acme)).await;
    let path = write_dump(dir.path(), "acme.jsonl", &dump.text);
    let before = target.export(None).await;

    let import = orchestore(&target.url, &["import", "jsonl", &path]).await;
    assert_ne!(import.status, 0, "{}", import.stdout);
    assert!(
        import.stderr.contains("organizations"),
        "the organization is named: {}",
        import.stderr
    );
    assert_eq!(target.export(None).await, before, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_from_sqlite_is_never_merged_into_one_with_its_slug() {
    an_organization_is_never_merged_into_one_with_its_slug(Backend::Sqlite, Backend::Postgres)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_from_postgres_is_never_merged_into_one_with_its_slug() {
    an_organization_is_never_merged_into_one_with_its_slug(Backend::Postgres, Backend::Sqlite)
        .await;
}

/// The target fails on the last table the copy writes, after every other table is in: the
/// copy stops with an error and the target holds what it held before.
async fn an_interrupted_copy_leaves_the_target_unchanged(from: Backend, to: Backend) {
    let Some(source) = Database::filled(from, &["acme"]).await else {
        return;
    };
    let Some(target) = Database::filled(to, &[]).await else {
        return;
    };
    let last = "workflow_execution_tasks";
    assert!(!source.export(None).await.rows[last].is_empty());
    let interrupt: &[&str] = match to {
        Backend::Postgres => &[
            "CREATE FUNCTION interrupt() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN RAISE EXCEPTION 'interrupted'; END $$",
            "CREATE TRIGGER interrupt BEFORE INSERT ON workflow_execution_tasks \
             FOR EACH ROW EXECUTE FUNCTION interrupt()",
        ],
        Backend::Sqlite => &[
            "CREATE TRIGGER interrupt BEFORE INSERT ON workflow_execution_tasks \
              BEGIN SELECT RAISE(ABORT, 'interrupted'); END",
        ],
    };
    for sql in interrupt {
        target
            .store()
            .connection()
            .execute_unprepared(sql)
            .await
            .expect("the interruption");
    }
    let before = target.export(None).await;

    let run = copy(&source.url, &target.url).await;
    assert_eq!(run.status, 1, "{}", run.stdout);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("writing {last}")),
        "{}",
        run.stderr
    );
    assert_eq!(target.export(None).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_copy_into_postgres_leaves_it_unchanged() {
    an_interrupted_copy_leaves_the_target_unchanged(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_copy_into_sqlite_leaves_it_unchanged() {
    an_interrupted_copy_leaves_the_target_unchanged(Backend::Postgres, Backend::Sqlite).await;
}

async fn a_target_at_another_version_is_refused(from: Backend, to: Backend) {
    let Some(source) = Database::filled(from, &["acme"]).await else {
        return;
    };
    let Some(target) = Database::filled(to, &[]).await else {
        return;
    };
    let down = orchestore(&target.url, &["migrate", "down"]).await;
    assert_eq!(down.status, 0, "{}", down.stderr);
    let mut names: Vec<String> = target
        .store()
        .store()
        .migration_status()
        .await
        .expect("status")
        .into_iter()
        .map(|m| m.name)
        .collect();
    names.sort();
    let (newest, previous) = (&names[names.len() - 1], &names[names.len() - 2]);

    let run = copy(&source.url, &target.url).await;
    assert_eq!(run.status, 1);
    assert!(
        run.stderr.contains(&format!(
            "the source is at migration {newest} and the target at {previous}"
        )),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_target_at_another_version_is_refused() {
    a_target_at_another_version_is_refused(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_target_at_another_version_is_refused() {
    a_target_at_another_version_is_refused(Backend::Postgres, Backend::Sqlite).await;
}
