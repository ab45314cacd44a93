//! `/api/v1/alerts`, and what an agent's key reports.

use reqwest::StatusCode;
use serde_json::json;

use crate::components::create_component;
use crate::helpers::*;

pub async fn alert_lifecycle(app: &TestApp) {
    let token = app.admin_token().await;
    let me = app.get(&token, "/api/v1/me").await;
    let actor = format!("user:{}", me.body["user"]["id"].as_str().expect("id"));
    let raise = json!({"severity": "critical", "source": "db", "message": "disk 95% full"});
    let raised = app.post(&token, "/api/v1/alerts", raise.clone()).await;
    assert_eq!(raised.status, StatusCode::CREATED, "{}", raised.body);
    let id = raised.body["id"].as_str().expect("id").to_owned();
    assert_eq!(raised.header("location"), format!("/api/v1/alerts/{id}"));
    assert_eq!(raised.body["occurrences"], 1);
    let again = app.post(&token, "/api/v1/alerts", raise.clone()).await;
    assert_eq!(again.status, StatusCode::OK, "counted: {}", again.body);
    assert_eq!(again.body["id"], id.as_str());
    assert_eq!(again.body["occurrences"], 2);

    let acked = app
        .post(
            &token,
            &format!("/api/v1/alerts/{id}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(acked.status, StatusCode::OK, "{}", acked.body);
    assert_eq!(acked.body["status"], "acknowledged");
    assert_eq!(acked.body["acknowledged_by"], actor.as_str());
    let twice = app
        .post(
            &token,
            &format!("/api/v1/alerts/{id}/acknowledge"),
            json!({}),
        )
        .await;
    twice.assert_problem(StatusCode::CONFLICT);
    let resolved = app
        .post(&token, &format!("/api/v1/alerts/{id}/resolve"), json!({}))
        .await;
    assert_eq!(resolved.body["status"], "resolved");
    assert_eq!(resolved.body["resolved_by"], actor.as_str());
    app.post(&token, &format!("/api/v1/alerts/{id}/resolve"), json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT);
    let new = app.post(&token, "/api/v1/alerts", raise).await;
    assert_eq!(new.status, StatusCode::CREATED, "a new alert once resolved");

    let open = app.get(&token, "/api/v1/alerts?status=open").await;
    assert_eq!(
        ids(&open.body["items"]),
        [new.body["id"].as_str().expect("id")]
    );
    let all = app
        .get(&token, "/api/v1/alerts?source=db&sort=first_raised_at")
        .await;
    assert_eq!(
        ids(&all.body["items"]),
        [id.as_str(), new.body["id"].as_str().expect("id")]
    );
    let got = app.get(&token, &format!("/api/v1/alerts/{id}")).await;
    assert_eq!(got.body, resolved.body);

    let bad = app
        .post(
            &token,
            "/api/v1/alerts",
            json!({"severity": "urgent", "source": "d b", "message": ""}),
        )
        .await;
    bad.assert_problem(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["message", "severity", "source"]);
}

pub async fn an_agents_key_reports_but_does_not_register(app: &TestApp) {
    let token = app.admin_token().await;
    let api = create_component(app, &token, "api").await;
    let agent = app
        .post(
            &token,
            "/api/v1/agents",
            json!({"name": "reporter", "kind": "bot"}),
        )
        .await;
    let agent_id = agent.body["id"].as_str().expect("agent id");
    let issued = app
        .post(
            &token,
            &format!("/api/v1/agents/{agent_id}/api-keys"),
            json!({"name": "host"}),
        )
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let key = issued.body["secret"].as_str().expect("secret");

    let reported = [
        app.post(
            key,
            "/api/v1/events",
            json!({"kind": "k", "source": "reporter"}),
        )
        .await,
        app.post(
            key,
            "/api/v1/metrics",
            json!({"component_id": api, "name": "rps", "value": 3}),
        )
        .await,
        app.post(
            key,
            &format!("/api/v1/components/{api}/health"),
            json!({"status": "healthy"}),
        )
        .await,
        app.post(
            key,
            "/api/v1/alerts",
            json!({"severity": "warning", "source": "reporter", "message": "slow"}),
        )
        .await,
    ];
    for reply in &reported {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    let register = app
        .post(
            key,
            "/api/v1/components",
            json!({"name": "mine", "kind": "bot"}),
        )
        .await;
    register.assert_problem(StatusCode::FORBIDDEN);
    let read_events = app.get(key, "/api/v1/events").await;
    read_events.assert_problem(StatusCode::FORBIDDEN);
}
