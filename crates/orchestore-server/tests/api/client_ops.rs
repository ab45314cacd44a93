//! The operations resources through the typed client: `/api/v1/components` (and their
//! communications), `/api/v1/events`, `/api/v1/metrics`, `/api/v1/alerts` and
//! `/api/v1/analytics`.

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use orchestore_client::Client;
use orchestore_client::api::PatchField;
use orchestore_client::api::alerts::{ListAlertsQuery, RaiseAlertBody};
use orchestore_client::api::analytics::WindowQuery;
use orchestore_client::api::components::{
    CommunicationBatchBody, CommunicationBody, CreateComponentBody, HealthCheckBody,
    HealthHistoryQuery, ListCommunicationsQuery, ListComponentsQuery, PatchComponentBody,
};
use orchestore_client::api::events::{EventBatchBody, EventBody, ListEventsQuery};
use orchestore_client::api::metrics::{MetricQueryParams, SampleBatchBody, SampleBody};
use orchestore_domain::{
    AlertStatus, Bucket, Component, ComponentStatus, HealthStatus, Outcome, WorkflowId,
};

use crate::helpers::*;

fn at(instant: &str) -> DateTime<Utc> {
    instant.parse().expect("an RFC 3339 instant")
}

async fn register(client: &Client, name: &str) -> Component {
    client
        .create_component(&CreateComponentBody {
            name: name.into(),
            kind: "service".into(),
            ..Default::default()
        })
        .await
        .expect("registered")
}

pub async fn components_are_managed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let api = client
        .create_component(&CreateComponentBody {
            name: "api".into(),
            kind: "service".into(),
            version: Some("1.0.0".into()),
            endpoint: Some("http://api.internal".into()),
            ..Default::default()
        })
        .await
        .expect("registered");
    assert_eq!(api.status, ComponentStatus::Active);
    assert_eq!(client.get_component(api.id).await.expect("read"), api);
    let worker = register(&client, "worker").await;
    let every: Vec<_> = client
        .list_components_stream(&ListComponentsQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 2);

    let paused = client
        .update_component(
            api.id,
            &PatchComponentBody {
                status: PatchField::Value("maintenance".into()),
                endpoint: PatchField::Null,
                ..Default::default()
            },
            Some(api.revision),
        )
        .await
        .expect("changed");
    assert_eq!(paused.status, ComponentStatus::Maintenance);
    assert_eq!(paused.endpoint, None);
    assert_eq!(paused.version, api.version);
    let stale = client
        .update_component(api.id, &PatchComponentBody::default(), Some(api.revision))
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412));
    let in_maintenance = client
        .list_components(&ListComponentsQuery {
            status: Some("maintenance".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(in_maintenance.items, std::slice::from_ref(&paused));

    for (status, instant) in [
        ("healthy", "2020-01-01T10:00:00Z"),
        ("degraded", "2020-01-01T10:05:00Z"),
    ] {
        let check = client
            .record_health(
                api.id,
                &HealthCheckBody {
                    status: status.into(),
                    resources: Some([("cpu_percent".to_owned(), 12.5)].into()),
                    checked_at: Some(at(instant)),
                    ..Default::default()
                },
            )
            .await
            .expect("recorded");
        assert_eq!(check.component_id, api.id);
    }
    let history: Vec<_> = client
        .list_health_stream(
            api.id,
            &HealthHistoryQuery {
                limit: Some(1),
                ..Default::default()
            },
        )
        .try_collect()
        .await
        .expect("every page");
    let statuses: Vec<_> = history.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [HealthStatus::Degraded, HealthStatus::Healthy],
        "newest first"
    );
    let one_page = client
        .list_health(api.id, &HealthHistoryQuery::default())
        .await
        .expect("a page");
    assert_eq!(one_page.items, history);
    let latest = client
        .latest_health(&ListComponentsQuery::default())
        .await
        .expect("a page");
    let of_api = latest
        .items
        .iter()
        .find(|health| health.component.id == api.id)
        .expect("the api");
    assert_eq!(
        of_api.latest.as_ref().map(|c| c.status),
        Some(HealthStatus::Degraded)
    );
    let latest_every: Vec<_> = client
        .latest_health_stream(&ListComponentsQuery::default())
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(latest_every.len(), 2);

    let call = |outcome: &str| CommunicationBody {
        from_component_id: api.id,
        to_component_id: worker.id,
        kind: "http".into(),
        payload_bytes: 512,
        latency_ms: 12.0,
        outcome: outcome.into(),
        occurred_at: None,
    };
    let one = client
        .record_communication(&call("success"))
        .await
        .expect("recorded");
    assert_eq!(one.outcome, Outcome::Success);
    let batch = client
        .record_communications(&CommunicationBatchBody {
            communications: vec![call("success"), call("failure")],
        })
        .await
        .expect("recorded");
    assert_eq!(batch.recorded, 2);
    let failures = client
        .list_communications(&ListCommunicationsQuery {
            outcome: Some("failure".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(failures.items.len(), 1);
    assert_eq!(failures.items[0].id, batch.ids[1]);
    let to_worker: Vec<_> = client
        .list_communications_stream(&ListCommunicationsQuery {
            to_component_id: Some(worker.id),
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(to_worker.len(), 3);

    let err = client
        .create_component(&CreateComponentBody {
            name: "API".into(),
            kind: "service".into(),
            ..Default::default()
        })
        .await
        .expect_err("the name is taken, ignoring case");
    assert_eq!(err.status(), Some(409));
    assert!(err.problem().is_some_and(|p| !p.detail.is_empty()));
}

pub async fn events_are_recorded_and_listed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let deployed = client
        .record_event(&EventBody {
            kind: "deploy.finished".into(),
            source: "ci".into(),
            correlation_id: Some("run-7".into()),
            payload: Some(serde_json::json!({"version": "1.2.0"})),
            ..Default::default()
        })
        .await
        .expect("recorded");
    assert_eq!(deployed.kind.as_str(), "deploy.finished");
    assert_eq!(client.get_event(deployed.id).await.expect("read"), deployed);

    let batch = client
        .record_events(&EventBatchBody {
            events: (0..3)
                .map(|n| EventBody {
                    kind: "task.completed".into(),
                    source: "worker".into(),
                    occurred_at: Some(at(&format!("2020-01-01T10:00:0{n}Z"))),
                    ..Default::default()
                })
                .collect(),
        })
        .await
        .expect("recorded");
    assert_eq!(batch.recorded, 3);
    assert_eq!(batch.ids.len(), 3);

    let completed: Vec<_> = client
        .list_events_stream(&ListEventsQuery {
            kind: Some("task.completed".into()),
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    let mut listed: Vec<_> = completed.iter().map(|e| e.id).collect();
    listed.sort();
    let mut recorded = batch.ids.clone();
    recorded.sort();
    assert_eq!(listed, recorded);
    let of_run = client
        .list_events(&ListEventsQuery {
            correlation_id: Some("run-7".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(of_run.items, [deployed]);

    let err = client
        .record_events(&EventBatchBody {
            events: vec![
                EventBody {
                    kind: "ok".into(),
                    source: "worker".into(),
                    ..Default::default()
                },
                EventBody {
                    kind: " ".into(),
                    source: "worker".into(),
                    ..Default::default()
                },
            ],
        })
        .await
        .expect_err("a bad event");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("events[1].kind")
    );
}

pub async fn metrics_are_recorded_and_queried_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let api = register(&client, "api").await.id;
    let sample = |value: f64, instant: &str| SampleBody {
        component_id: api,
        name: "latency_ms".into(),
        value,
        unit: Some("ms".into()),
        tags: None,
        recorded_at: Some(at(instant)),
    };
    let batch = client
        .record_metrics(&SampleBatchBody {
            samples: vec![
                sample(10.0, "2020-01-01T10:00:00Z"),
                sample(30.0, "2020-01-01T10:00:30Z"),
            ],
        })
        .await
        .expect("recorded");
    assert_eq!(batch.recorded, 2);
    let one = client
        .record_metric(&sample(5.0, "2020-01-01T10:01:00Z"))
        .await
        .expect("recorded");
    assert_eq!(one.recorded, 1);

    let query = MetricQueryParams {
        component_id: api,
        name: "latency_ms".into(),
        since: at("2020-01-01T10:00:00Z"),
        until: at("2020-01-01T11:00:00Z"),
        bucket: Some("minute".into()),
    };
    let series = client.query_metrics(&query).await.expect("buckets");
    assert_eq!(series.bucket, Bucket::Minute);
    assert_eq!(series.name, "latency_ms");
    let counts: Vec<_> = series.buckets.iter().map(|b| b.count).collect();
    assert_eq!(counts, [2, 1]);
    assert_eq!(series.buckets[0].mean, 20.0);

    let err = client
        .query_metrics(&MetricQueryParams {
            until: query.since,
            ..query
        })
        .await
        .expect_err("an empty range");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("until")
    );
}

pub async fn alerts_are_raised_and_resolved_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let raise = RaiseAlertBody {
        severity: "critical".into(),
        source: "db".into(),
        message: "disk full".into(),
        ..Default::default()
    };
    let first = client.raise_alert(&raise).await.expect("raised");
    assert_eq!(first.status, AlertStatus::Open);
    assert_eq!(first.occurrences, 1);
    let again = client.raise_alert(&raise).await.expect("counted");
    assert_eq!(again.id, first.id, "the same fingerprint is the same alert");
    assert_eq!(again.occurrences, 2);
    client
        .raise_alert(&RaiseAlertBody {
            severity: "warning".into(),
            message: "disk at 80%".into(),
            ..raise.clone()
        })
        .await
        .expect("raised");

    let critical = client
        .list_alerts(&ListAlertsQuery {
            severity: Some("critical".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(critical.items, std::slice::from_ref(&again));
    let every: Vec<_> = client
        .list_alerts_stream(&ListAlertsQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 2);

    let acknowledged = client
        .acknowledge_alert(first.id)
        .await
        .expect("acknowledged");
    assert_eq!(acknowledged.status, AlertStatus::Acknowledged);
    assert!(acknowledged.acknowledged_by.is_some());
    let err = client
        .acknowledge_alert(first.id)
        .await
        .expect_err("not open");
    assert_eq!(err.status(), Some(409));
    let resolved = client.resolve_alert(first.id).await.expect("resolved");
    assert_eq!(resolved.status, AlertStatus::Resolved);
    assert_eq!(client.get_alert(first.id).await.expect("read"), resolved);

    let err = client
        .raise_alert(&RaiseAlertBody {
            severity: "dire".into(),
            ..raise
        })
        .await
        .expect_err("no such severity");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("severity")
    );
}

pub async fn analytics_report_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let window = WindowQuery::default();
    let workflows = client.workflow_analytics(&window).await.expect("a report");
    assert!(workflows.items.is_empty(), "nothing ran");
    let task_kinds = client.task_kind_analytics(&window).await.expect("a report");
    assert!(task_kinds.items.is_empty());
    let templates = client.template_analytics(&window).await.expect("a report");
    assert!(templates.items.is_empty());
    let token = app.admin_token().await;
    let workflow = app
        .post(
            &token,
            "/api/v1/workflows",
            serde_json::json!({"name": "Pipeline"}),
        )
        .await;
    let workflow: WorkflowId = workflow.body["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("an id");
    let week = WindowQuery {
        since: Some(at("2026-01-01T00:00:00Z")),
        until: Some(at("2026-01-08T00:00:00Z")),
    };
    let daily = client
        .workflow_daily(workflow, &week)
        .await
        .expect("a report");
    assert_eq!(daily.workflow_id, workflow);
    assert_eq!(daily.days.len(), 7, "every day of the window, runs or not");

    let err = client
        .task_kind_analytics(&WindowQuery {
            since: Some(at("2026-01-01T00:00:00Z")),
            until: Some(at("2026-06-01T00:00:00Z")),
        })
        .await
        .expect_err("more than 92 days");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("since")
    );
}
