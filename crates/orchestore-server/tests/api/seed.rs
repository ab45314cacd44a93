//! `orchestore seed` and `orchestore seed clean`, run as an operator runs them: the built
//! binary, on a database the test owns (a SQLite file, or PostgreSQL); the app started on the
//! same database for the seeded logins.

use std::collections::BTreeMap;

use orchestore_domain::{NewTask, OrganizationId, Title};
use orchestore_repo::{Ctx, PageRequest, ProjectRepo, TaskRepo};
use orchestore_testkit::{Fixture, TEST_BCRYPT_COST, TestDb};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;

use crate::binary::{Run, orchestore_with};
use crate::helpers::spawn;

const ADMIN_PASSWORD: &str = "seeded admin passphrase";

/// Runs the binary on `url` with `env`, hashing passwords at the tests' cost.
async fn orchestore(url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let cost = TEST_BCRYPT_COST.to_string();
    let mut env = env.to_vec();
    env.push(("ORCHESTORE__AUTH__BCRYPT_COST", &cost));
    orchestore_with(url, args, &env).await
}

/// The number of rows of every table of the database. SQLite's FTS5 shadow tables
/// (`*_fts_data`, `*_fts_idx`, …) are left out: they hold index segments, not rows, and an
/// entry deleted from the index stays in them as a tombstone until FTS5 merges segments; the
/// index's own table (`knowledge_fts`) is counted.
async fn row_counts(db: &TestDb) -> BTreeMap<String, i64> {
    let conn = db.connection();
    let backend = conn.get_database_backend();
    let tables_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables = conn
        .query_all_raw(Statement::from_string(backend, tables_sql))
        .await
        .expect("tables");
    let mut counts = BTreeMap::new();
    for row in tables {
        let table: String = row.try_get("", "name").expect("name");
        if ["_fts_data", "_fts_idx", "_fts_docsize", "_fts_config"]
            .iter()
            .any(|shadow| table.ends_with(shadow))
        {
            continue;
        }
        let count: i64 = conn
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT count(*) AS n FROM \"{table}\""),
            ))
            .await
            .expect("count")
            .expect("a row")
            .try_get("", "n")
            .expect("n");
        counts.insert(table, count);
    }
    counts
}

/// The tables whose counts differ between `before` and `after`.
fn changed(
    before: &BTreeMap<String, i64>,
    after: &BTreeMap<String, i64>,
) -> Vec<(String, i64, i64)> {
    before
        .iter()
        .filter(|(table, n)| after.get(*table) != Some(*n))
        .map(|(table, n)| (table.clone(), *n, after.get(table).copied().unwrap_or(-1)))
        .collect()
}

async fn every_profile_seeds_once(db: TestDb) {
    let unseeded = row_counts(&db).await;
    for (profile, agents, tasks) in [("testing", 2, 3), ("development", 3, 6), ("demo", 6, 16)] {
        let run = orchestore(db.url(), &["seed", "--profile", profile, "--json"], &[]).await;
        assert_eq!(run.status, 0, "{profile}: {}", run.stderr);
        let summary = run.json();
        assert_eq!(summary["status"], "created", "{summary}");
        assert_eq!(summary["slug"], format!("seed-{profile}"));
        let created = &summary["created"];
        assert_eq!(created["users"], 2);
        assert_eq!(created["agents"], agents, "{profile}: {created}");
        assert_eq!(created["tasks"], tasks, "{profile}: {created}");
        for kind in [
            "projects",
            "task_dependencies",
            "tasks_done",
            "workflows",
            "workflow_versions",
            "workflow_executions",
            "templates",
            "knowledge_entries",
            "messages",
            "metric_samples",
        ] {
            assert!(
                created[kind].as_u64() > Some(0),
                "{profile} seeds {kind}: {created}"
            );
        }
        // Both passwords were generated and are shown this once.
        for login in summary["logins"].as_array().expect("logins") {
            assert_eq!(
                login["password"].as_str().map(str::len),
                Some(24),
                "{login}"
            );
        }

        let before = row_counts(&db).await;
        let again = orchestore(db.url(), &["seed", "--profile", profile], &[]).await;
        assert_eq!(again.status, 0, "{}", again.stderr);
        assert!(
            again.stdout.starts_with(&format!(
                "already seeded: profile {profile} is organization seed-{profile} ("
            )),
            "{}",
            again.stdout
        );
        assert!(
            again.stdout.ends_with("nothing changed\n"),
            "{}",
            again.stdout
        );
        assert_eq!(changed(&before, &row_counts(&db).await), vec![]);
    }

    // The seed's data is real data: what the API reads, with the seed's audit rows.
    let store = db.store();
    let summary = orchestore(db.url(), &["seed", "--profile", "demo", "--json"], &[])
        .await
        .json();
    assert_eq!(summary["status"], "already_seeded");
    let demo: OrganizationId =
        serde_json::from_value(summary["organization_id"].clone()).expect("an organization id");
    let projects = store
        .list_projects(&Ctx::system(demo), PageRequest::default())
        .await
        .expect("projects");
    let names: Vec<_> = projects.items.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Apollo") && names.contains(&"Gemini"));

    // Each profile's clean takes back all it wrote, and nothing else.
    for profile in ["testing", "development", "demo"] {
        let clean = orchestore(
            db.url(),
            &["seed", "clean", "--profile", profile, "--confirm"],
            &[],
        )
        .await;
        assert_eq!(clean.status, 0, "{}\n{}", clean.stdout, clean.stderr);
    }
    assert_eq!(changed(&unseeded, &row_counts(&db).await), vec![]);
}

async fn the_seeded_users_log_in(db: TestDb) {
    let run = orchestore(
        db.url(),
        &["seed", "--profile", "development", "--json"],
        &[("ORCHESTORE_SEED_ADMIN_PASSWORD", ADMIN_PASSWORD)],
    )
    .await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let summary = run.json();
    let logins = summary["logins"].as_array().expect("logins");
    // The chosen password is not echoed; the generated one is shown.
    assert_eq!(logins[0]["role"], "admin");
    assert_eq!(logins[0]["password"], Value::Null);
    assert!(
        !run.stdout.contains(ADMIN_PASSWORD) && !run.stderr.contains(ADMIN_PASSWORD),
        "the chosen password is never printed"
    );
    let developer_password = logins[1]["password"]
        .as_str()
        .expect("generated")
        .to_owned();

    // The database has users: the app bootstraps nothing.
    let app = spawn(db).await;
    let admin = app
        .token_in(
            "seed-development",
            "admin@seed-development.example",
            ADMIN_PASSWORD,
        )
        .await;
    let projects = app.get(&admin, "/api/v1/projects").await;
    assert_eq!(projects.status, StatusCode::OK, "{}", projects.body);
    assert_eq!(projects.body["items"][0]["name"], "Apollo");
    let users = app.get(&admin, "/api/v1/users").await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.body);
    assert_eq!(users.body["items"].as_array().map(Vec::len), Some(2));

    let developer = app
        .token_in(
            "seed-development",
            "developer@seed-development.example",
            &developer_password,
        )
        .await;
    let tasks = app.get(&developer, "/api/v1/tasks?limit=100").await;
    assert_eq!(tasks.status, StatusCode::OK, "{}", tasks.body);
    let done = tasks.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|task| task["status"] == "succeeded")
        .count();
    assert_eq!(done, 2, "{}", tasks.body);
    // A developer is no admin.
    app.get(&developer, "/api/v1/users")
        .await
        .assert_problem(StatusCode::FORBIDDEN);

    // Their sessions are trail of the seeded users, not rows of someone else's: they go too.
    let cleaned = orchestore(
        app.db.url(),
        &[
            "seed",
            "clean",
            "--profile",
            "development",
            "--confirm",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(cleaned.status, 0, "{}\n{}", cleaned.stdout, cleaned.stderr);
    let report = cleaned.json();
    assert_eq!(report["status"], "removed");
    assert_eq!(report["trail_rows"]["sessions"], 2, "{report}");
    assert_eq!(report["foreign_rows"], serde_json::json!([]));
    let gone = app
        .login_to(
            "seed-development",
            "admin@seed-development.example",
            ADMIN_PASSWORD,
        )
        .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED, "{}", gone.body);
}

async fn clean_removes_exactly_what_the_seed_created(db: TestDb) {
    let store = db.store();
    // Someone's own organization, beside the seeded one.
    let acme = Fixture::create(store, "acme", "correct horse battery").await;
    let apollo = acme.project(store, "Apollo").await;
    let their_own = store
        .create_task(
            &acme.ctx,
            NewTask::titled(apollo.id, Title::parse("their own").expect("title")),
        )
        .await
        .expect("task");
    let sealed = orchestore(db.url(), &["audit", "seal"], &[]).await;
    assert_eq!(sealed.status, 0, "{}", sealed.stderr);
    let before_seed = row_counts(&db).await;

    let seeded = orchestore(db.url(), &["seed", "--profile", "testing", "--json"], &[]).await;
    assert_eq!(seeded.status, 0, "{}", seeded.stderr);
    let org: OrganizationId =
        serde_json::from_value(seeded.json()["organization_id"].clone()).expect("id");
    let sealed = orchestore(db.url(), &["audit", "seal"], &[]).await;
    assert_eq!(sealed.status, 0, "{}", sealed.stderr);
    let seeded_counts = row_counts(&db).await;

    // Without --confirm: what would go, a non-zero exit, and nothing written.
    let dry = orchestore(db.url(), &["seed", "clean", "--profile", "testing"], &[]).await;
    assert_eq!(dry.status, 1, "{}\n{}", dry.stdout, dry.stderr);
    assert!(
        dry.stdout.starts_with(&format!(
            "would remove organization seed-testing ({org}):\n"
        )),
        "{}",
        dry.stdout
    );
    assert!(dry.stderr.contains("--confirm"), "{}", dry.stderr);
    assert_eq!(changed(&seeded_counts, &row_counts(&db).await), vec![]);

    // A task someone added to the seeded project keeps the organization, named.
    let ctx = Ctx::system(org);
    let project = store
        .list_projects(&ctx, PageRequest::default())
        .await
        .expect("projects")
        .items
        .remove(0);
    let theirs = store
        .create_task(
            &ctx,
            NewTask::titled(project.id, Title::parse("added by hand").expect("title")),
        )
        .await
        .expect("task");
    let with_theirs = row_counts(&db).await;
    let refused = orchestore(
        db.url(),
        &[
            "seed",
            "clean",
            "--profile",
            "testing",
            "--confirm",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(refused.status, 1, "{}\n{}", refused.stdout, refused.stderr);
    let report = refused.json();
    assert_eq!(report["status"], "refused");
    let foreign = report["foreign_rows"].as_array().expect("foreign rows");
    assert_eq!(foreign.len(), 1, "{report}");
    assert_eq!(foreign[0]["table"], "tasks");
    let theirs_id = theirs.id.to_string();
    let theirs_hex = theirs_id.replace('-', "").to_uppercase();
    let key = foreign[0]["key"].as_str().expect("key");
    assert!(
        key.contains(&theirs_id) || key.contains(&theirs_hex),
        "the row is named by its key: {key}"
    );
    assert_eq!(changed(&with_theirs, &row_counts(&db).await), vec![]);

    // Once it is gone, clean removes the seeded organization and only it.
    store
        .delete_task(&ctx, theirs.id, None)
        .await
        .expect("delete");
    let removed = orchestore(
        db.url(),
        &["seed", "clean", "--profile", "testing", "--confirm"],
        &[],
    )
    .await;
    assert_eq!(removed.status, 0, "{}\n{}", removed.stdout, removed.stderr);
    assert!(
        removed
            .stdout
            .starts_with(&format!("removed organization seed-testing ({org}):\n")),
        "{}",
        removed.stdout
    );
    assert_eq!(changed(&before_seed, &row_counts(&db).await), vec![]);
    assert_eq!(
        store
            .get_task(&acme.ctx, their_own.id)
            .await
            .expect("their task stays")
            .title
            .as_str(),
        "their own"
    );

    // The audit chains that remain still verify, and the profile can be seeded again.
    let verified = orchestore(db.url(), &["audit", "verify"], &[]).await;
    assert_eq!(
        verified.status, 0,
        "{}\n{}",
        verified.stdout, verified.stderr
    );
    assert_eq!(verified.stdout.lines().count(), 1, "{}", verified.stdout);
    assert!(verified.stdout.starts_with(&format!("{}  ok", acme.org.id)));
    let nothing = orchestore(db.url(), &["seed", "clean", "--profile", "testing"], &[]).await;
    assert_eq!(
        (nothing.status, nothing.stdout.as_str()),
        (
            0,
            "nothing to clean: no organization seed-testing (profile testing is not seeded)\n"
        )
    );
    let again = orchestore(db.url(), &["seed", "--profile", "testing"], &[]).await;
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(again.stdout.starts_with("seeded profile testing"));
}

/// An organization with the seed's slug that the seed did not create is left alone.
async fn a_slug_taken_by_someone_else_is_left_alone(db: TestDb) {
    Fixture::create(db.store(), "seed-testing", "correct horse battery").await;
    let before = row_counts(&db).await;
    let seed = orchestore(db.url(), &["seed", "--profile", "testing"], &[]).await;
    assert_eq!(seed.status, 1, "{}", seed.stdout);
    assert!(
        seed.stderr.contains("was not created by `orchestore seed`"),
        "{}",
        seed.stderr
    );
    let clean = orchestore(
        db.url(),
        &["seed", "clean", "--profile", "testing", "--confirm"],
        &[],
    )
    .await;
    assert_eq!(clean.status, 1, "{}", clean.stdout);
    assert!(
        clean
            .stderr
            .contains("was not created by `orchestore seed`"),
        "{}",
        clean.stderr
    );
    assert_eq!(changed(&before, &row_counts(&db).await), vec![]);
}

on_file_backends!(
    every_profile_seeds_once,
    the_seeded_users_log_in,
    clean_removes_exactly_what_the_seed_created,
    a_slug_taken_by_someone_else_is_left_alone,
);
