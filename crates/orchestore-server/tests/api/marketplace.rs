//! `/api/v1/marketplace`.

use orchestore_testkit::Fixture;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub async fn items_are_published_found_and_installed_elsewhere(app: &TestApp) {
    let token = app.admin_token().await;
    let workflow = app
        .post(&token, "/api/v1/workflows", json!({"name": "Pipeline"}))
        .await;
    let workflow_id = workflow.body["id"].as_str().expect("id").to_owned();
    let version = app
        .post(
            &token,
            &format!("/api/v1/workflows/{workflow_id}/versions"),
            json!({"definition": {"steps": [{"name": "build"}]}}),
        )
        .await;
    assert_eq!(version.status, StatusCode::CREATED, "{}", version.body);
    let published = app
        .post(
            &token,
            "/api/v1/marketplace",
            json!({"workflow_id": workflow_id, "description": "Builds",
                   "tags": ["ci"], "readme": "Compiles rockets."}),
        )
        .await;
    assert_eq!(published.status, StatusCode::CREATED, "{}", published.body);
    let item = published.body["id"].as_str().expect("id").to_owned();
    assert_eq!(published.body["version"], 1);
    assert_eq!(published.body["kind"], "workflow");
    assert_eq!(published.body["published_by_caller"], true);
    assert!(published.body.get("organization_id").is_none());

    Fixture::create(app.store.as_ref(), "other", "another organization password").await;
    let other = app
        .token_in("other", "owner@other.test", "another organization password")
        .await;
    let found = app
        .post(
            &other,
            "/api/v1/marketplace/search",
            json!({"query": "compiling rockets", "kind": "workflow"}),
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["items"][0]["item"]["id"], item.as_str());
    let browsed = app.get(&other, "/api/v1/marketplace?tag=ci").await;
    assert_eq!(ids(&browsed.body["items"]), std::slice::from_ref(&item));
    assert_eq!(browsed.body["items"][0]["published_by_caller"], false);

    let installed = app
        .post(
            &other,
            &format!("/api/v1/marketplace/{item}/install"),
            json!({}),
        )
        .await;
    assert_eq!(installed.status, StatusCode::CREATED, "{}", installed.body);
    let copy = installed.body["copy"]["workflow"]["workflow"]["id"]
        .as_str()
        .expect("copy")
        .to_owned();
    assert_eq!(
        installed.header("location"),
        format!("/api/v1/workflows/{copy}")
    );
    assert_eq!(installed.body["install"]["item_id"], item.as_str());
    let read = app.get(&other, &format!("/api/v1/workflows/{copy}")).await;
    assert_eq!(read.body["latest_version"], 1);
    let installs = app.get(&other, "/api/v1/marketplace/installs").await;
    assert_eq!(installs.body["items"][0]["workflow_id"], copy.as_str());
    let again = app
        .post(
            &other,
            &format!("/api/v1/marketplace/{item}/install"),
            json!({}),
        )
        .await;
    assert_eq!(again.assert_problem(StatusCode::CONFLICT), Some("name"));

    // Only the publisher unpublishes; then the item is gone for everyone else, the copy stays.
    let refused = app
        .delete(&other, &format!("/api/v1/marketplace/{item}"))
        .await;
    refused.assert_problem(StatusCode::NOT_FOUND);
    let unpublished = app
        .delete(&token, &format!("/api/v1/marketplace/{item}"))
        .await;
    assert_eq!(unpublished.status, StatusCode::OK, "{}", unpublished.body);
    assert!(unpublished.body["unpublished_at"].is_string());
    app.get(&other, &format!("/api/v1/marketplace/{item}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
    let read = app.get(&other, &format!("/api/v1/workflows/{copy}")).await;
    assert_eq!(read.status, StatusCode::OK);

    let bad = app
        .post(&token, "/api/v1/marketplace", json!({"readme": "nothing"}))
        .await;
    assert_eq!(
        bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("workflow_id")
    );
    let empty = app
        .post(
            &token,
            "/api/v1/marketplace/search",
            json!({"query": "the"}),
        )
        .await;
    assert_eq!(
        empty.assert_problem(StatusCode::UNPROCESSABLE_ENTITY),
        Some("query")
    );
}
