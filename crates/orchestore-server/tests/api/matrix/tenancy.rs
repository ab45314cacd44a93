//! The cross-tenant matrix: organization B's owner calls every route with organization A's
//! ids, in paths and in bodies, and never reaches A's data.

use std::collections::BTreeSet;

use orchestore_testkit::Fixture;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Across, Everything, rows};
use crate::helpers::*;

const OTHER: &str = "other";
const OTHER_OWNER: &str = "owner@other.test";
const OTHER_PASSWORD: &str = "a tenant of its own entirely";

/// Who calls, in organization B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    Owner,
    /// B's agent's API key.
    AgentKey,
}

/// One call B makes with A's ids, and what it must get.
struct Probe {
    by: By,
    method: Method,
    path: String,
    body: Option<Value>,
    across: Across,
    ends_session: bool,
}

fn probe(by: By, method: Method, path: String, body: Option<Value>, across: Across) -> Probe {
    Probe {
        by,
        method,
        path,
        body,
        across,
        ends_session: false,
    }
}

/// Every route as its row calls it, with A's ids.
fn row_probes(a: &Everything) -> Vec<Probe> {
    rows()
        .iter()
        .map(|row| Probe {
            by: By::Owner,
            method: row.method.clone(),
            path: row.path(a),
            body: row.body.map(|body| body(a)),
            across: row.across,
            ends_session: row.ends_session,
        })
        .collect()
}

/// B's own rows with A's ids in the body, filter or second path segment, and calls with B's
/// agent's key.
fn mixed_probes(a: &Everything, b: &Everything) -> Vec<Probe> {
    use Across::*;
    use By::*;
    const OK: Across = Clean(StatusCode::OK);
    let (get, post, patch, delete) = (Method::GET, Method::POST, Method::PATCH, Method::DELETE);
    let new_task = |extra: Value| {
        let mut task = json!({"project_id": b.project, "title": "mixed"});
        task.as_object_mut()
            .expect("an object")
            .extend(extra.as_object().expect("an object").clone());
        task
    };
    let to_b_agent = json!({"kind": "agent", "id": b.agent});
    vec![
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/tasks?project_id={}", a.project),
            None,
            OK,
        ),
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/tasks?parent_id={}", a.task),
            None,
            OK,
        ),
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/tasks?assigned_agent_id={}", a.agent),
            None,
            OK,
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/tasks".to_owned(),
            Some(new_task(json!({"depends_on": [a.task]}))),
            Reference("depends_on"),
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/tasks".to_owned(),
            Some(new_task(json!({"parent_id": a.task}))),
            Reference("parent_id"),
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/tasks".to_owned(),
            Some(new_task(json!({"assigned_agent_id": a.agent}))),
            Reference("assigned_agent_id"),
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/tasks/batch".to_owned(),
            Some(json!({"tasks": [new_task(json!({"depends_on": [a.task]}))]})),
            Reference("tasks[0].depends_on"),
        ),
        probe(
            Owner,
            patch.clone(),
            format!("/api/v1/tasks/{}", b.dependent),
            Some(json!({"parent_id": a.task})),
            Reference("parent_id"),
        ),
        probe(
            Owner,
            patch.clone(),
            format!("/api/v1/tasks/{}", b.dependent),
            Some(json!({"assigned_agent_id": a.agent})),
            Reference("assigned_agent_id"),
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/tasks/{}/dependencies", b.dependent),
            Some(json!({"depends_on": a.task})),
            Reference("depends_on"),
        ),
        probe(
            Owner,
            delete.clone(),
            format!("/api/v1/tasks/{}/dependencies/{}", b.task, a.dependency),
            None,
            NotFound,
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/tasks/{}/claim", a.task),
            Some(json!({"agent_id": b.agent})),
            NotFound,
        ),
        // B's agent claims what it can: nothing of A's.
        probe(
            Owner,
            post.clone(),
            "/api/v1/queue/claim".to_owned(),
            Some(json!({"agent_id": b.agent, "limit": 100})),
            OK,
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/messages".to_owned(),
            Some(json!({"recipient": to_b_agent, "content": "hi", "task_id": a.task})),
            Reference("task_id"),
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/messages".to_owned(),
            Some(
                json!({"sender": {"kind": "agent", "id": a.agent}, "recipient": to_b_agent,
                        "content": "hi"}),
            ),
            Reference("sender"),
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/messages/read".to_owned(),
            Some(json!({"recipient": {"kind": "user", "id": a.owner}, "thread_id": a.thread})),
            Reference("recipient"),
        ),
        // B's own unread messages in A's thread: none.
        probe(
            Owner,
            post.clone(),
            "/api/v1/messages/read".to_owned(),
            Some(json!({"recipient": {"kind": "agent", "id": b.agent}, "thread_id": a.thread})),
            OK,
        ),
        probe(
            Owner,
            get.clone(),
            format!(
                "/api/v1/messages/unread-count?recipient_kind=agent&recipient_id={}",
                a.agent
            ),
            None,
            Reference("recipient"),
        ),
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/messages?thread_id={}", a.thread),
            None,
            OK,
        ),
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/messages?task_id={}", a.task),
            None,
            OK,
        ),
        probe(
            Owner,
            get.clone(),
            format!(
                "/api/v1/messages?participant_kind=agent&participant_id={}",
                a.agent
            ),
            None,
            OK,
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/users/{}/roles", b.user),
            Some(json!({"role_id": a.role})),
            Reference("role_id"),
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/users/{}/roles", b.user),
            Some(json!({"role": a.role_code})),
            Reference("role"),
        ),
        probe(
            Owner,
            delete.clone(),
            format!("/api/v1/users/{}/roles/{}", b.user, a.role),
            None,
            NotFound,
        ),
        probe(
            Owner,
            post.clone(),
            "/api/v1/users".to_owned(),
            Some(
                json!({"email": "granted@other.test", "display_name": "Granted",
                        "password": USER_PASSWORD, "roles": [a.role_code]}),
            ),
            Reference("roles"),
        ),
        // A role named by code must exist; by id, it filters to no user.
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/users?role={}", a.role_code),
            None,
            Reference("role"),
        ),
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/users?role={}", a.role),
            None,
            OK,
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/workflows/{}/executions", b.workflow),
            Some(json!({"project_id": a.project, "input": {}})),
            Reference("project_id"),
        ),
        probe(
            Owner,
            get.clone(),
            format!(
                "/api/v1/workflows/{}/executions/{}",
                b.workflow, a.execution
            ),
            None,
            NotFound,
        ),
        probe(
            Owner,
            patch.clone(),
            format!(
                "/api/v1/workflows/{}/executions/{}",
                b.workflow, a.execution
            ),
            Some(json!({"status": "cancelled"})),
            NotFound,
        ),
        probe(
            Owner,
            post.clone(),
            format!(
                "/api/v1/workflows/{}/executions/{}/cancel",
                b.workflow, a.execution
            ),
            None,
            NotFound,
        ),
        probe(
            Owner,
            get.clone(),
            format!(
                "/api/v1/workflows/{}/executions/{}/tasks",
                b.workflow, a.execution
            ),
            None,
            NotFound,
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/templates/{}/instantiate", b.template),
            Some(json!({"project_id": a.project})),
            Reference("project_id"),
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/templates/{}/instantiate", b.workflow_template),
            Some(json!({"workflow_id": a.workflow})),
            Reference("workflow_id"),
        ),
        probe(
            Owner,
            post.clone(),
            format!("/api/v1/templates/{}/instantiate", b.workflow_template),
            Some(json!({"workflow": {"name": "Run of mixed ids"},
                        "run": {"project_id": a.project, "input": {}}})),
            Reference("run.project_id"),
        ),
        probe(
            Owner,
            delete.clone(),
            format!("/api/v1/agents/{}/api-keys/{}", b.agent, a.api_key),
            None,
            NotFound,
        ),
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/audit-logs?entity_id={}", a.project),
            None,
            OK,
        ),
        probe(
            Owner,
            get.clone(),
            format!("/api/v1/audit-logs?actor=user:{}", a.owner),
            None,
            OK,
        ),
        probe(
            AgentKey,
            get.clone(),
            format!("/api/v1/tasks/{}", a.task),
            None,
            NotFound,
        ),
        probe(
            AgentKey,
            post.clone(),
            format!("/api/v1/tasks/{}/complete", a.task),
            Some(json!({"lease_token": a.lease_token})),
            NotFound,
        ),
        probe(
            AgentKey,
            post.clone(),
            format!("/api/v1/agents/{}/heartbeat", a.agent),
            None,
            NotFound,
        ),
        probe(
            AgentKey,
            post.clone(),
            "/api/v1/queue/claim".to_owned(),
            Some(json!({"limit": 100})),
            OK,
        ),
        // Refused before any lookup: a key acts for its own agent only.
        probe(
            AgentKey,
            post.clone(),
            "/api/v1/queue/claim".to_owned(),
            Some(json!({"agent_id": a.agent})),
            Clean(StatusCode::FORBIDDEN),
        ),
        probe(
            AgentKey,
            post,
            "/api/v1/messages".to_owned(),
            Some(json!({"recipient": {"kind": "user", "id": a.owner}, "content": "hi"})),
            Reference("recipient"),
        ),
    ]
}

pub async fn another_organization_reaches_none_of_our_data(app: &TestApp) {
    Fixture::create(app.store.as_ref(), OTHER, OTHER_PASSWORD).await;
    let b = Everything::create(app, OTHER, OTHER_OWNER, OTHER_PASSWORD, "b").await;
    let b_token = app.token_in(OTHER, OTHER_OWNER, OTHER_PASSWORD).await;
    let b_view = view(app, &b_token, &b).await;

    let a = Everything::create(app, ORGANIZATION, ADMIN_EMAIL, ADMIN_PASSWORD, "a").await;
    let a_token = app.admin_token().await;
    let a_view = view(app, &a_token, &a).await;
    // Every list, count, statistic and search of B is as it was before A had anything.
    assert_same_view(&b_view, &view(app, &b_token, &b).await);

    let a_ids = ids_of(&a_view, &a);
    let mut failures = Vec::new();
    // The mixed probes first: the rows then create B's own rows under A's names and codes.
    for probe in mixed_probes(&a, &b).into_iter().chain(row_probes(&a)) {
        let token = match (probe.by, probe.ends_session) {
            (By::AgentKey, _) => b.api_key_secret.clone(),
            (By::Owner, false) => b_token.clone(),
            (By::Owner, true) => app.token_in(OTHER, OTHER_OWNER, OTHER_PASSWORD).await,
        };
        let reply = app
            .send(
                probe.method.clone(),
                &probe.path,
                Some(&token),
                probe.body.clone(),
            )
            .await;
        if let Err(why) = check(&reply, probe.across, &a_ids) {
            failures.push(format!(
                "{:?} {} {}: {why}; got {} {}",
                probe.by,
                probe.method,
                probe.path,
                reply.status,
                reply.body_excerpt()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    assert_same_view(&a_view, &view(app, &a_token, &a).await);
}

fn check(reply: &Reply, across: Across, a_ids: &BTreeSet<String>) -> Result<(), String> {
    let status_is = |expected: StatusCode| {
        if reply.status == expected {
            Ok(())
        } else {
            Err(format!("expected {expected}"))
        }
    };
    match across {
        Across::NotFound => status_is(StatusCode::NOT_FOUND),
        Across::Reference(field) => {
            status_is(StatusCode::UNPROCESSABLE_ENTITY)?;
            if error_fields(&reply.body).iter().any(|f| f == field) {
                Ok(())
            } else {
                Err(format!("expected an error on {field}"))
            }
        }
        Across::Clean(expected) => {
            status_is(expected)?;
            let text = format!("{} {}", reply.body, reply.header("location"));
            match a_ids.iter().find(|id| text.contains(id.as_str())) {
                Some(id) => Err(format!("the answer shows A's {id}")),
                None => Ok(()),
            }
        }
        Across::EachNotFound => {
            status_is(StatusCode::OK)?;
            let items = reply.body["items"].as_array().cloned().unwrap_or_default();
            if !items.is_empty() && items.iter().all(|item| item["status"] == 404) {
                Ok(())
            } else {
                Err("expected each item to be 404".to_owned())
            }
        }
    }
}

/// What `token` reads through every GET route of the server, with the ids of `ids`: each path
/// and its answer, less what moves by itself (the sealer numbering audit rows and moving the
/// chain's head, the queue's last minute, the instant a leaderboard or a reputation is read
/// as of).
async fn view(app: &TestApp, token: &str, ids: &Everything) -> Vec<(String, StatusCode, Value)> {
    let mut view = Vec::new();
    for (method, route) in orchestore_server::route_table() {
        // The database's figures are the instance's, not an organization's: they move with
        // every statement, and only the operating organization reads them.
        if method != "GET" || route.starts_with("/health") || route.starts_with("/api/v1/admin") {
            continue;
        }
        // As its row calls it: with the query a route needs (`/metrics/query`'s series).
        let path = rows()
            .iter()
            .find(|row| row.method == Method::GET && row.route == route)
            .map_or_else(|| ids.fill(&route), |row| row.path(ids));
        let mut reply = app.get(token, &path).await;
        // Each id of the set names a row its organization reads.
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.body);
        for item in reply.body["items"].as_array_mut().into_iter().flatten() {
            if let Some(entry) = item
                .as_object_mut()
                .filter(|_| route.ends_with("/audit-logs"))
            {
                entry.remove("seq");
                entry.remove("hash");
            }
        }
        // The walk reaches as far as the sealer has sealed; whether it is intact stays.
        if route.ends_with("/audit-logs/verification")
            && let Some(report) = reply.body.as_object_mut()
        {
            for sealed in ["head", "verified", "unsealed"] {
                report.remove(sealed);
            }
        }
        // A report's window defaults to the days before now.
        if route.starts_with("/api/v1/analytics") {
            reply
                .body
                .as_object_mut()
                .map(|report| report.remove("window"));
        }
        if route.ends_with("/queue/stats") {
            reply
                .body
                .as_object_mut()
                .map(|stats| stats.remove("last_minute"));
        }
        if route.ends_with("/leaderboards") || route.ends_with("/reputation") {
            reply.body.as_object_mut().map(|read| read.remove("as_of"));
        }
        if route.ends_with("/summary") {
            reply.body["reputation"]
                .as_object_mut()
                .map(|read| read.remove("as_of"));
        }
        view.push((path, reply.status, reply.body));
    }
    view
}

fn assert_same_view(before: &[(String, StatusCode, Value)], after: &[(String, StatusCode, Value)]) {
    assert_eq!(before.len(), after.len());
    for (before, after) in before.iter().zip(after) {
        assert_eq!(before, after, "GET {} changed", before.0);
    }
}

/// Every id in A's view of its own data, and its secrets; less the system roles, which every
/// organization shares.
fn ids_of(view: &[(String, StatusCode, Value)], a: &Everything) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut shared = BTreeSet::new();
    for (path, _, body) in view {
        collect_uuids(body, &mut ids);
        if path == "/api/v1/roles" {
            for role in body["items"].as_array().expect("roles") {
                if role["is_system"] == true {
                    shared.insert(role["id"].as_str().expect("id").to_owned());
                }
            }
        }
    }
    ids.extend([a.lease_token.clone(), a.api_key_secret.clone()]);
    assert!(ids.contains(&a.execution) && ids.contains(&a.usage) && ids.contains(&a.session));
    ids.difference(&shared).cloned().collect()
}

fn collect_uuids(value: &Value, ids: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => ids.extend(
            text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
                .filter(|word| uuid_like(word))
                .map(str::to_owned),
        ),
        Value::Array(items) => items.iter().for_each(|item| collect_uuids(item, ids)),
        Value::Object(fields) => fields.values().for_each(|field| collect_uuids(field, ids)),
        _ => {}
    }
}
