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
