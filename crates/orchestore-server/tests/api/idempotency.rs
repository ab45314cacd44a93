//! `Idempotency-Key` on creating POSTs: a retry gets the first answer, another request with
//! the key is refused, two at once make one creation, and keys belong to their caller.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn post_with_key(app: &TestApp, token: &str, path: &str, key: &str, body: Value) -> Reply {
    let request = app
        .http
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body);
    Reply::from(request.send().await.expect("the server answers")).await
}

pub async fn a_retry_gets_the_first_answer_and_creates_nothing(app: &TestApp) {
    let admin = app.admin_token().await;
    let body = json!({"name": "Checkout"});
    let first = post_with_key(
        app,
        &admin,
        "/api/v1/projects",
        "create-checkout",
        body.clone(),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());

    let again = post_with_key(app, &admin, "/api/v1/projects", "create-checkout", body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.header("content-type"), first.header("content-type"));
    assert_eq!(again.header("idempotent-replayed"), "true");

    let listed = app.get(&admin, "/api/v1/projects").await;
    assert_eq!(
        ids(&listed.body["items"]),
        vec![first.body["id"].as_str().expect("id").to_owned()]
    );
}

pub async fn the_same_key_for_another_request_is_refused(app: &TestApp) {
    let admin = app.admin_token().await;
    let first = post_with_key(
        app,
        &admin,
        "/api/v1/projects",
        "k-1",
        json!({"name": "One"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);

    let other_body = post_with_key(
        app,
        &admin,
        "/api/v1/projects",
        "k-1",
        json!({"name": "Two"}),
    )
    .await;
    assert_eq!(
        other_body.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("Idempotency-Key")
    );
    let project = app.create_project(&admin, "Three").await;
    let other_path = post_with_key(
        app,
        &admin,
        "/api/v1/tasks",
        "k-1",
        json!({"project_id": project["id"], "title": "One"}),
    )
    .await;
    assert_eq!(
        other_path.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("Idempotency-Key")
    );

    let bad_key = post_with_key(app, &admin, "/api/v1/projects", "", json!({"name": "Four"})).await;
    assert_eq!(
        bad_key.assert_problem(StatusCode::BAD_REQUEST),
        Some("Idempotency-Key")
    );
    let listed = app.get(&admin, "/api/v1/projects").await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        listed.body
    );
}

pub async fn two_requests_at_once_make_one_creation(app: &TestApp) {
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Race").await;
    let body = json!({"project_id": project["id"], "title": "Only once"});
    let replies = futures_util::future::join_all(
        (0..8).map(|_| post_with_key(app, &admin, "/api/v1/tasks", "race", body.clone())),
    )
    .await;
    let created: Vec<&Reply> = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::CREATED)
        .collect();
    assert!(!created.is_empty(), "one request creates the task");
    let id = &created[0].body["id"];
    for reply in &replies {
        match reply.status {
            // The first, and replays of its answer.
            StatusCode::CREATED => assert_eq!(&reply.body["id"], id),
            // Sent while the first still ran.
            StatusCode::CONFLICT => {
                assert_eq!(
                    reply.assert_problem(StatusCode::CONFLICT),
                    Some("Idempotency-Key")
                );
            }
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    let tasks = app
        .task_ids(
            &admin,
            &format!("project_id={}", project["id"].as_str().expect("id")),
        )
        .await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
}

pub async fn keys_belong_to_their_caller_and_refusals_are_kept(app: &TestApp) {
    let admin = app.admin_token().await;
    let developer_email = "dev@example.com";
    app.create_user(&admin, developer_email, &["developer"])
        .await;
    let developer = app.token(developer_email, USER_PASSWORD).await;

    let body = json!({"name": "Shared key"});
    let mine = post_with_key(app, &admin, "/api/v1/projects", "shared", body.clone()).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    // Another caller's key of the same name is its own: its request runs (and conflicts on
    // the name, a refusal that is not kept).
    let theirs = post_with_key(app, &developer, "/api/v1/projects", "shared", body.clone()).await;
    theirs.assert_problem(StatusCode::CONFLICT);
    assert!(theirs.headers.get("idempotent-replayed").is_none());
    let renamed = post_with_key(
        app,
        &developer,
        "/api/v1/projects",
        "shared",
        json!({"name": "Shared key"}),
    )
    .await;
    assert!(
        renamed.headers.get("idempotent-replayed").is_none(),
        "a 409 is not replayed"
    );

    // A validation refusal is the answer a retry gets, replayed.
    let invalid = post_with_key(
        app,
        &admin,
        "/api/v1/projects",
        "empty",
        json!({"name": ""}),
    )
    .await;
    invalid.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let replayed = post_with_key(
        app,
        &admin,
        "/api/v1/projects",
        "empty",
        json!({"name": ""}),
    )
    .await;
    assert_eq!(replayed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(replayed.body, invalid.body);
    assert_eq!(replayed.header("idempotent-replayed"), "true");

    // Without a valid token the route answers, key or not.
    let anonymous = post_with_key(app, "not-a-token", "/api/v1/projects", "shared", body).await;
    anonymous.assert_problem(StatusCode::UNAUTHORIZED);
}
