//! `GET /metrics`: the Prometheus text a scrape reads after some API use, and who may scrape.

use std::sync::Arc;

use orchestore_repo::Ctx;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// One scrape at a time in this process: the gauges a scrape samples are the process's, so a
/// scrape of another test's server between this one's sample and its render would show that
/// server's figures.
static SCRAPES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn scrape(app: &TestApp, base: &str, token: Option<&str>) -> reqwest::Response {
    let _turn = SCRAPES.lock().await;
    let mut request = app.http.get(format!("{base}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("sent")
}

/// The value of the sample of `metric` whose labels include every one of `labels`
/// (`name="value"` each).
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find(|line| {
            let (series, _) = line.rsplit_once(' ').unwrap_or((line, ""));
            let name = series.split('{').next().unwrap_or(series);
            name == metric && labels.iter().all(|label| series.contains(label))
        })
        .and_then(|line| line.rsplit_once(' '))
        .and_then(|(_, value)| value.parse().ok())
}

fn at_least(text: &str, metric: &str, labels: &[&str], least: f64) {
    let value = sample(text, metric, labels)
        .unwrap_or_else(|| panic!("no {metric} {labels:?} in:\n{text}"));
    assert!(value >= least, "{metric} {labels:?} = {value} < {least}");
}

/// A scrape of `app`'s server that read its database in time (`orchestore_database_up` 1), so
/// that the figures it samples are this database's (scrapes take turns: [`SCRAPES`]). A read
/// slower than the scrape's timeout, which a loaded machine can make, reports the database down
/// and leaves the figures as they were, by design: such a scrape is tried again.
async fn scrape_in_time(app: &TestApp) -> String {
    let mut last = String::new();
    for _ in 0..20 {
        let response = scrape(app, &app.base, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        last = response.text().await.expect("body");
        if sample(&last, "orchestore_database_up", &[]) == Some(1.0) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("no scrape of 20 read the database in time:\n{last}");
}

pub async fn a_scrape_shows_requests_the_pool_and_the_queue(app: &TestApp) {
    let token = app.admin_token().await;
    let project = app.create_project(&token, "Observed").await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "worker", "kind": "ai", "capabilities": []}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::CREATED, "{}", agent.body);
    for title in ["done", "dead", "waiting"] {
        let created = app
            .post(
                &token,
                "/api/v1/tasks",
                json!({"project_id": project["id"], "title": title,
                       "priority": if title == "waiting" { 0 } else { 9 }}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let claimed = app
        .post(
            &token,
            "/api/v1/queue/claim",
            json!({"agent_id": agent.body["id"], "limit": 2}),
        )
        .await;
    assert_eq!(claimed.status, StatusCode::OK, "{}", claimed.body);
    let items = claimed.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    let (done, dead) = (&items[0], &items[1]);
    let completed = app
        .post(
            &token,
            &format!(
                "/api/v1/tasks/{}/complete",
                done["id"].as_str().expect("id")
            ),
            json!({"lease_token": done["lease_token"]}),
        )
        .await;
    assert_eq!(completed.status, StatusCode::OK, "{}", completed.body);
    let failed = app
        .post(
            &token,
            &format!("/api/v1/tasks/{}/fail", dead["id"].as_str().expect("id")),
            json!({"lease_token": dead["lease_token"], "retry": false}),
        )
        .await;
    assert_eq!(failed.status, StatusCode::OK, "{}", failed.body);
    assert_eq!(failed.body["status"], "failed");
    let done_id = done["id"].as_str().expect("id");
    for _ in 0..2 {
        let read = app.get(&token, &format!("/api/v1/tasks/{done_id}")).await;
        assert_eq!(read.status, StatusCode::OK);
    }
    let missing = app.get(&token, "/no/such/route").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Sealed here, in the server's process, unless its sealer was first: either way the
    // counter has rows, and a new row (the project below) waits.
    for org in app
        .store
        .organizations_with_unsealed_audit(100)
        .await
        .expect("organizations")
    {
        app.store
            .seal_audit(&Ctx::system(org), u32::MAX)
            .await
            .expect("seal");
    }
    let before_waiting = chrono::Utc::now();
    app.create_project(&token, "Waiting to be sealed").await;

    let text = scrape_in_time(app).await;

    // Requests by route pattern, never by path: no id shows.
    let task_route = r#"route="/api/v1/tasks/{id}""#;
    at_least(
        &text,
        "orchestore_http_requests_total",
        &[r#"method="GET""#, task_route, r#"status="200""#],
        2.0,
    );
    at_least(
        &text,
        "orchestore_http_requests_total",
        &[r#"route="unmatched""#, r#"status="404""#],
        1.0,
    );
    assert!(!text.contains(done_id), "an id in a label:\n{text}");
    at_least(
        &text,
        "orchestore_http_request_duration_seconds_count",
        &[r#"method="GET""#, task_route],
        2.0,
    );
    at_least(
        &text,
        "orchestore_http_request_duration_seconds_bucket",
        // The method too: the recorder is the process's, and other tests' PATCHes of a task
        // have a series of their own.
        &[r#"method="GET""#, task_route, r#"le="+Inf""#],
        2.0,
    );
    assert!(
        text.contains("# TYPE orchestore_http_request_duration_seconds histogram"),
        "{text}"
    );

    // Sampled at the scrape: the pool, and the queue of this database.
    at_least(
        &text,
        "orchestore_db_pool_connections",
        &[r#"state="in_use""#],
        0.0,
    );
    at_least(
        &text,
        "orchestore_db_pool_connections",
        &[r#"state="idle""#],
        0.0,
    );
    for (state, depth) in [("queued", 1.0), ("running", 0.0), ("blocked", 0.0)] {
        assert_eq!(
            sample(
                &text,
                "orchestore_queue_depth",
                &[&format!(r#"state="{state}""#)]
            ),
            Some(depth),
            "{state}:\n{text}"
        );
    }

    // The audit backlog, read with the depth: the project's row waits, unless the server's
    // sealer took it already; either way the oldest waiting row, or the scrape when none waits,
    // is no older than the project.
    at_least(&text, "orchestore_audit_unsealed_rows", &[], 0.0);
    let oldest = sample(
        &text,
        "orchestore_audit_oldest_unsealed_timestamp_seconds",
        &[],
    )
    .unwrap_or_else(|| panic!("no oldest unsealed timestamp in:\n{text}"));
    let waiting_since = before_waiting.timestamp_micros() as f64 / 1e6;
    let now = chrono::Utc::now().timestamp_micros() as f64 / 1e6;
    assert!(
        (waiting_since - 1.0..=now + 1.0).contains(&oldest),
        "{oldest} not within [{waiting_since}, {now}]"
    );
    at_least(&text, "orchestore_audit_sealed_rows_total", &[], 1.0);
    assert!(
        text.contains("# TYPE orchestore_audit_unsealed_rows gauge"),
        "{text}"
    );

    // Counted where they happen, in the store.
    at_least(&text, "orchestore_queue_claims_total", &[], 2.0);
    at_least(&text, "orchestore_queue_completions_total", &[], 1.0);
    at_least(
        &text,
        "orchestore_queue_failures_total",
        &[r#"outcome="dead""#],
        1.0,
    );
}

pub async fn a_token_guards_the_scrape_and_metrics_can_be_off(app: &TestApp) {
    let mut settings = test_settings();
    settings.metrics.token = Some(orchestore_server::Secret::new("scrape-secret"));
    let guarded = serve(Arc::clone(&app.store), settings).await;

    let anonymous = Reply::from(scrape(app, &guarded, None).await).await;
    anonymous.assert_problem(StatusCode::UNAUTHORIZED);
    let wrong = Reply::from(scrape(app, &guarded, Some("not-the-secret")).await).await;
    wrong.assert_problem(StatusCode::UNAUTHORIZED);
    let right = scrape(app, &guarded, Some("scrape-secret")).await;
    assert_eq!(right.status(), StatusCode::OK);
    assert!(
        right
            .text()
            .await
            .expect("body")
            .contains("orchestore_db_pool_connections")
    );
    let post = app
        .http
        .post(format!("{guarded}/metrics"))
        .bearer_auth("scrape-secret")
        .send()
        .await
        .expect("sent");
    Reply::from(post)
        .await
        .assert_problem(StatusCode::METHOD_NOT_ALLOWED);

    let mut settings = test_settings();
    settings.metrics.enabled = false;
    let off = serve(Arc::clone(&app.store), settings).await;
    Reply::from(scrape(app, &off, None).await)
        .await
        .assert_problem(StatusCode::NOT_FOUND);
}
