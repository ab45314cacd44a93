//! `orchestore audit seal`, `audit verify`, `status`, `retention run`, `queue share`, and the
//! logs of `serve`,
//! run as an operator runs them: the built binary, on a database the test owns (a SQLite file,
//! or PostgreSQL), another process than the one that wrote and then tampered with it.

use orchestore_domain::{AgentKind, Name, NewAgent, NewTask, Title};
use orchestore_repo::{AgentRepo, AuditFilter, AuditRepo, Ctx, PageRequest, TaskRepo};
use orchestore_testkit::{Fixture, TestDb};

use crate::binary::{orchestore, orchestore_with};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

async fn the_audit_commands_seal_verify_and_name_a_broken_chain(db: TestDb) {
    let store = db.store();
    let acme = Fixture::create(store, "acme", "correct horse battery").await;
    let project = acme.project(store, "Apollo").await;
    for title in ["one", "two"] {
        store
            .create_task(
                &acme.ctx,
                NewTask::titled(project.id, Title::parse(title).expect("title")),
            )
            .await
            .expect("task");
    }
    let other = Fixture::create(store, "other", "correct horse battery").await;
    let (acme, other) = (acme.org.id, other.org.id);

    let unsealed = orchestore(db.url(), &["audit", "verify"]).await;
    assert_eq!(unsealed.status, 0, "{}", unsealed.stderr);
    assert_eq!(
        unsealed.line(acme),
        format!("{acme}  ok  nothing sealed yet  (5 unsealed)")
    );

    let sealed = orchestore(db.url(), &["audit", "seal"]).await;
    assert_eq!(sealed.status, 0, "{}", sealed.stderr);
    let head = store
        .verify_audit(&Ctx::system(acme))
        .await
        .expect("verify")
        .head
        .expect("a head");
    assert_eq!(
        sealed.line(acme),
        format!("{acme}  sealed 5  head seq 5 hash {}", head.hash)
    );
    assert!(
        sealed
            .line(other)
            .starts_with(&format!("{other}  sealed 2"))
    );

    let again = orchestore(db.url(), &["audit", "seal"]).await;
    assert_eq!(
        (again.status, again.stdout.as_str()),
        (0, "no organization has unsealed audit rows\n")
    );

    let verified = orchestore(db.url(), &["audit", "verify"]).await;
    assert_eq!(verified.status, 0, "{}", verified.stderr);
    assert_eq!(
        verified.line(acme),
        format!("{acme}  ok  head seq 5 hash {}", head.hash)
    );
    let one = orchestore(
        db.url(),
        &["audit", "verify", "--organization", &other.to_string()],
    )
    .await;
    assert_eq!(one.status, 0, "{}", one.stderr);
    assert_eq!(one.stdout.lines().count(), 1, "{}", one.stdout);
    assert!(
        one.line(other)
            .starts_with(&format!("{other}  ok  head seq 2 "))
    );

    // The third row of acme's chain goes; the command names it and fails with status 3.
    let rows = store
        .list_audit(
            &Ctx::system(acme),
            AuditFilter::default(),
            PageRequest::default(),
        )
        .await
        .expect("rows")
        .items;
    let third = rows.iter().find(|e| e.seq == Some(3)).expect("seq 3");
    let delete = Query::delete()
        .from_table(Alias::new("audit_logs"))
        .and_where(Expr::col(Alias::new("organization_id")).eq(acme.as_uuid()))
        .and_where(Expr::col(Alias::new("id")).eq(third.id.as_uuid()))
        .to_owned();
    db.connection().execute(&delete).await.expect("tamper");
    let fourth = rows.iter().find(|e| e.seq == Some(4)).expect("seq 4");
    let broken = orchestore(db.url(), &["audit", "verify"]).await;
    assert_eq!(broken.status, 3, "{}\n{}", broken.stdout, broken.stderr);
    assert_eq!(
        broken.line(acme),
        format!(
            "{acme}  BROKEN  seq 3 is missing (removed) before row {} at seq 4  (2 rows \
             verified before it)",
            fourth.id
        )
    );
    assert!(broken.line(other).starts_with(&format!("{other}  ok  ")));
    assert!(
        broken.stderr.contains("1 audit chain(s) broken"),
        "{}",
        broken.stderr
    );

    let usage = orchestore(db.url(), &["audit", "verify", "--organization", "acme"]).await;
    assert_eq!(usage.status, 2, "a usage error: {}", usage.stderr);
}

/// `orchestore status` and `status --json` on a database with work in its queue, then with a
/// migration pending.
async fn status_reports_the_database_and_its_queue(db: TestDb) {
    let store = db.store();
    let acme = Fixture::create(store, "acme", "correct horse battery").await;
    let project = acme.project(store, "Apollo").await;
    for title in ["one", "two", "three"] {
        store
            .create_task(
                &acme.ctx,
                NewTask::titled(project.id, Title::parse(title).expect("title")),
            )
            .await
            .expect("task");
    }
    let known = store.migration_status().await.expect("migrations").len();
    let postgres = db.url().starts_with("postgres");

    let text = orchestore(db.url(), &["status"]).await;
    assert_eq!(text.status, 0, "{}", text.stderr);
    let out = &text.stdout;
    assert!(out.contains("database     reachable, round trip "), "{out}");
    let backend = if postgres {
        "backend      PostgreSQL "
    } else {
        "backend      SQLite "
    };
    assert!(out.contains(backend), "{out}");
    assert!(
        out.contains(&format!("migrations   {known} applied, 0 pending")),
        "{out}"
    );
    assert!(out.contains("queue (every organization)"), "{out}");
    // Nothing seals in this test: every audit row written above waits for the sealer.
    let backlog = store.audit_backlog().await.expect("audit backlog");
    assert!(backlog.unsealed >= 5, "{backlog:?}");
    assert!(
        out.contains(&format!(
            "audit        {} rows unsealed, the oldest written ",
            backlog.unsealed
        )),
        "{out}"
    );
    let queued = out
        .lines()
        .find(|line| line.trim_start().starts_with("queued "))
        .unwrap_or_else(|| panic!("no queued line in:\n{out}"));
    assert_eq!(queued.split_whitespace().last(), Some("3"), "{out}");
    if postgres {
        assert!(out.contains("in use"), "{out}");
    } else {
        assert!(out.contains("connections  not applicable"), "{out}");
    }

    let json = orchestore(db.url(), &["status", "--json"]).await;
    assert_eq!(json.status, 0, "{}", json.stderr);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON object");
    assert_eq!(
        report["database"]["backend"],
        if postgres { "postgres" } else { "sqlite" }
    );
    assert!(report["database"]["server_version"].is_string());
    assert!(report["database"]["round_trip_ms"].as_f64().is_some());
    assert!(report["orchestore_version"].is_string());
    assert_eq!(report["migrations"]["applied"], known);
    assert_eq!(report["migrations"]["pending"], serde_json::json!([]));
    assert_eq!(
        report["queue"],
        serde_json::json!({"blocked": 0, "queued": 3, "scheduled": 0, "running": 0,
                           "expired_leases": 0})
    );
    assert_eq!(report["audit"]["unsealed"], backlog.unsealed, "{report}");
    assert_eq!(
        report["audit"]["oldest_unsealed_at"]
            .as_str()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok()),
        backlog.oldest_unsealed_at.map(|at| at.fixed_offset()),
        "{report}"
    );
    let tasks = report["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|table| table["table"] == "tasks")
        .unwrap_or_else(|| panic!("no tasks row in {report}"));
    assert_eq!(tasks["estimated"], postgres);
    if postgres {
        assert!(tasks["rows"].is_u64(), "{tasks}");
        // This command's own connection at least, running its query.
        assert!(
            report["connections"]["in_use"].as_u64() >= Some(1),
            "{report}"
        );
        assert!(report["connections"]["by_state"].is_array(), "{report}");
    } else {
        assert_eq!(tasks["rows"], 3);
        assert_eq!(report["connections"], serde_json::Value::Null, "{report}");
    }

    store.rollback(Some(1)).await.expect("roll back one");
    let pending = orchestore(db.url(), &["status", "--json"]).await;
    assert_eq!(pending.status, 0, "{}", pending.stderr);
    let report: serde_json::Value = serde_json::from_str(&pending.stdout).expect("JSON");
    let last = store
        .migration_status()
        .await
        .expect("migrations")
        .into_iter()
        .find(|m| !m.applied)
        .expect("one pending");
    assert_eq!(
        report["migrations"]["pending"],
        serde_json::json!([last.name])
    );
    assert_eq!(report["queue"], serde_json::Value::Null, "{report}");
    assert_eq!(report["audit"], serde_json::Value::Null, "{report}");
    let text = orchestore(db.url(), &["status"]).await;
    assert!(
        text.stdout.contains(&format!("pending {}", last.name)),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_an_unreachable_database_fails_quickly() {
    // Nothing listens on port 1; the SQLite file's directory does not exist.
    for url in [
        "postgres://postgres@127.0.0.1:1/orchestore",
        "sqlite:///nonexistent/directory/orchestore.db?mode=rw",
    ] {
        let started = std::time::Instant::now();
        let run = orchestore(url, &["status"]).await;
        assert_eq!(run.status, 1, "{url}: {}", run.stdout);
        assert!(
            run.stderr.contains("the database is unreachable"),
            "{url}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(15),
            "{url}: {:?}",
            started.elapsed()
        );
    }
}

/// `serve` with JSON logs: each request's lines carry its request id, from the span the
/// server opens per request.
async fn json_logs_carry_the_request_id(db: TestDb) {
    use std::io::BufRead as _;

    /// The server process, stopped when the test ends, however it ends.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_orchestore"))
        .arg("serve")
        .env_clear()
        .env("DATABASE_URL", db.url())
        .env("ORCHESTORE__SERVER__PORT", "0")
        .env("ORCHESTORE__LOG__FORMAT", "json")
        .env("ORCHESTORE__AUTH__BCRYPT_COST", "4")
        .env(
            "ORCHESTORE__BOOTSTRAP__ADMIN_PASSWORD",
            "correct horse battery",
        )
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map(Server)
        .expect("orchestore serve starts");
    let stderr = server.0.stderr.take().expect("stderr");
    let (lines, received) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
            if lines.send(value).is_err() {
                return;
            }
        }
    });
    let next = |what: &str| {
        received
            .recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("waiting for {what}: {e}"))
    };
    let port = loop {
        let line = next("the listening line");
        if line["fields"]["message"] == "listening" {
            break line["fields"]["port"].as_u64().expect("a port");
        }
    };
    let response = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/health/live"))
        .header("x-request-id", "trace-json-42")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let served = loop {
        let line = next("the request's log line");
        if line["fields"]["message"] == "request served" {
            break line;
        }
    };
    drop(server);
    assert_eq!(served["span"]["request_id"], "trace-json-42", "{served}");
    assert_eq!(served["span"]["name"], "request", "{served}");
    assert_eq!(served["fields"]["status"], 200, "{served}");
}

async fn retention_run_purges_what_each_policy_says_and_reports_it(db: TestDb) {
    use orchestore_domain::{RetentionAge, RetentionRules, RetentionTarget, TaskPatch, TaskStatus};
    use orchestore_repo::RetentionRepo;

    let store = db.store();
    let acme = Fixture::create(store, "acme", "correct horse battery").await;
    let other = Fixture::create(store, "other", "correct horse battery").await;
    let project = acme.project(store, "Apollo").await;
    let mut cancelled = Vec::new();
    for title in ["old", "new"] {
        let task = store
            .create_task(
                &acme.ctx,
                NewTask::titled(project.id, Title::parse(title).expect("title")),
            )
            .await
            .expect("task");
        store
            .update_task(
                &acme.ctx,
                task.id,
                TaskPatch {
                    status: Some(TaskStatus::Cancelled),
                    ..TaskPatch::default()
                },
                None,
            )
            .await
            .expect("cancel");
        cancelled.push(task.id);
    }
    let (old, new) = (cancelled[0], cancelled[1]);
    // The old one finished three days ago.
    let backdate = Query::update()
        .table(Alias::new("tasks"))
        .value(
            Alias::new("finished_at"),
            chrono::Utc::now() - chrono::Duration::days(3),
        )
        .and_where(Expr::col(Alias::new("organization_id")).eq(acme.org.id.as_uuid()))
        .and_where(Expr::col(Alias::new("id")).eq(old.as_uuid()))
        .to_owned();
    db.connection().execute(&backdate).await.expect("backdate");
    store
        .set_retention_policy(
            &acme.ctx,
            RetentionRules::default().with(
                RetentionTarget::CancelledTasks,
                Some(RetentionAge::parse("age", "1d").expect("age")),
            ),
            None,
        )
        .await
        .expect("policy");
    let (acme_id, other_id) = (acme.org.id, other.org.id);

    let dry = orchestore(db.url(), &["retention", "run", "--dry-run"]).await;
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    assert_eq!(
        dry.line(acme_id),
        format!("{acme_id}  would delete 1 row(s)")
    );
    assert!(
        dry.stdout
            .lines()
            .any(|line| line.trim_start().starts_with("cancelled_tasks")
                && line.contains(" tasks ")
                && line.contains("       1  older than ")
                && line.ends_with("(1d)")),
        "{}",
        dry.stdout
    );
    // Only organizations with a policy are purged.
    assert!(
        !dry.stdout.contains(&other_id.to_string()),
        "{}",
        dry.stdout
    );
    assert!(store.get_task(&acme.ctx, old).await.is_ok());

    let run = orchestore(db.url(), &["retention", "run", "--json"]).await;
    assert_eq!(run.status, 0, "{}", run.stderr);
    let reports: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(reports[0]["organization_id"], acme_id.to_string());
    assert_eq!(reports[0]["dry_run"], false);
    assert_eq!(reports[0]["purged"][0]["target"], "cancelled_tasks");
    assert_eq!(reports[0]["purged"][0]["table"], "tasks");
    assert_eq!(reports[0]["purged"][0]["max_age"], "1d");
    assert_eq!(reports[0]["purged"][0]["rows"], 1);
    assert!(store.get_task(&acme.ctx, old).await.is_err());
    assert!(store.get_task(&acme.ctx, new).await.is_ok());

    // One organization, named; one without a policy deletes nothing.
    let one = orchestore(
        db.url(),
        &["retention", "run", "--organization", &other_id.to_string()],
    )
    .await;
    assert_eq!(one.status, 0, "{}", one.stderr);
    assert_eq!(one.stdout, format!("{other_id}  deleted 0 row(s)\n"));

    // The purge's audit row is in the log, and the chains still verify.
    let sealed = orchestore(db.url(), &["audit", "seal"]).await;
    assert_eq!(sealed.status, 0, "{}", sealed.stderr);
    let verified = orchestore(db.url(), &["audit", "verify"]).await;
    assert_eq!(verified.status, 0, "{}", verified.stdout);

    // A batch size out of bounds is refused before anything is deleted.
    let refused = orchestore_with(
        db.url(),
        &["retention", "run"],
        &[("ORCHESTORE__RETENTION__BATCH_SIZE", "0")],
    )
    .await;
    assert_eq!(refused.status, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("retention.batch_size"),
        "{}",
        refused.stderr
    );
}

async fn queue_share_puts_organizations_on_the_shared_fleet(db: TestDb) {
    let store = db.store();
    let acme = Fixture::create(store, "acme", "correct horse battery").await;
    let other = Fixture::create(store, "other", "correct horse battery").await;
    let fleet =
        |name: &str| NewAgent::named(Name::parse("name", name).expect("name"), AgentKind::Bot);
    let agent = store
        .create_agent(&acme.ctx, fleet("shared fleet"))
        .await
        .expect("agent");
    let theirs = store
        .create_agent(&other.ctx, fleet("theirs"))
        .await
        .expect("agent");
    let (org, agent_id) = (acme.org.id.to_string(), agent.id.to_string());

    let empty = orchestore(db.url(), &["queue", "share", "list"]).await;
    assert_eq!(
        (empty.status, empty.stdout.as_str()),
        (0, "no organization is on the shared fleet\n"),
        "{}",
        empty.stderr
    );
    let set = orchestore(
        db.url(),
        &[
            "queue",
            "share",
            "set",
            "--organization",
            &org,
            "--agent",
            &agent_id,
            "--share",
            "3",
        ],
    )
    .await;
    assert_eq!(set.status, 0, "{}", set.stderr);
    assert_eq!(
        set.line(&org),
        format!("{org}  agent {agent_id}  share 3  pass 0  last served never")
    );
    let listed = orchestore(db.url(), &["queue", "share", "list", "--json"]).await;
    assert_eq!(listed.status, 0, "{}", listed.stderr);
    let members = listed.json();
    assert_eq!(members[0]["organization_id"], org.as_str());
    assert_eq!(members[0]["agent_id"], agent_id.as_str());
    assert_eq!(members[0]["share"], 3);
    assert_eq!(members.as_array().map(Vec::len), Some(1));

    // Another organization's agent, or a share out of bounds, is refused.
    let foreign = orchestore(
        db.url(),
        &[
            "queue",
            "share",
            "set",
            "--organization",
            &org,
            "--agent",
            &theirs.id.to_string(),
        ],
    )
    .await;
    assert_eq!(foreign.status, 1, "{}", foreign.stdout);
    assert!(foreign.stderr.contains("agent"), "{}", foreign.stderr);
    let zero = orchestore(
        db.url(),
        &[
            "queue",
            "share",
            "set",
            "--organization",
            &org,
            "--agent",
            &agent_id,
            "--share",
            "0",
        ],
    )
    .await;
    assert_eq!(zero.status, 2, "{}", zero.stderr);

    let removed = orchestore(
        db.url(),
        &["queue", "share", "remove", "--organization", &org],
    )
    .await;
    assert_eq!(removed.status, 0, "{}", removed.stderr);
    assert_eq!(
        removed.stdout,
        format!("{org}  removed from the shared fleet\n")
    );
    let again = orchestore(
        db.url(),
        &["queue", "share", "remove", "--organization", &org],
    )
    .await;
    assert_eq!(again.status, 1, "{}", again.stdout);
    let audit = store
        .list_audit(&acme.ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit");
    let actions: Vec<&str> = audit.items.iter().map(|row| row.action.as_str()).collect();
    assert!(actions.contains(&"queue_share.create"), "{actions:?}");
    assert!(actions.contains(&"queue_share.delete"), "{actions:?}");
}

on_file_backends! {
    queue_share_puts_organizations_on_the_shared_fleet,
    the_audit_commands_seal_verify_and_name_a_broken_chain,
    status_reports_the_database_and_its_queue,
    json_logs_carry_the_request_id,
    retention_run_purges_what_each_policy_says_and_reports_it,
}
