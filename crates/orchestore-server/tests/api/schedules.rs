//! `/api/v1/schedules`: cron schedules as a client uses them, what is refused, and two server
//! replicas over one database firing each occurrence once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use orchestore_repo::Store;
use orchestore_sea::{DbConfig, SeaStore};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub async fn schedules_are_created_paused_resumed_and_previewed(app: &TestApp) {
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Reports").await;
    let created = app
        .post(
            &admin,
            "/api/v1/schedules",
            json!({
                "name": "Morning report",
                "cron": "0 30 9 * * MON-FRI",
                "time_zone": "Europe/Paris",
                "misfire_policy": "catch_up_one",
                "task": {
                    "project_id": project["id"],
                    "title": "Write the morning report",
                    "priority": 5,
                    "required_capabilities": ["writing"],
                },
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.header("location"),
        format!("/api/v1/schedules/{id}")
    );
    assert_eq!(created.body["cron"], "0 30 9 * * MON-FRI");
    assert_eq!(created.body["time_zone"], "Europe/Paris");
    assert_eq!(created.body["misfire_policy"], "catch_up_one");
    assert_eq!(created.body["target"]["kind"], "task");
    assert_eq!(created.body["target"]["priority"], 5);
    assert_eq!(created.body["enabled"], true);
    assert!(created.body["next_run_at"].is_string());

    let next = app
        .get(&admin, &format!("/api/v1/schedules/{id}/next?count=3"))
        .await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.body);
    assert_eq!(next.body["time_zone"], "Europe/Paris");
    let occurrences = next.body["occurrences"].as_array().expect("occurrences");
    assert_eq!(occurrences.len(), 3);
    assert_eq!(occurrences[0], created.body["next_run_at"]);

    let paused = app
        .post(&admin, &format!("/api/v1/schedules/{id}/pause"), json!({}))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(paused.body["enabled"], false);
    assert!(paused.body["next_run_at"].is_null());
    let listed = app.get(&admin, "/api/v1/schedules?enabled=false").await;
    assert_eq!(ids(&listed.body["items"]), vec![id.clone()]);
    let resumed = app
        .post(&admin, &format!("/api/v1/schedules/{id}/resume"), json!({}))
        .await;
    assert_eq!(resumed.body["enabled"], true);
    assert_eq!(resumed.body["next_run_at"], created.body["next_run_at"]);

    let patched = app
        .patch(
            &admin,
            &format!("/api/v1/schedules/{id}"),
            json!({"cron": "0 0 12 * * *", "time_zone": "UTC"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    let next_run = patched.body["next_run_at"].as_str().expect("next run");
    assert!(next_run.ends_with("T12:00:00Z"), "{next_run}");

    let deleted = app.delete(&admin, &format!("/api/v1/schedules/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&admin, &format!("/api/v1/schedules/{id}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}

pub async fn bad_schedules_are_refused_naming_the_field(app: &TestApp) {
    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Reports").await;
    let refused = app
        .post(
            &admin,
            "/api/v1/schedules",
            json!({
                "name": "Broken",
                "cron": "61 * * * *",
                "time_zone": "Mars/Olympus_Mons",
                "misfire_policy": "sometimes",
                "task": {"project_id": project["id"], "title": ""},
            }),
        )
        .await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    let fields = error_fields(&refused.body);
    for field in ["cron", "time_zone", "misfire_policy", "title"] {
        assert!(fields.iter().any(|f| f == field), "{field}: {fields:?}");
    }
    let neither = app
        .post(
            &admin,
            "/api/v1/schedules",
            json!({"name": "No target", "cron": "* * * * *"}),
        )
        .await;
    neither.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&neither.body), vec!["target"]);
    let unknown = app
        .post(
            &admin,
            "/api/v1/schedules",
            json!({"name": "Unknown workflow", "cron": "* * * * *",
                   "workflow": {"workflow_id": uuid::Uuid::now_v7(), "project_id": project["id"]}}),
        )
        .await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&unknown.body), vec!["workflow_id"]);
    let listed = app.get(&admin, "/api/v1/schedules").await;
    assert_eq!(listed.body["items"], json!([]), "nothing was written");
    app.get(
        &admin,
        &format!("/api/v1/schedules/{}/next?count=0", uuid::Uuid::now_v7()),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
}

/// Two servers over one database (on PostgreSQL each with its own pool, as two replicas are),
/// both firing an every-second schedule: each occurrence makes one task, fired once.
pub async fn two_replicas_fire_each_occurrence_once(app: &TestApp) {
    let second: Arc<dyn Store> = if app.db.url().starts_with("postgres") {
        Arc::new(
            SeaStore::connect(&DbConfig::new(app.db.url()))
                .await
                .expect("a second store"),
        )
    } else {
        // One in-memory SQLite database is reached through one pool only.
        Arc::clone(&app.store)
    };
    let mut settings = test_settings();
    settings.queue.schedule_interval = Duration::from_millis(300);
    serve(second, settings).await;

    let admin = app.admin_token().await;
    let project = app.create_project(&admin, "Ticks").await;
    let created = app
        .post(
            &admin,
            "/api/v1/schedules",
            json!({
                "name": "Every second",
                "cron": "* * * * * *",
                "misfire_policy": "catch_up_one",
                "task": {"project_id": project["id"], "title": "Tick"},
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let paused = app
        .post(&admin, &format!("/api/v1/schedules/{id}/pause"), json!({}))
        .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);

    let tasks = app
        .get(
            &admin,
            &format!(
                "/api/v1/tasks?project_id={}&limit=200",
                project["id"].as_str().expect("id")
            ),
        )
        .await;
    let keys: Vec<String> = tasks.body["items"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|task| task["idempotency_key"].as_str().expect("a key").to_owned())
        .collect();
    assert!(keys.len() >= 2, "fired {keys:?}");
    let distinct: BTreeSet<&String> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "one task per occurrence");
    assert!(
        keys.iter()
            .all(|k| k.starts_with(&format!("schedule:{id}:")))
    );
    // Each occurrence was fired once: one `schedule.fire` row per task, none refused.
    let fires = app
        .get(
            &admin,
            &format!("/api/v1/audit-logs?entity_id={id}&action=schedule.fire&limit=200"),
        )
        .await;
    assert_eq!(fires.status, StatusCode::OK, "{}", fires.body);
    let fired = fires.body["items"].as_array().expect("rows").len();
    assert_eq!(fired, keys.len(), "{}", fires.body);
}
