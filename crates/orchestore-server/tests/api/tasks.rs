//! `/api/v1/tasks`.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// PostgreSQL cannot store U+0000; both backends refuse it alike, with a 422 naming the field.
pub async fn nul_characters_are_refused_on_every_backend(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Nul").await;
    for (field, value) in [
        ("description", json!("a\u{0}b")),
        ("payload", json!({ "k": ["\u{0}"] })),
        ("metadata", json!({ "k\u{0}": 1 })),
    ] {
        let mut body = json!({ "project_id": project["id"], "title": "nul" });
        body[field] = value;
        let reply = app.post(&token, "/api/v1/tasks", body).await;
        assert_eq!(
            reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
            Some(field)
        );
    }
    let reply = app
        .post(
            &token,
            "/api/v1/projects",
            json!({ "name": "Nul 2", "settings": { "k": "\u{0}" } }),
        )
        .await;
    assert_eq!(
        reply.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("settings")
    );
    assert!(
        app.task_ids(&token, "").await.is_empty(),
        "nothing was written"
    );
}

pub async fn tasks_list_by_priority_and_empty_parameters_are_absent(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Priorities").await;
    let mut expected = Vec::new();
    for (title, priority) in [("low", 1), ("high", 9), ("mid", 5)] {
        let reply = app
            .post(
                &token,
                "/api/v1/tasks",
                json!({ "project_id": project["id"], "title": title, "priority": priority }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        expected.push((priority, reply.body["id"].as_str().expect("id").to_owned()));
    }
    expected.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();

    assert_eq!(
        app.task_ids(&token, "sort=-priority&limit=3").await,
        expected
    );
    assert_eq!(
        app.task_ids(&token, "sort=-priority&status=&cursor=&project_id=")
            .await,
        expected
    );
    // Page by page over HTTP: the cursor carries the priority it stopped at.
    let first = app
        .get(&token, "/api/v1/tasks?sort=-priority&limit=2")
        .await;
    assert_eq!(ids(&first.body["items"]), expected[..2]);
    let cursor = first.body["next_cursor"].as_str().expect("a second page");
    let second = app
        .get(
            &token,
            &format!("/api/v1/tasks?sort=-priority&limit=2&cursor={cursor}"),
        )
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(ids(&second.body["items"]), expected[2..]);
    assert_eq!(second.body["next_cursor"], json!(null));
    let projects = app.get(&token, "/api/v1/projects?sort=-priority").await;
    assert_eq!(
        projects.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("sort")
    );
}

pub async fn task_pages_neither_skip_nor_repeat(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Paging").await;
    let mut expected = Vec::new();
    for n in 0..5 {
        let task = app
            .create_task(&token, &project, &format!("task {n}"))
            .await;
        expected.push(task["id"].as_str().expect("id").to_owned());
    }

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(cursor) => format!("limit=2&cursor={cursor}"),
            None => "limit=2".to_owned(),
        };
        let page = app.get(&token, &format!("/api/v1/tasks?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let items = ids(&page.body["items"]);
        assert!(items.len() <= 2);
        seen.extend(items);
        pages += 1;
        if pages == 1 {
            // Rows inserted mid-walk land after the cursor and are picked up, once.
            for n in 5..7 {
                let task = app
                    .create_task(&token, &project, &format!("task {n}"))
                    .await;
                expected.push(task["id"].as_str().expect("id").to_owned());
            }
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(seen, expected, "oldest first, every task once");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());

    let newest_first = app.task_ids(&token, "sort=-created_at&limit=200").await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(newest_first, reversed);
}

pub async fn tasks_filter_by_status_and_project(app: &TestApp) {
    let token = app.admin_token().await;
    let alpha = app.create_project(&token, "Alpha").await;
    let beta = app.create_project(&token, "Beta").await;
    let a1 = app.create_task(&token, &alpha, "a1").await;
    let a2 = app.create_task(&token, &alpha, "a2").await;
    let b1 = app.create_task(&token, &beta, "b1").await;
    assert_eq!(a1["status"], "queued");

    let cancel = app
        .patch(
            &token,
            &format!("/api/v1/tasks/{}", a2["id"].as_str().expect("id")),
            json!({ "status": "cancelled" }),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);

    let id = |task: &Value| task["id"].as_str().expect("id").to_owned();
    let alpha_id = alpha["id"].as_str().expect("id");
    let beta_id = beta["id"].as_str().expect("id");
    assert_eq!(
        app.task_ids(&token, &format!("project_id={alpha_id}"))
            .await,
        vec![id(&a1), id(&a2)]
    );
    assert_eq!(
        app.task_ids(&token, &format!("project_id={beta_id}")).await,
        vec![id(&b1)]
    );
    assert_eq!(
        app.task_ids(&token, "status=cancelled").await,
        vec![id(&a2)]
    );
    assert_eq!(
        app.task_ids(&token, "status=queued").await,
        vec![id(&a1), id(&b1)]
    );
    assert_eq!(
        app.task_ids(&token, &format!("status=queued&project_id={alpha_id}"))
            .await,
        vec![id(&a1)]
    );
}

pub async fn task_patch_follows_the_state_machine(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "States").await;
    let created = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({
                "project_id": project["id"],
                "title": "ship it",
                "priority": 5,
                "payload": { "steps": [1, 2] },
                "required_capabilities": ["rust", "review"],
                "metadata": { "origin": "test" },
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["required_capabilities"],
        json!(["review", "rust"])
    );
    let path = format!("/api/v1/tasks/{}", created.body["id"].as_str().expect("id"));
    assert_eq!(created.header("location"), path);
    assert_eq!(app.get(&token, &path).await.body, created.body);

    let patched = app
        .patch(
            &token,
            &path,
            json!({ "title": "ship it now", "priority": 9, "payload": null, "status": "cancelled" }),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["title"], "ship it now");
    assert_eq!(patched.body["priority"], 9);
    assert_eq!(patched.body["payload"], Value::Null);
    assert_eq!(patched.body["status"], "cancelled");
    assert_eq!(patched.body["metadata"], json!({ "origin": "test" }));

    let illegal = app
        .patch(&token, &path, json!({ "status": "queued" }))
        .await;
    assert_eq!(
        illegal.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );
    let unknown = app.patch(&token, &path, json!({ "status": "done" })).await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("status")
    );
    let null_title = app.patch(&token, &path, json!({ "title": null })).await;
    assert_eq!(
        null_title.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("title")
    );
    assert_eq!(
        app.get(&token, &path).await.body,
        patched.body,
        "nothing changed"
    );

    let unchanged = app.patch(&token, &path, json!({})).await;
    assert_eq!(unchanged.status, StatusCode::OK);
    assert_eq!(unchanged.body, patched.body);

    assert_eq!(
        app.delete(&token, &path).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&token, &path)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

/// The id of a JSON task.
fn id_of(task: &Value) -> String {
    task["id"].as_str().expect("id").to_owned()
}

pub async fn task_graph_fields_are_written_read_and_filtered(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Graph").await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "pilot", "kind": "ai"}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    let parent = app.create_task(&token, &project, "parent").await;
    let created = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({
                "project_id": project["id"],
                "title": "child",
                "parent_id": parent["id"],
                "assigned_agent_id": agent.body["id"],
                "estimated_minutes": 45,
                "progress": 20,
                "tags": ["ops", "night"],
                "max_attempts": 4,
                "run_after": "2031-01-02T03:04:05.123456Z",
                "idempotency_key": "nightly-1",
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let child = &created.body;
    assert_eq!(child["parent_id"], parent["id"]);
    assert_eq!(child["assigned_agent_id"], agent.body["id"]);
    assert_eq!(child["tags"], json!(["night", "ops"]));
    assert_eq!(child["attempts"], 0);
    assert_eq!(child["max_attempts"], 4);
    assert_eq!(child["run_after"], "2031-01-02T03:04:05.123456Z");
    assert_eq!(child["result"], Value::Null);
    assert_eq!(child["started_at"], Value::Null);
    let path = format!("/api/v1/tasks/{}", id_of(child));

    let agent_id = agent.body["id"].as_str().expect("id");
    let parent_id = id_of(&parent);
    assert_eq!(
        app.task_ids(&token, &format!("assigned_agent_id={agent_id}"))
            .await,
        vec![id_of(child)]
    );
    assert_eq!(
        app.task_ids(&token, &format!("parent_id={parent_id}"))
            .await,
        vec![id_of(child)]
    );
    assert_eq!(app.task_ids(&token, "tag=ops").await, vec![id_of(child)]);
    assert!(app.task_ids(&token, "tag=day").await.is_empty());

    let patched = app
        .patch(
            &token,
            &path,
            json!({"parent_id": null, "assigned_agent_id": null, "run_after": null,
                   "estimated_minutes": null, "progress": 75, "tags": []}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["parent_id"], Value::Null);
    assert_eq!(patched.body["assigned_agent_id"], Value::Null);
    assert_eq!(patched.body["progress"], 75);
    assert_eq!(patched.body["idempotency_key"], "nightly-1");

    // The store's fields are not the client's.
    for field in ["attempts", "idempotency_key", "started_at", "result"] {
        let mut body = json!({});
        body[field] = json!(1);
        let refused = app.patch(&token, &path, body).await;
        assert_eq!(
            refused.assert_problem(StatusCode::BAD_REQUEST),
            Some(field),
            "{field}"
        );
    }
    let bad = app
        .patch(
            &token,
            &path,
            json!({"progress": 101, "max_attempts": 0, "estimated_minutes": 0, "tags": [""]}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec!["estimated_minutes", "max_attempts", "progress", "tags"]
    );
    let cycle = app
        .patch(
            &token,
            &format!("/api/v1/tasks/{parent_id}"),
            json!({"parent_id": parent_id}),
        )
        .await;
    assert_eq!(
        cycle.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("parent_id")
    );
    assert_eq!(
        app.get(&token, &path).await.body,
        patched.body,
        "nothing changed"
    );

    // The key again: the first task, as it is now, and nothing created.
    let again = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "again", "idempotency_key": "nightly-1"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(again.body, app.get(&token, &path).await.body);
    assert_eq!(again.header("location"), "", "nothing was created");
    let elsewhere = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "x", "parent_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        elsewhere.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("parent_id")
    );

    // A parent with a subtask is not deleted: 409 says how many.
    let reparent = app
        .patch(&token, &path, json!({"parent_id": parent_id}))
        .await;
    assert_eq!(reparent.status, StatusCode::OK, "{}", reparent.body);
    let refused = app
        .delete(&token, &format!("/api/v1/tasks/{parent_id}"))
        .await;
    refused.assert_problem(StatusCode::CONFLICT);
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1 subtask")),
        "{}",
        refused.body
    );
}

pub async fn dependencies_block_release_and_refuse_cycles(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Pipeline").await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "ci", "kind": "bot"}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    let build = app.create_task(&token, &project, "build").await;
    let test = app.create_task(&token, &project, "test").await;
    let (build_id, test_id) = (id_of(&build), id_of(&test));

    let added = app
        .post(
            &token,
            &format!("/api/v1/tasks/{test_id}/dependencies"),
            json!({"depends_on": build_id}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(
        added.header("location"),
        format!("/api/v1/tasks/{test_id}/dependencies/{build_id}")
    );
    assert_eq!(added.body["status"], "blocked");
    let deps = app
        .get(&token, &format!("/api/v1/tasks/{test_id}/dependencies"))
        .await;
    assert_eq!(deps.status, StatusCode::OK, "{}", deps.body);
    assert_eq!(ids(&deps.body["items"]), vec![build_id.clone()]);
    let dependents = app
        .get(&token, &format!("/api/v1/tasks/{build_id}/dependents"))
        .await;
    assert_eq!(ids(&dependents.body["items"]), vec![test_id.clone()]);

    // The edge back would close a cycle: 422 on depends_on, showing it.
    let cycle = app
        .post(
            &token,
            &format!("/api/v1/tasks/{build_id}/dependencies"),
            json!({"depends_on": test_id}),
        )
        .await;
    assert_eq!(
        cycle.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("depends_on")
    );
    assert_eq!(
        cycle.body["errors"][0]["message"],
        format!("adding this edge makes a cycle: {build_id} → {test_id} → {build_id}")
    );
    let twice = app
        .post(
            &token,
            &format!("/api/v1/tasks/{test_id}/dependencies"),
            json!({"depends_on": build_id}),
        )
        .await;
    assert_eq!(
        twice.assert_problem(StatusCode::CONFLICT),
        Some("depends_on")
    );
    let unknown = app
        .post(
            &token,
            &format!("/api/v1/tasks/{test_id}/dependencies"),
            json!({"depends_on": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("depends_on")
    );

    // build runs and succeeds: test is queued, and its history says why.
    let started = app
        .post(
            &token,
            &format!("/api/v1/tasks/{build_id}/claim"),
            json!({"agent_id": agent.body["id"]}),
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(started.body["status"], "running");
    assert_eq!(started.body["attempts"], 1);
    let done = app
        .post(
            &token,
            &format!("/api/v1/tasks/{build_id}/complete"),
            json!({"lease_token": started.body["lease_token"]}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body["finished_at"].is_string());
    let test_now = app.get(&token, &format!("/api/v1/tasks/{test_id}")).await;
    assert_eq!(test_now.body["status"], "queued");
    let events = app
        .get(&token, &format!("/api/v1/tasks/{test_id}/events"))
        .await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.body);
    let steps: Vec<(Value, Value, Value)> = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["from_status"].clone(),
                e["to_status"].clone(),
                e["reason"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (Value::Null, json!("queued"), json!("created")),
            (
                json!("queued"),
                json!("blocked"),
                json!(format!("dependency {build_id} added"))
            ),
            (
                json!("blocked"),
                json!("queued"),
                json!(format!("dependency {build_id} succeeded"))
            ),
        ]
    );
    let newest = app
        .get(
            &token,
            &format!("/api/v1/tasks/{test_id}/events?sort=-created_at&limit=1"),
        )
        .await;
    assert_eq!(newest.body["items"][0]["to_status"], "queued");
    assert!(newest.body["next_cursor"].is_string());

    let removed = app
        .delete(
            &token,
            &format!("/api/v1/tasks/{test_id}/dependencies/{build_id}"),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    app.delete(
        &token,
        &format!("/api/v1/tasks/{test_id}/dependencies/{build_id}"),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
    app.get(
        &token,
        &format!("/api/v1/tasks/{}/events", uuid::Uuid::now_v7()),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
    app.post(
        &token,
        &format!("/api/v1/tasks/{test_id}/dependencies"),
        json!({"depends_on": "not-a-uuid"}),
    )
    .await
    .assert_problem(StatusCode::BAD_REQUEST);
}

pub async fn task_stats_for_the_organization_and_a_project(app: &TestApp) {
    let token = app.admin_token().await;
    let alpha = app.create_project(&token, "Alpha").await;
    let beta = app.create_project(&token, "Beta").await;
    let a1 = app.create_task(&token, &alpha, "a1").await;
    app.create_task(&token, &alpha, "a2").await;
    app.create_task(&token, &beta, "b1").await;
    let cancel = app
        .patch(
            &token,
            &format!("/api/v1/tasks/{}", id_of(&a1)),
            json!({"status": "cancelled"}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);

    // `stats` is not taken for a task id.
    let all = app.get(&token, "/api/v1/tasks/stats").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.body["total"], 3);
    assert_eq!(
        all.body["by_status"],
        json!({"blocked": 0, "queued": 2, "running": 0, "succeeded": 0, "failed": 0,
               "cancelled": 1})
    );
    assert_eq!(
        all.body["by_priority"],
        json!([{"priority": 0, "count": 3}])
    );
    assert_eq!(
        all.body["run_time"],
        json!({"window": 1000, "measured": 0, "mean_seconds": null, "p95_seconds": null})
    );
    let alpha_stats = app
        .get(&token, &format!("/api/v1/projects/{}/stats", id_of(&alpha)))
        .await;
    assert_eq!(alpha_stats.status, StatusCode::OK, "{}", alpha_stats.body);
    assert_eq!(alpha_stats.body["total"], 2);
    assert_eq!(alpha_stats.body["by_status"]["cancelled"], 1);
    app.get(
        &token,
        &format!("/api/v1/projects/{}/stats", uuid::Uuid::now_v7()),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND);
}
