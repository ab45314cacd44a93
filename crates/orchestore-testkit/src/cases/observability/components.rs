//! The component registry, the communications between components, and their health.

use chrono::Duration;
use orchestore_domain::{
    CommunicationKind, ComponentId, ComponentKind, ComponentPatch, ComponentStatus,
    ComponentVersion, Endpoint, HealthStatus, Measure, Metadata, Name, NewCommunication,
    NewComponent, NewHealthCheck, Outcome, Records, ResourceUse,
};
use orchestore_repo::{
    CommunicationFilter, ComponentFilter, ComponentSort, HealthFilter, HealthSort, RepoError, Store,
};
use serde_json::json;

use super::telemetry::{at, audit_rows, component, page};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found};

pub async fn components_are_registered_listed_and_changed<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let api = store
        .create_component(
            ctx,
            NewComponent {
                version: Some(ComponentVersion::parse("1.4.2").expect("version")),
                endpoint: Some(Endpoint::parse("http://10.0.0.7:8080").expect("endpoint")),
                metadata: Metadata::parse("metadata", json!({"region": "eu"})).expect("meta"),
                ..NewComponent::named(
                    Name::parse("name", "API").expect("name"),
                    ComponentKind::parse("api").expect("kind"),
                )
            },
        )
        .await
        .expect("create");
    assert_eq!(api.status, ComponentStatus::Active);
    assert_eq!(store.get_component(ctx, api.id).await.expect("get"), api);
    assert_not_found(store.get_component(&other.ctx, api.id).await, "component");
    // Names compare ignoring case, within the organization only.
    assert_conflict(
        store
            .create_component(
                ctx,
                NewComponent::named(
                    Name::parse("name", "api").expect("name"),
                    ComponentKind::parse("api").expect("kind"),
                ),
            )
            .await,
        Some("name"),
    );
    component(store, &other.ctx, "API").await;
    let worker = component(store, ctx, "Worker").await;
    let billing = component(store, ctx, "billing").await;

    let names = |filter: ComponentFilter, sort: ComponentSort| async move {
        store
            .list_components(ctx, filter, page(50).sorted(sort))
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|c| c.name.into_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(ComponentFilter::default(), ComponentSort::Name).await,
        ["API", "Worker", "billing"],
        "byte order"
    );
    assert_eq!(
        names(ComponentFilter::default(), ComponentSort::CreatedAt).await,
        ["API", "Worker", "billing"]
    );
    let services = ComponentFilter {
        kind: Some(ComponentKind::parse("service").expect("kind")),
        ..ComponentFilter::default()
    };
    assert_eq!(
        names(services, ComponentSort::Name).await,
        ["Worker", "billing"]
    );

    let retired = store
        .update_component(
            ctx,
            billing.id,
            ComponentPatch {
                status: Some(ComponentStatus::Retired),
                endpoint: Some(None),
                version: Some(Some(ComponentVersion::parse("2").expect("version"))),
                ..ComponentPatch::default()
            },
            None,
        )
        .await
        .expect("retire");
    assert_eq!(retired.status, ComponentStatus::Retired);
    assert_eq!(retired.version.map(|v| v.to_string()), Some("2".to_owned()));
    let only_retired = ComponentFilter {
        status: Some(ComponentStatus::Retired),
        ..ComponentFilter::default()
    };
    assert_eq!(names(only_retired, ComponentSort::Name).await, ["billing"]);
    assert_conflict(
        store
            .update_component(
                ctx,
                worker.id,
                ComponentPatch {
                    name: Some(Name::parse("name", "BILLING").expect("name")),
                    ..ComponentPatch::default()
                },
                None,
            )
            .await,
        Some("name"),
    );
    assert_not_found(
        store
            .update_component(&other.ctx, worker.id, ComponentPatch::default(), None)
            .await,
        "component",
    );
    // An empty patch changes nothing and writes no audit row.
    let unchanged = store
        .update_component(ctx, worker.id, ComponentPatch::default(), None)
        .await
        .expect("no change");
    assert_eq!(unchanged, worker);
    let actions: Vec<String> = audit_rows(store, ctx, "component")
        .await
        .into_iter()
        .map(|row| row.action)
        .collect();
    assert_eq!(
        actions,
        [
            "component.create",
            "component.create",
            "component.create",
            "component.update"
        ]
    );
}

fn call(from: ComponentId, to: ComponentId, minute: u32, outcome: Outcome) -> NewCommunication {
    NewCommunication {
        from_component_id: from,
        to_component_id: to,
        kind: CommunicationKind::parse("http.post").expect("kind"),
        payload_bytes: 512,
        latency_ms: Measure::parse_non_negative("latency_ms", 12.5).expect("latency"),
        outcome,
        occurred_at: Some(at(&format!("2020-01-01T10:{minute:02}:00Z"))),
    }
}

pub async fn communications_are_queried_by_component_and_time_range<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let (api, worker, db) = (
        component(store, ctx, "api").await,
        component(store, ctx, "worker").await,
        component(store, ctx, "db").await,
    );
    let recorded = store
        .record_communications(
            ctx,
            Records::parse(
                "communications",
                vec![
                    call(api.id, worker.id, 1, Outcome::Success),
                    call(worker.id, db.id, 2, Outcome::Success),
                    call(api.id, db.id, 3, Outcome::Timeout),
                    call(worker.id, api.id, 4, Outcome::Failure),
                ],
            )
            .expect("batch"),
        )
        .await
        .expect("record");
    assert_eq!(recorded[0].latency_ms, 12.5);
    assert_eq!(recorded[0].payload_bytes, 512);
    let [first, second, third, fourth] = [0, 1, 2, 3].map(|i| recorded[i].id);
    let ids = |filter: CommunicationFilter| async move {
        store
            .list_communications(ctx, filter, page(50))
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    let involving = |id| CommunicationFilter {
        component_id: Some(id),
        ..CommunicationFilter::default()
    };
    assert_eq!(ids(involving(api.id)).await, vec![fourth, third, first]);
    assert_eq!(ids(involving(db.id)).await, vec![third, second]);
    let from_worker = CommunicationFilter {
        from_component_id: Some(worker.id),
        ..CommunicationFilter::default()
    };
    assert_eq!(ids(from_worker).await, vec![fourth, second]);
    let to_db_in_range = CommunicationFilter {
        to_component_id: Some(db.id),
        since: Some(at("2020-01-01T10:02:30Z")),
        until: Some(at("2020-01-01T10:04:00Z")),
        ..CommunicationFilter::default()
    };
    assert_eq!(ids(to_db_in_range).await, vec![third]);
    let api_in_range = CommunicationFilter {
        since: Some(at("2020-01-01T10:03:00Z")),
        ..involving(api.id)
    };
    assert_eq!(ids(api_in_range).await, vec![fourth, third]);
    let timeouts = CommunicationFilter {
        outcome: Some(Outcome::Timeout),
        ..CommunicationFilter::default()
    };
    assert_eq!(ids(timeouts).await, vec![third]);

    // A batch naming a component the organization lacks is refused whole, at that record.
    let theirs = component(store, &other.ctx, "theirs").await;
    let refused = store
        .record_communications(
            ctx,
            Records::parse(
                "communications",
                vec![
                    call(api.id, worker.id, 5, Outcome::Success),
                    call(api.id, theirs.id, 5, Outcome::Success),
                ],
            )
            .expect("batch"),
        )
        .await;
    match refused {
        Err(RepoError::InBatch { index: 1, error }) => assert!(
            matches!(
                *error,
                RepoError::Reference {
                    field: "to_component_id",
                    ..
                }
            ),
            "{error:?}"
        ),
        other => panic!("expected a reference error on communications[1], got {other:?}"),
    }
    assert_eq!(ids(CommunicationFilter::default()).await.len(), 4);
    assert!(
        store
            .list_communications(&other.ctx, involving(api.id), page(50))
            .await
            .expect("other's list")
            .items
            .is_empty()
    );
}

pub async fn health_keeps_its_history_and_the_latest_state<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let api = component(store, ctx, "api").await;
    let worker = component(store, ctx, "worker").await;
    let unchecked = component(store, ctx, "zeta").await;
    let base = at("2020-01-01T10:00:00Z");
    let check = |status, minutes: i64| NewHealthCheck {
        checked_at: Some(base + Duration::minutes(minutes)),
        resources: ResourceUse::parse([("cpu_percent".to_owned(), 10.0 * minutes as f64)].into())
            .expect("resources"),
        details: Metadata::parse("details", json!({"minute": minutes})).expect("details"),
        ..NewHealthCheck::new(status)
    };
    // Recorded out of order: the latest is the one checked last, not the one recorded last.
    let mut api_checks = Vec::new();
    for (status, minutes) in [
        (HealthStatus::Healthy, 1),
        (HealthStatus::Down, 3),
        (HealthStatus::Degraded, 2),
    ] {
        api_checks.push(
            store
                .record_health(ctx, api.id, check(status, minutes))
                .await
                .expect("record"),
        );
    }
    store
        .record_health(ctx, worker.id, check(HealthStatus::Healthy, 5))
        .await
        .expect("record");
    assert_not_found(
        store
            .record_health(&other.ctx, api.id, check(HealthStatus::Down, 9))
            .await,
        "component",
    );

    let history = store
        .list_health(ctx, api.id, HealthFilter::default(), page(50))
        .await
        .expect("history");
    let statuses: Vec<HealthStatus> = history.items.iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            HealthStatus::Down,
            HealthStatus::Degraded,
            HealthStatus::Healthy
        ],
        "newest check first"
    );
    assert_eq!(history.items[0].resources.get("cpu_percent"), Some(30.0));
    let oldest_first = store
        .list_health(
            ctx,
            api.id,
            HealthFilter {
                since: Some(base + Duration::minutes(2)),
                until: None,
            },
            page(50).sorted(HealthSort::CheckedAt),
        )
        .await
        .expect("range");
    let statuses: Vec<HealthStatus> = oldest_first.items.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [HealthStatus::Degraded, HealthStatus::Down]);

    let latest = store
        .latest_health(ctx, ComponentFilter::default(), page(50))
        .await
        .expect("latest");
    let summary: Vec<(String, Option<HealthStatus>)> = latest
        .items
        .iter()
        .map(|c| {
            (
                c.component.name.as_str().to_owned(),
                c.latest.as_ref().map(|l| l.status),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("api".to_owned(), Some(HealthStatus::Down)),
            ("worker".to_owned(), Some(HealthStatus::Healthy)),
            ("zeta".to_owned(), None),
        ]
    );
    assert_eq!(latest.items[0].latest.as_ref(), Some(&api_checks[1]));
    assert_eq!(latest.items[2].component.id, unchecked.id);
    // Two pages of the latest states hold each component once.
    let first = store
        .latest_health(ctx, ComponentFilter::default(), page(2))
        .await
        .expect("first page");
    let rest = store
        .latest_health(
            ctx,
            ComponentFilter::default(),
            page(2).next(first.next_cursor.clone()),
        )
        .await
        .expect("second page");
    assert_eq!(first.items.len(), 2);
    assert_eq!(rest.items.len(), 1);
    assert_eq!(rest.items[0].component.id, unchecked.id);

    assert_not_found(
        store
            .list_health(&other.ctx, api.id, HealthFilter::default(), page(50))
            .await,
        "component",
    );
    assert!(
        store
            .latest_health(&other.ctx, ComponentFilter::default(), page(50))
            .await
            .expect("other's latest")
            .items
            .is_empty()
    );
    assert!(audit_rows(store, ctx, "component_health").await.is_empty());
}
