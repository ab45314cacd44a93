//! Conditional requests: the `ETag` of every resource with a `PATCH` route and of an
//! organization's settings, `304` for `If-None-Match`, `412` for a stale `If-Match` (and
//! nothing written), `400` for a malformed one.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

impl TestApp {
    /// `method` on `path` with the header `name: value`.
    async fn send_with(
        &self,
        method: Method,
        token: &str,
        path: &str,
        (name, value): (&str, &str),
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header(name, value);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::from(request.send().await.expect("the server answers")).await
    }

    async fn audit_count(&self, token: &str) -> usize {
        let reply = self.get(token, "/api/v1/audit-logs?limit=200").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["items"].as_array().expect("items").len()
    }
}

pub async fn a_read_is_tagged_and_a_repeated_read_is_not_modified(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    assert_eq!(project["revision"], 1);
    let path = format!("/api/v1/projects/{}", project["id"].as_str().expect("id"));

    let read = app.get(&token, &path).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.header("etag"), "\"1\"");
    assert_eq!(read.body, project);

    for held in ["\"1\"", "W/\"1\"", "\"7\", \"1\"", "*"] {
        let again = app
            .send_with(Method::GET, &token, &path, ("if-none-match", held), None)
            .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{held}");
        assert_eq!(again.header("etag"), "\"1\"", "{held}");
        assert_eq!(again.body, Value::Null, "{held}: no body");
    }
    for other in ["\"2\"", "garbage"] {
        let fresh = app
            .send_with(Method::GET, &token, &path, ("if-none-match", other), None)
            .await;
        assert_eq!(fresh.status, StatusCode::OK, "{other}");
        assert_eq!(fresh.body, project, "{other}");
    }

    // A write moves the tag on, so the copy held is stale.
    let patched = app
        .patch(&token, &path, json!({ "description": "to the moon" }))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.header("etag"), "\"2\"");
    assert_eq!(patched.body["revision"], 2);
    let stale_copy = app
        .send_with(Method::GET, &token, &path, ("if-none-match", "\"1\""), None)
        .await;
    assert_eq!(stale_copy.status, StatusCode::OK);
    assert_eq!(stale_copy.body, patched.body);
}

pub async fn a_stale_if_match_is_refused_and_writes_nothing(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    let path = format!("/api/v1/projects/{}", project["id"].as_str().expect("id"));
    let patch = |description: &str| Some(json!({ "description": description }));

    let first = app
        .send_with(
            Method::PATCH,
            &token,
            &path,
            ("if-match", "\"1\""),
            patch("first"),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.header("etag"), "\"2\"");

    let audited = app.audit_count(&token).await;
    for (method, body) in [
        (Method::PATCH, patch("late")),
        (Method::PATCH, Some(json!({}))),
        (Method::DELETE, None),
    ] {
        let refused = app
            .send_with(method.clone(), &token, &path, ("if-match", "\"1\""), body)
            .await;
        refused.assert_problem(StatusCode::PRECONDITION_FAILED);
        assert_eq!(
            refused.body["type"],
            "urn:orchestore:problem:precondition-failed"
        );
        let detail = refused.body["detail"].as_str().expect("detail");
        assert!(detail.contains("revision 2"), "{method}: {detail}");
        assert_eq!(refused.header("etag"), "\"2\"", "{method}");
    }
    assert_eq!(app.get(&token, &path).await.body, first.body, "unchanged");
    assert_eq!(app.audit_count(&token).await, audited, "no audit row");

    // `*` matches whatever the revision; a malformed tag is a 400 and writes nothing.
    let any = app
        .send_with(
            Method::PATCH,
            &token,
            &path,
            ("if-match", "*"),
            patch("any"),
        )
        .await;
    assert_eq!(any.status, StatusCode::OK, "{}", any.body);
    assert_eq!(any.header("etag"), "\"3\"");
    for malformed in ["3", "W/\"3\"", "\"3\", \"4\"", "\"zero\""] {
        app.send_with(
            Method::PATCH,
            &token,
            &path,
            ("if-match", malformed),
            patch("malformed"),
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
    }
    assert_eq!(app.get(&token, &path).await.body, any.body);

    let deleted = app
        .send_with(Method::DELETE, &token, &path, ("if-match", "\"3\""), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&token, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn a_task_is_cancelled_only_at_the_revision_read(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    let task = app.create_task(&token, &project, "fly").await;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().expect("id"));
    assert_eq!(app.get(&token, &path).await.header("etag"), "\"1\"");

    let moved = app
        .patch(&token, &path, json!({ "description": "changed" }))
        .await;
    assert_eq!(moved.header("etag"), "\"2\"");
    let cancel = format!("{path}/cancel");
    app.send_with(
        Method::POST,
        &token,
        &cancel,
        ("if-match", "\"1\""),
        Some(json!({})),
    )
    .await
    .assert_problem(StatusCode::PRECONDITION_FAILED);
    assert_eq!(app.get(&token, &path).await.body["status"], "queued");

    let cancelled = app
        .send_with(
            Method::POST,
            &token,
            &cancel,
            ("if-match", "\"2\""),
            Some(json!({})),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.header("etag"), "\"3\"");
}

pub async fn every_patchable_resource_is_tagged(app: &TestApp) {
    let token = app.admin_token().await;
    let created = [
        ("/api/v1/agents", json!({ "name": "worker", "kind": "ai" })),
        ("/api/v1/workflows", json!({ "name": "pipeline" })),
        (
            "/api/v1/roles",
            json!({ "code": "auditor", "permissions": ["tasks:read"] }),
        ),
        (
            "/api/v1/knowledge",
            json!({ "title": "Notes", "content": "what we learnt" }),
        ),
        (
            "/api/v1/components",
            json!({ "name": "api", "kind": "service" }),
        ),
    ];
    for (collection, body) in created {
        let made = app.post(&token, collection, body).await;
        assert_eq!(
            made.status,
            StatusCode::CREATED,
            "{collection}: {}",
            made.body
        );
        assert_eq!(made.body["revision"], 1, "{collection}");
        let path = format!("{collection}/{}", made.body["id"].as_str().expect("id"));
        let read = app.get(&token, &path).await;
        assert_eq!(read.header("etag"), "\"1\"", "{path}");
        let held = app
            .send_with(Method::GET, &token, &path, ("if-none-match", "\"1\""), None)
            .await;
        assert_eq!(held.status, StatusCode::NOT_MODIFIED, "{path}");
    }

    // A rate limit's balance refills with time, which its revision does not count: tagged, but
    // never a 304.
    let bucket = app
        .post(
            &token,
            "/api/v1/rate-limits",
            json!({ "name": "api", "capacity": 10, "period_seconds": 60 }),
        )
        .await;
    assert_eq!(bucket.status, StatusCode::CREATED, "{}", bucket.body);
    let path = "/api/v1/rate-limits/api";
    assert_eq!(app.get(&token, path).await.header("etag"), "\"1\"");
    let held = app
        .send_with(Method::GET, &token, path, ("if-none-match", "\"1\""), None)
        .await;
    assert_eq!(held.status, StatusCode::OK);
    app.send_with(
        Method::PATCH,
        &token,
        path,
        ("if-match", "\"2\""),
        Some(json!({ "capacity": 20 })),
    )
    .await
    .assert_problem(StatusCode::PRECONDITION_FAILED);
}

/// The organization's settings, replaced by `PUT`: tagged from the defaults on (`"1"`), `304`
/// for the copy held, and a `PUT` that expects a revision they have left is refused.
pub async fn settings_are_tagged_and_replaced_only_at_the_revision_read(app: &TestApp) {
    let token = app.admin_token().await;
    let settings = [
        (
            "/api/v1/retention-policy",
            json!({ "events": "7d" }),
            json!({ "events": "30d" }),
        ),
        (
            "/api/v1/collaboration/settings",
            json!({ "level_thresholds": [{"experience": 0, "tier": "novice"}],
                    "k_factor": 16, "provisional_k_factor": 40, "provisional_matches": 3 }),
            json!({ "level_thresholds": [{"experience": 0, "tier": "novice"}],
                    "k_factor": 20, "provisional_k_factor": 40, "provisional_matches": 3 }),
        ),
        (
            "/api/v1/leaderboards/settings",
            json!({ "points": 1.0, "rating": 0.0, "reputation": 5.0 }),
            json!({ "points": 2.0, "rating": 0.0, "reputation": 5.0 }),
        ),
    ];
    for (path, mine, theirs) in settings {
        let defaults = app.get(&token, path).await;
        assert_eq!(defaults.status, StatusCode::OK, "{path}: {}", defaults.body);
        assert_eq!(defaults.header("etag"), "\"1\"", "{path}");
        assert_eq!(defaults.body["revision"], 1, "{path}");
        let held = app
            .send_with(Method::GET, &token, path, ("if-none-match", "\"1\""), None)
            .await;
        assert_eq!(held.status, StatusCode::NOT_MODIFIED, "{path}");

        // Two clients read the defaults; the first to write wins, the other is refused.
        let first = app
            .send_with(
                Method::PUT,
                &token,
                path,
                ("if-match", "\"1\""),
                Some(mine.clone()),
            )
            .await;
        assert_eq!(first.status, StatusCode::OK, "{path}: {}", first.body);
        assert_eq!(first.header("etag"), "\"2\"", "{path}");
        let audited = app.audit_count(&token).await;
        let late = app
            .send_with(
                Method::PUT,
                &token,
                path,
                ("if-match", "\"1\""),
                Some(theirs.clone()),
            )
            .await;
        late.assert_problem(StatusCode::PRECONDITION_FAILED);
        assert_eq!(late.header("etag"), "\"2\"", "{path}");
        assert_eq!(app.get(&token, path).await.body, first.body, "{path}");
        assert_eq!(
            app.audit_count(&token).await,
            audited,
            "{path}: no audit row"
        );

        // The copy held is stale now; `*` and no header write whatever the revision.
        let fresh = app
            .send_with(Method::GET, &token, path, ("if-none-match", "\"1\""), None)
            .await;
        assert_eq!(fresh.status, StatusCode::OK, "{path}");
        assert_eq!(fresh.body, first.body, "{path}");
        let any = app
            .send_with(Method::PUT, &token, path, ("if-match", "*"), Some(theirs))
            .await;
        assert_eq!(any.status, StatusCode::OK, "{path}: {}", any.body);
        assert_eq!(any.header("etag"), "\"3\"", "{path}");
        app.send_with(Method::PUT, &token, path, ("if-match", "3"), Some(mine))
            .await
            .assert_problem(StatusCode::BAD_REQUEST);
    }
}

/// A settings reply sent back as the `PUT` body, changed, carries its `revision`: the write
/// applies only at it, as with `If-Match`; a header naming another revision is a 400.
pub async fn a_settings_reply_sent_back_applies_only_at_its_revision(app: &TestApp) {
    let token = app.admin_token().await;
    for (path, field, value) in [
        ("/api/v1/collaboration/settings", "k_factor", json!(20)),
        ("/api/v1/leaderboards/settings", "points", json!(2.0)),
    ] {
        let mut read = app.get(&token, path).await.body;
        assert_eq!(read["revision"], 1, "{path}");
        read[field] = value;
        let put = app
            .send(Method::PUT, path, Some(&token), Some(read.clone()))
            .await;
        assert_eq!(put.status, StatusCode::OK, "{path}: {}", put.body);
        assert_eq!(put.body[field], read[field], "{path}");
        assert_eq!(put.body["revision"], 2, "{path}");

        // The same copy again: stale now.
        app.send(Method::PUT, path, Some(&token), Some(read.clone()))
            .await
            .assert_problem(StatusCode::PRECONDITION_FAILED);
        let mut current = put.body.clone();
        app.send_with(
            Method::PUT,
            &token,
            path,
            ("if-match", "\"1\""),
            Some(current.clone()),
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST);
        current
            .as_object_mut()
            .expect("an object")
            .remove("revision");
        let unconditional = app
            .send(Method::PUT, path, Some(&token), Some(current))
            .await;
        assert_eq!(unconditional.status, StatusCode::OK, "{path}");
        assert_eq!(unconditional.body["revision"], 3, "{path}");
    }
}
