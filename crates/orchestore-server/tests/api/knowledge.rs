//! `/api/v1/knowledge`.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub async fn entries_are_written_searched_and_highlighted(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Apollo").await;
    let collection = app
        .post(
            &token,
            "/api/v1/knowledge/collections",
            json!({"name": "model-a", "dimension": 2}),
        )
        .await;
    assert_eq!(
        collection.status,
        StatusCode::CREATED,
        "{}",
        collection.body
    );
    let created = app
        .post(
            &token,
            "/api/v1/knowledge",
            json!({
                "title": "Rocket launch checklist",
                "content": "Check the <b>rocket</b> before every rocket launch.",
                "tags": ["ops"],
                "source": "wiki",
                "project_id": project["id"],
                "metadata": {"page": 3},
                "embeddings": {"model-a": [0.0, 1.0]},
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/knowledge/{id}")
    );
    assert_eq!(created.body["embeddings"], json!(["model-a"]));
    let other = app
        .post(
            &token,
            "/api/v1/knowledge",
            json!({"title": "Kitchen", "content": "A toy rocket.",
                   "embeddings": {"model-a": [1.0, 0.0]}}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{}", other.body);

    let listed = app
        .get(&token, "/api/v1/knowledge?tags=ops&source=wiki")
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(ids(&listed.body["items"]), std::slice::from_ref(&id));

    let found = app
        .post(
            &token,
            "/api/v1/knowledge/search",
            json!({"query": "rocket"}),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let items = found.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["entry"]["id"], id.as_str());
    assert_eq!(items[0]["text_rank"], 1);
    assert_eq!(
        items[0]["highlight"]["title"],
        "<mark>Rocket</mark> launch checklist"
    );
    let snippet = items[0]["highlight"]["snippet"].as_str().expect("snippet");
    assert!(snippet.contains("<mark>rocket</mark>"), "{snippet}");
    assert!(!snippet.contains("<b>"), "{snippet}");

    let nearest = app
        .post(
            &token,
            "/api/v1/knowledge/search",
            json!({"collection": "model-a", "vector": [1.0, 0.1], "limit": 1}),
        )
        .await;
    assert_eq!(nearest.status, StatusCode::OK, "{}", nearest.body);
    assert_eq!(nearest.body["items"][0]["entry"]["id"], other.body["id"]);
    assert_eq!(nearest.body["items"][0]["vector_rank"], 1);

    let hybrid = app
        .post(
            &token,
            "/api/v1/knowledge/search",
            json!({"query": "launch", "collection": "model-a", "vector": [1.0, 0.0],
                   "project_id": project["id"]}),
        )
        .await;
    assert_eq!(hybrid.status, StatusCode::OK, "{}", hybrid.body);
    let items = hybrid.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["text_rank"], 1);
    assert_eq!(items[0]["vector_rank"], 1);

    let patched = app
        .patch(
            &token,
            &format!("/api/v1/knowledge/{id}"),
            json!({"source": null, "embeddings": {"model-a": null}}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["source"], json!(null));
    assert_eq!(patched.body["embeddings"], json!([]));
    let deleted = app.delete(&token, &format!("/api/v1/knowledge/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = app.get(&token, &format!("/api/v1/knowledge/{id}")).await;
    gone.assert_problem(StatusCode::NOT_FOUND);
}

pub async fn bad_searches_and_vectors_are_422(app: &TestApp) {
    let token = app.admin_token().await;
    app.post(
        &token,
        "/api/v1/knowledge/collections",
        json!({"name": "model-a", "dimension": 3}),
    )
    .await;
    let wrong = app
        .post(
            &token,
            "/api/v1/knowledge",
            json!({"title": "T", "content": "c", "embeddings": {"model-a": [1.0, 2.0]}}),
        )
        .await;
    assert_eq!(
        wrong.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("embeddings")
    );
    let bad = app
        .post(
            &token,
            "/api/v1/knowledge",
            json!({"title": " ", "content": "", "embeddings": {"model-a": [0.0, 0.0, 0.0]}}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["content", "embeddings", "title"]);
    let wrong_search = app
        .post(
            &token,
            "/api/v1/knowledge/search",
            json!({"collection": "model-a", "vector": [1.0]}),
        )
        .await;
    assert_eq!(
        wrong_search.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("vector")
    );
    let unknown = app
        .post(
            &token,
            "/api/v1/knowledge/search",
            json!({"collection": "nope", "vector": [1.0]}),
        )
        .await;
    assert_eq!(
        unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("collection")
    );
    for body in [
        json!({}),
        json!({"query": "the and of"}),
        json!({"vector": [1.0, 0.0, 0.0]}),
        json!({"query": "x", "limit": 101}),
    ] {
        let refused = app
            .post(&token, "/api/v1/knowledge/search", body.clone())
            .await;
        refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Quotes and operators are words: never a 500.
    let odd = app
        .post(
            &token,
            "/api/v1/knowledge/search",
            json!({"query": "\"unclosed OR -(x* NEAR/3 ^ col:y'"}),
        )
        .await;
    assert_eq!(odd.status, StatusCode::OK, "{}", odd.body);
    let taken = app
        .post(
            &token,
            "/api/v1/knowledge/collections",
            json!({"name": "model-a", "dimension": 3}),
        )
        .await;
    assert_eq!(taken.assert_problem(StatusCode::CONFLICT), Some("name"));
}
