//! `POST /api/v1/tasks/batch`, and idempotency keys on `POST /api/v1/tasks`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn created_flags(reply: &Reply) -> Vec<bool> {
    reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["created"].as_bool().expect("created"))
        .collect()
}

fn statuses(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["status"].as_str().expect("status").to_owned())
        .collect()
}

pub async fn a_batch_is_enqueued_and_answered_in_order(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Batch").await;
    let outside = app.create_task(&token, &project, "outside").await;
    let body = json!({"tasks": [
        {"project_id": project["id"], "title": "first", "idempotency_key": "run-1/first",
         "priority": 5},
        {"project_id": project["id"], "title": "second", "depends_on_batch": [0],
         "run_after": "2031-01-02T03:04:05Z"},
        {"project_id": project["id"], "title": "third", "depends_on": [outside["id"]],
         "depends_on_batch": [0, 1], "idempotency_key": "run-1/third"},
        {"project_id": project["id"], "title": "fourth"},
    ]});
    let reply = app.post(&token, "/api/v1/tasks/batch", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.header("location"), "", "many tasks, no one location");
    let items = reply.body["items"].as_array().expect("items");
    let titles: Vec<&str> = items
        .iter()
        .map(|item| item["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["first", "second", "third", "fourth"]);
    assert_eq!(created_flags(&reply), [true; 4]);
    assert_eq!(statuses(&reply), ["queued", "blocked", "blocked", "queued"]);
    assert_eq!(items[0]["priority"], 5);
    assert_eq!(items[1]["run_after"], "2031-01-02T03:04:05Z");
    let third = items[2]["id"].as_str().expect("id");
    let mut dependencies = ids(&app
        .get(&token, &format!("/api/v1/tasks/{third}/dependencies"))
        .await
        .body["items"]);
    dependencies.sort();
    let mut expected = vec![id_of(&outside), id_of(&items[0]), id_of(&items[1])];
    expected.sort();
    assert_eq!(dependencies, expected);
    // Each is a task like any other.
    let read = app.get(&token, &format!("/api/v1/tasks/{third}")).await;
    let mut answered = items[2].clone();
    answered.as_object_mut().expect("object").remove("created");
    assert_eq!(read.body, answered);

    // Sent again, the keyed tasks are the first ones: 200 when nothing was created.
    let again = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [
                {"project_id": project["id"], "title": "third, again",
                 "idempotency_key": "run-1/third"},
                {"project_id": project["id"], "title": "first, again",
                 "idempotency_key": "run-1/first"},
            ]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(created_flags(&again), [false, false]);
    assert_eq!(again.body["items"][0]["id"], items[2]["id"]);
    assert_eq!(again.body["items"][0]["title"], "third");
    assert_eq!(again.body["items"][1]["id"], items[0]["id"]);
    // One new among known ones: 201.
    let mixed = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [
                {"project_id": project["id"], "title": "first", "idempotency_key": "run-1/first"},
                {"project_id": project["id"], "title": "fifth", "idempotency_key": "run-1/fifth"},
            ]}),
        )
        .await;
    assert_eq!(mixed.status, StatusCode::CREATED, "{}", mixed.body);
    assert_eq!(created_flags(&mixed), [false, true]);
    assert_eq!(
        app.task_ids(
            &token,
            &format!("project_id={}", project["id"].as_str().expect("id"))
        )
        .await
        .len(),
        6
    );

    // One task with a key: 201 with Location once, then 200 with the same task.
    let single = json!({"project_id": project["id"], "title": "single", "idempotency_key": "one"});
    let first = app.post(&token, "/api/v1/tasks", single.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let location = format!("/api/v1/tasks/{}", id_of(&first.body));
    assert_eq!(first.header("location"), location);
    let second = app.post(&token, "/api/v1/tasks", single).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("location"), "");
}

pub async fn batch_errors_name_the_task_and_write_nothing(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Batch").await;
    let other_project = json!(uuid::Uuid::now_v7());
    let cancelled = app.create_task(&token, &project, "cancelled").await;
    let cancel = app
        .post(
            &token,
            &format!("/api/v1/tasks/{}/cancel", id_of(&cancelled)),
            json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    let good = |title: &str| json!({"project_id": project["id"], "title": title});
    let before = app.task_ids(&token, "").await;

    // Every bad field of every task, named by its position.
    let bad_fields = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [
                good("ok"),
                {"project_id": project["id"], "title": ""},
                good("ok too"),
                {"project_id": project["id"], "title": "x", "max_attempts": 0, "progress": 101},
            ]}),
        )
        .await;
    bad_fields.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&bad_fields.body),
        [
            "tasks[1].title",
            "tasks[3].max_attempts",
            "tasks[3].progress"
        ]
    );
    // The tasks between them: an earlier task only, and a key once.
    let between = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [
                {"project_id": project["id"], "title": "a", "idempotency_key": "k"},
                {"project_id": project["id"], "title": "b", "depends_on_batch": [1]},
                {"project_id": project["id"], "title": "c", "idempotency_key": "k"},
            ]}),
        )
        .await;
    between.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&between.body),
        ["tasks[1].depends_on_batch", "tasks[2].idempotency_key"]
    );
    // What the store finds: the first task at fault.
    let reference = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [
                good("ok"),
                good("ok too"),
                {"project_id": other_project, "title": "nowhere"},
            ]}),
        )
        .await;
    assert_eq!(
        reference.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("tasks[2].project_id")
    );
    assert!(
        reference.body["detail"]
            .as_str()
            .expect("detail")
            .starts_with("tasks[2].project_id: project"),
        "{}",
        reference.body
    );
    let conflict = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [
                good("ok"),
                {"project_id": project["id"], "title": "hopeless",
                 "depends_on": [cancelled["id"]]},
            ]}),
        )
        .await;
    assert_eq!(
        conflict.assert_problem(StatusCode::CONFLICT),
        Some("tasks[1]")
    );
    assert!(
        conflict.body["detail"]
            .as_str()
            .expect("detail")
            .contains("cancelled"),
        "{}",
        conflict.body
    );
    // The list itself.
    let empty = app
        .post(&token, "/api/v1/tasks/batch", json!({"tasks": []}))
        .await;
    assert_eq!(
        empty.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("tasks")
    );
    let wrong_type = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [good("ok"), {"project_id": project["id"], "title": 5}]}),
        )
        .await;
    assert_eq!(
        wrong_type.assert_problem(StatusCode::BAD_REQUEST),
        Some("tasks[1].title")
    );
    // A position names a task of a batch: not in a single creation.
    let single = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "x", "depends_on_batch": [0]}),
        )
        .await;
    assert_eq!(
        single.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("depends_on_batch")
    );

    assert_eq!(app.task_ids(&token, "").await, before, "nothing written");
    // The good part alone goes in, and nothing of the refused batches took a key.
    let retried = app
        .post(
            &token,
            "/api/v1/tasks/batch",
            json!({"tasks": [{"project_id": project["id"], "title": "a", "idempotency_key": "k"}]}),
        )
        .await;
    assert_eq!(retried.status, StatusCode::CREATED, "{}", retried.body);
}

pub async fn large_batches_fit_and_need_the_permission(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Batch").await;
    // Over the 1 MiB of other bodies.
    let description = "d".repeat(500);
    let tasks: Vec<Value> = (0..2500)
        .map(|n| {
            json!({"project_id": project["id"], "title": format!("task {n}"),
                   "description": description})
        })
        .collect();
    let body = json!({ "tasks": tasks });
    assert!(body.to_string().len() > 1024 * 1024);
    let reply = app.post(&token, "/api/v1/tasks/batch", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["items"].as_array().expect("items").len(), 2500);
    assert_eq!(reply.body["items"][2499]["title"], "task 2499");
    let single = app
        .post(
            &token,
            "/api/v1/tasks",
            json!({"project_id": project["id"], "title": "big", "description": "d".repeat(5 * 1024 * 1024)}),
        )
        .await;
    single.assert_problem(StatusCode::PAYLOAD_TOO_LARGE);

    app.create_user(&token, "viewer@example.test", &["viewer"])
        .await;
    let viewer = app.token("viewer@example.test", USER_PASSWORD).await;
    let refused = app
        .post(
            &viewer,
            "/api/v1/tasks/batch",
            json!({"tasks": [{"project_id": project["id"], "title": "no"}]}),
        )
        .await;
    refused.assert_problem(StatusCode::FORBIDDEN);
    let other_method = app.get(&token, "/api/v1/tasks/batch").await;
    other_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED);
}

fn id_of(task: &Value) -> String {
    task["id"].as_str().expect("id").to_owned()
}
