//! `/api/v1/audit-logs`, the verification of the chain, and the server's sealer.

use std::time::Duration;

use orchestore_domain::OrganizationId;
use orchestore_repo::{AuditFilter, Ctx, PageRequest};
use orchestore_testkit::Fixture;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// `action entity_id` of each item of a page.
fn rows(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| format!("{} {}", str_of(&e["action"]), str_of(&e["entity_id"])))
        .collect()
}

fn str_of(value: &Value) -> &str {
    value.as_str().expect("a string")
}

async fn listed(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let reply = app.get(token, &format!("/api/v1/audit-logs?{query}")).await;
    assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    rows(&reply.body)
}

/// An agent of the caller's organization and an API key for it: `(agent id, key id, key)`.
async fn agent_with_key(app: &TestApp, token: &str) -> (String, String, String) {
    let agent = app
        .post(
            token,
            "/api/v1/agents",
            json!({"name": "worker", "kind": "ai"}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    let agent = str_of(&agent.body["id"]).to_owned();
    let issued = app
        .post(
            token,
            &format!("/api/v1/agents/{agent}/api-keys"),
            json!({"name": "host-1"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let key_id = str_of(&issued.body["id"]).to_owned();
    let key = str_of(&issued.body["secret"]).to_owned();
    (agent, key_id, key)
}

pub async fn audit_logs_list_by_filter(app: &TestApp) {
    let admin = app.admin_token().await;
    let me = app.get(&admin, "/api/v1/me").await;
    let admin_id = str_of(&me.body["user"]["id"]).to_owned();
    let project = app.create_project(&admin, "Audited").await;
    let project_id = str_of(&project["id"]).to_owned();
    let task = app.create_task(&admin, &project, "first").await;
    let task_id = str_of(&task["id"]).to_owned();
    let patched = app
        .patch(
            &admin,
            &format!("/api/v1/tasks/{task_id}"),
            json!({"priority": 5}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let (agent, key_id, key) = agent_with_key(app, &admin).await;
    let by_key = app.create_task(&key, &project, "by the worker").await;
    let by_key = str_of(&by_key["id"]).to_owned();

    // Every row says who, with which credential and from where.
    let all = app.get(&admin, "/api/v1/audit-logs?limit=200").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let items = all.body["items"].as_array().expect("items");
    let row = |action: &str, id: &str| {
        items
            .iter()
            .find(|e| e["action"] == action && e["entity_id"] == id)
            .unwrap_or_else(|| panic!("{action} {id} in {items:?}"))
            .clone()
    };
    let project_row = row("project.create", &project_id);
    assert_eq!(project_row["actor"], format!("user:{admin_id}"));
    assert_eq!(project_row["client_addr"], "127.0.0.1");
    // The session of the admin's access token.
    assert!(
        project_row["credential"]
            .as_str()
            .is_some_and(|c| c.starts_with("session:")),
        "{project_row}"
    );
    assert!(project_row["request_id"].is_string());
    // Sealed by the server every few seconds: either not yet, or with both its place and hash.
    assert_eq!(
        project_row["seq"].is_null(),
        project_row["hash"].is_null(),
        "{project_row}"
    );
    let key_row = row("task.create", &by_key);
    assert_eq!(key_row["actor"], format!("agent:{agent}"));
    assert_eq!(key_row["credential"], format!("api_key:{key_id}"));
    assert_eq!(key_row["client_addr"], "127.0.0.1");
    // The key's creation is recorded without the key.
    let created_key = row("api_key.create", &key_id);
    assert!(!created_key.to_string().contains(&key), "{created_key}");

    // Each filter, and two together.
    let created = |id: &str| format!("task.create {id}");
    let updated = format!("task.update {task_id}");
    assert_eq!(
        listed(app, &admin, "entity=task").await,
        [created(&task_id), updated.clone(), created(&by_key)]
    );
    assert_eq!(
        listed(app, &admin, &format!("entity=task&entity_id={task_id}")).await,
        [created(&task_id), updated.clone()]
    );
    assert_eq!(
        listed(app, &admin, "action=task.update").await,
        [updated.as_str()]
    );
    assert_eq!(
        listed(app, &admin, &format!("actor=agent:{agent}")).await,
        [created(&by_key)]
    );
    assert_eq!(
        listed(app, &admin, &format!("actor=user:{admin_id}&entity=task")).await,
        [created(&task_id), updated.clone()]
    );
    let at = str_of(&project_row["created_at"]).replace('+', "%2B");
    let since = listed(app, &admin, &format!("since={at}&limit=200")).await;
    assert_eq!(since[0], format!("project.create {project_id}"));
    let until = listed(app, &admin, &format!("until={at}")).await;
    assert!(!until.is_empty() && !until.contains(&format!("project.create {project_id}")));
    assert_eq!(since.len() + until.len(), items.len());

    // Pages, newest first, with the filter kept by the query and the sort by the cursor.
    let first = app
        .get(
            &admin,
            "/api/v1/audit-logs?entity=task&sort=-created_at&limit=2",
        )
        .await;
    assert_eq!(rows(&first.body), [created(&by_key), updated]);
    let cursor = str_of(&first.body["next_cursor"]);
    let next = app
        .get(
            &admin,
            &format!("/api/v1/audit-logs?entity=task&limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(rows(&next.body), [created(&task_id)]);
    assert_eq!(next.body["next_cursor"], Value::Null);

    // Bad parameters are named.
    let bad = app.get(&admin, "/api/v1/audit-logs?actor=robot:1").await;
    assert_eq!(
        bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("actor")
    );
    app.get(&admin, "/api/v1/audit-logs?since=yesterday")
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    app.get(&admin, "/api/v1/audit-logs?who=me")
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
}

pub async fn audit_logs_need_audit_read(app: &TestApp) {
    let admin = app.admin_token().await;
    assert_eq!(
        app.get(&admin, "/api/v1/audit-logs").await.status,
        StatusCode::OK
    );
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    app.create_user(&admin, "viewer@example.test", &["viewer"])
        .await;
    let (_, _, key) = agent_with_key(app, &admin).await;
    for token in [
        app.token("dev@example.test", USER_PASSWORD).await,
        app.token("viewer@example.test", USER_PASSWORD).await,
        key,
    ] {
        app.get(&token, "/api/v1/audit-logs")
            .await
            .assert_problem(StatusCode::FORBIDDEN);
    }
    app.send(reqwest::Method::GET, "/api/v1/audit-logs", None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED);
    app.post(&admin, "/api/v1/audit-logs", json!({}))
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);
}

pub async fn another_organization_sees_none_of_our_audit_rows(app: &TestApp) {
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Ours").await;
    let task = app.create_task(&admin, &project, "ours").await;
    let task_id = str_of(&task["id"]).to_owned();
    let ours = app.get(&admin, "/api/v1/audit-logs?limit=200").await;
    let our_org = str_of(&ours.body["items"][0]["organization_id"]).to_owned();

    let other = Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let theirs = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    let reply = app.get(&theirs, "/api/v1/audit-logs?limit=200").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let items = reply.body["items"].as_array().expect("items");
    assert!(!items.is_empty());
    assert!(
        items
            .iter()
            .all(|e| e["organization_id"] == other.org.id.to_string()),
        "{items:?}"
    );
    assert!(
        listed(app, &theirs, &format!("entity_id={task_id}"))
            .await
            .is_empty()
    );
    // And ours holds none of theirs.
    let ours = app.get(&admin, "/api/v1/audit-logs?limit=200").await;
    assert!(
        ours.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|e| e["organization_id"] == our_org.as_str())
    );
}

/// Deletes an organization's audit row behind the server's back, as anyone who can write the
/// database could.
async fn delete_audit_row(app: &TestApp, organization: Uuid, row: Uuid) {
    // In here: `ExprTrait` would lend `serde_json::Value` an `is_null` of its own.
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let delete = Query::delete()
        .from_table(Alias::new("audit_logs"))
        .and_where(Expr::col(Alias::new("organization_id")).eq(organization))
        .and_where(Expr::col(Alias::new("id")).eq(row))
        .to_owned();
    app.db.connection().execute(&delete).await.expect("tamper");
}

/// `GET /audit-logs/verification` answers the walk of the caller's organization's chain: the
/// head and the rows verified while intact, the first break once a sealed row is gone.
pub async fn the_chain_is_verified_for_its_organization(app: &TestApp) {
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Chained").await;
    app.create_task(&admin, &project, "chained too").await;
    let me = app.get(&admin, "/api/v1/me").await;
    let org: OrganizationId = str_of(&me.body["user"]["organization_id"])
        .parse()
        .expect("an organization id");
    let ctx = Ctx::system(org);
    let sealed = app.store.seal_audit(&ctx, 10_000).await.expect("seal");
    let sealed = sealed.head.expect("a head");
    assert!(sealed.seq >= 3, "{sealed:?}");

    let reply = app.get(&admin, "/api/v1/audit-logs/verification").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = &reply.body;
    assert_eq!(report["organization_id"], org.to_string());
    assert!(report["broken"].is_null(), "{report}");
    // The server's own sealer may have sealed more since: the walk covers its head.
    let head_seq = report["head"]["seq"].as_u64().expect("the head's seq");
    assert!(head_seq >= sealed.seq, "{report}");
    assert_eq!(report["verified"], head_seq, "{report}");
    if head_seq == sealed.seq {
        assert_eq!(report["head"]["hash"], sealed.hash.as_str());
    }

    // Another organization walks its own chain, and never ours.
    let other = Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    // Sealed first: a walk that meets the server's sealer half way through sealing a chain
    // reads its rows sealed and its head not yet written (a race the walk does not yet guard).
    app.store
        .seal_audit(&other.ctx, 10_000)
        .await
        .expect("seal");
    let theirs = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    let reply = app.get(&theirs, "/api/v1/audit-logs/verification").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_ne!(reply.body["organization_id"], org.to_string());
    assert!(reply.body["broken"].is_null(), "{}", reply.body);

    // The second sealed row goes behind the server's back: the walk names the gap.
    let rows = app
        .store
        .list_audit(&ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("rows")
        .items;
    let second = rows.iter().find(|e| e.seq == Some(2)).expect("seq 2");
    delete_audit_row(app, org.as_uuid(), second.id.as_uuid()).await;
    let reply = app.get(&admin, "/api/v1/audit-logs/verification").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["broken"]["kind"], "missing", "{}", reply.body);
    assert_eq!(reply.body["verified"], 1, "{}", reply.body);

    // What the log needs: `audit:read`, which a developer lacks.
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let developer = app.token("dev@example.test", USER_PASSWORD).await;
    app.get(&developer, "/api/v1/audit-logs/verification")
        .await
        .assert_problem(StatusCode::FORBIDDEN);
}

pub async fn the_server_seals_the_log(app: &TestApp) {
    // A second server over the same database, sealing often.
    let mut settings = test_settings();
    settings.audit.seal_interval = Duration::from_millis(50);
    let base = serve(app.store.clone(), settings).await;
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Sealed").await;
    app.create_task(&admin, &project, "sealed too").await;

    let mut items = Vec::new();
    for _ in 0..200 {
        let reply = app
            .http
            .get(format!("{base}/api/v1/audit-logs?limit=200"))
            .bearer_auth(&admin)
            .send()
            .await
            .expect("the server answers");
        items = Reply::from(reply).await.body["items"]
            .as_array()
            .expect("items")
            .clone();
        if items.iter().all(|e| e["seq"].is_u64()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seqs: Vec<u64> = items
        .iter()
        .map(|e| e["seq"].as_u64().expect("sealed within 10 s"))
        .collect();
    assert_eq!(seqs, (1..=items.len() as u64).collect::<Vec<_>>());
    assert!(
        items
            .iter()
            .all(|e| e["hash"].as_str().is_some_and(|h| h.len() == 64))
    );
    let org = str_of(&items[0]["organization_id"])
        .parse()
        .expect("an organization id");
    let report = app
        .store
        .verify_audit(&Ctx::system(org))
        .await
        .expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        report.head.map(|h| h.hash),
        items.last().map(|e| str_of(&e["hash"]).to_owned())
    );
}
