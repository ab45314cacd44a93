//! Telemetry: events, components with their traffic and health, metric samples, alerts.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    AlertMessage, AlertSeverity, Bucket, Communication, CommunicationKind, Component,
    ComponentKind, ComponentPatch, Event, EventKind, HealthStatus, Measure, MetricName,
    MetricQuery, MetricTags, NewAlert, NewCommunication, NewComponent, NewEvent, NewHealthCheck,
    NewMetricSample, Outcome, Raised, Records, SourceName,
};
use orchestore_repo::{CommunicationFilter, ComponentFilter, Ctx, EventFilter, HealthFilter};

use super::*;

/// One of each telemetry record: a component talking to another, with a health check and a
/// metric sample (read back through the component); an event about the organization's project and task; an open alert.
pub(super) struct Telemetry {
    pub(super) component: Component,
    pub(super) peer: Component,
    pub(super) event: Event,
    pub(super) communication: Communication,
    pub(super) alert: Raised,
}

const SAMPLED_AT: &str = "2020-01-01T10:00:00Z";

fn sampled_at() -> DateTime<Utc> {
    SAMPLED_AT.parse().expect("a time")
}

fn new_component(text: &str) -> NewComponent {
    NewComponent::named(name(text), ComponentKind::parse("service").expect("kind"))
}

fn new_event(project: &Project, task: &Task) -> NewEvent {
    NewEvent {
        project_id: Some(project.id),
        task_id: Some(task.id),
        ..NewEvent::new(
            EventKind::parse("task.claimed").expect("kind"),
            SourceName::parse("scheduler").expect("source"),
        )
    }
}

fn new_call(from: &Component, to: &Component) -> NewCommunication {
    NewCommunication {
        from_component_id: from.id,
        to_component_id: to.id,
        kind: CommunicationKind::parse("http.get").expect("kind"),
        payload_bytes: 64,
        latency_ms: Measure::parse_non_negative("latency_ms", 3.0).expect("latency"),
        outcome: Outcome::Success,
        occurred_at: None,
    }
}

fn new_sample(component: &Component) -> NewMetricSample {
    NewMetricSample {
        component_id: component.id,
        name: MetricName::parse("latency_ms").expect("name"),
        value: Measure::parse("value", 42.0).expect("value"),
        unit: None,
        tags: MetricTags::default(),
        recorded_at: Some(sampled_at()),
    }
}

fn metric_query(component: &Component) -> MetricQuery {
    MetricQuery::new(
        component.id,
        MetricName::parse("latency_ms").expect("name"),
        sampled_at(),
        sampled_at() + Duration::hours(1),
        Bucket::Minute,
    )
    .expect("query")
}

fn new_alert() -> NewAlert {
    NewAlert::new(
        AlertSeverity::Critical,
        SourceName::parse("db").expect("source"),
        AlertMessage::parse("replica lag over 10 s").expect("message"),
    )
}

impl Telemetry {
    pub(super) async fn create<S: Store + ?Sized>(
        store: &S,
        ctx: &Ctx,
        project: &Project,
        task: &Task,
    ) -> Self {
        let component = store
            .create_component(ctx, new_component("api"))
            .await
            .expect("component");
        let peer = store
            .create_component(ctx, new_component("db"))
            .await
            .expect("peer");
        let event = store
            .record_events(ctx, Records::one(new_event(project, task)))
            .await
            .expect("event")
            .remove(0);
        let communication = store
            .record_communications(ctx, Records::one(new_call(&component, &peer)))
            .await
            .expect("communication")
            .remove(0);
        store
            .record_health(
                ctx,
                component.id,
                NewHealthCheck::new(HealthStatus::Degraded),
            )
            .await
            .expect("health");
        store
            .record_metrics(ctx, Records::one(new_sample(&component)))
            .await
            .expect("sample");
        let alert = store.raise_alert(ctx, new_alert()).await.expect("alert");
        Self {
            component,
            peer,
            event,
            communication,
            alert,
        }
    }
}

/// What the organization reads of its telemetry.
pub(super) async fn telemetry_view<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    t: &Telemetry,
) -> Vec<String> {
    let involving = CommunicationFilter {
        component_id: Some(t.component.id),
        ..CommunicationFilter::default()
    };
    vec![
        format!(
            "{:?}",
            store.list_events(ctx, EventFilter::default(), all()).await
        ),
        format!("{:?}", store.get_event(ctx, t.event.id).await),
        format!(
            "{:?}",
            store
                .list_components(ctx, ComponentFilter::default(), all())
                .await
        ),
        format!("{:?}", store.get_component(ctx, t.component.id).await),
        format!(
            "{:?}",
            store.list_communications(ctx, involving, all()).await
        ),
        format!(
            "{:?}",
            store
                .list_health(ctx, t.component.id, HealthFilter::default(), all())
                .await
        ),
        format!(
            "{:?}",
            store
                .latest_health(ctx, ComponentFilter::default(), all())
                .await
        ),
        format!(
            "{:?}",
            store.query_metrics(ctx, metric_query(&t.component)).await
        ),
        format!(
            "{:?}",
            store.list_alerts(ctx, Default::default(), all()).await
        ),
        format!("{:?}", store.get_alert(ctx, t.alert.alert.id).await),
    ]
}

pub(super) async fn check_telemetry<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    let (at, bt) = (&a.telemetry, &b.telemetry);
    c.reference_in_batch(
        "record_events",
        "project_id",
        store
            .record_events(ctx, Records::one(new_event(&a.project, &b.task)))
            .await,
    );
    c.reference_in_batch(
        "record_events",
        "task_id",
        store
            .record_events(ctx, Records::one(new_event(&b.project, &a.task)))
            .await,
    );
    c.not_found("get_event", store.get_event(ctx, at.event.id).await);
    c.clean(
        "list_events",
        store.list_events(ctx, EventFilter::default(), all()).await,
    );

    // A's component's name is free in B.
    c.clean(
        "create_component",
        store.create_component(ctx, new_component("api-copy")).await,
    );
    c.not_found(
        "get_component",
        store.get_component(ctx, at.component.id).await,
    );
    c.clean(
        "list_components",
        store
            .list_components(ctx, ComponentFilter::default(), all())
            .await,
    );
    c.not_found(
        "update_component",
        store
            .update_component(ctx, at.component.id, ComponentPatch::default(), None)
            .await,
    );
    c.reference_in_batch(
        "record_communications",
        "from_component_id",
        store
            .record_communications(ctx, Records::one(new_call(&at.component, &bt.peer)))
            .await,
    );
    c.reference_in_batch(
        "record_communications",
        "to_component_id",
        store
            .record_communications(ctx, Records::one(new_call(&bt.component, &at.peer)))
            .await,
    );
    let with_a = CommunicationFilter {
        component_id: Some(at.component.id),
        from_component_id: Some(at.communication.from_component_id),
        ..CommunicationFilter::default()
    };
    c.clean(
        "list_communications",
        store.list_communications(ctx, with_a, all()).await,
    );
    c.not_found(
        "record_health",
        store
            .record_health(
                ctx,
                at.component.id,
                NewHealthCheck::new(HealthStatus::Down),
            )
            .await,
    );
    c.not_found(
        "list_health",
        store
            .list_health(ctx, at.component.id, HealthFilter::default(), all())
            .await,
    );
    c.clean(
        "latest_health",
        store
            .latest_health(ctx, ComponentFilter::default(), all())
            .await,
    );
    c.reference_in_batch(
        "record_metrics",
        "component_id",
        store
            .record_metrics(ctx, Records::one(new_sample(&at.component)))
            .await,
    );
    c.not_found(
        "query_metrics",
        store.query_metrics(ctx, metric_query(&at.component)).await,
    );

    // The same source and fingerprint as A's open alert: B's own alert, counted on B's.
    c.clean("raise_alert", store.raise_alert(ctx, new_alert()).await);
    c.not_found("get_alert", store.get_alert(ctx, at.alert.alert.id).await);
    c.clean(
        "list_alerts",
        store.list_alerts(ctx, Default::default(), all()).await,
    );
    c.not_found(
        "acknowledge_alert",
        store.acknowledge_alert(ctx, at.alert.alert.id).await,
    );
    c.not_found(
        "resolve_alert",
        store.resolve_alert(ctx, at.alert.alert.id).await,
    );
}
