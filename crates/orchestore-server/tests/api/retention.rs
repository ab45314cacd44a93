//! `/api/v1/retention-policy`.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::points::fields;

pub async fn the_retention_policy_is_read_replaced_and_checked(app: &TestApp) {
    let admin = app.admin_token().await;
    let unset = app.get(&admin, "/api/v1/retention-policy").await;
    assert_eq!(unset.status, StatusCode::OK, "{}", unset.body);
    assert_eq!(
        unset.body,
        json!({"succeeded_tasks": null, "failed_tasks": null, "cancelled_tasks": null,
               "events": null, "metrics": null, "messages": null, "sessions": null,
               "audit_logs": null, "updated_at": null, "revision": 1})
    );

    let put = app
        .send(
            Method::PUT,
            "/api/v1/retention-policy",
            Some(&admin),
            Some(json!({"succeeded_tasks": "30d", "events": "120m", "audit_logs": null})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["succeeded_tasks"], "30d");
    // Written back in the largest unit that states it exactly.
    assert_eq!(put.body["events"], "2h");
    assert_eq!(put.body["failed_tasks"], json!(null));
    assert_eq!(put.body["audit_logs"], json!(null));
    assert!(put.body["updated_at"].is_string(), "{}", put.body);
    assert_eq!(put.body["revision"], 2);
    let read = app.get(&admin, "/api/v1/retention-policy").await;
    assert_eq!(read.body, put.body);

    // Every bad age is named, and nothing changes.
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/retention-policy",
            Some(&admin),
            Some(json!({"events": "30m", "metrics": "soon", "sessions": "0d"})),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&bad.body), ["events", "metrics", "sessions"]);
    let unknown = app
        .send(
            Method::PUT,
            "/api/v1/retention-policy",
            Some(&admin),
            Some(json!({"tasks": "30d"})),
        )
        .await;
    unknown.assert_problem(StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&admin, "/api/v1/retention-policy").await.body,
        put.body
    );
}
