//! What the telemetry cases share: values, components and reads.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    Component, ComponentKind, EventKind, Measure, MetricName, MetricTags, Name, NewComponent,
    NewEvent, NewMetricSample, SourceName,
};
use orchestore_repo::{AuditEntry, AuditFilter, Ctx, Limit, ListSort, PageRequest, Store};

pub(crate) fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("a time")
}

pub(crate) fn page<S: ListSort>(limit: u64) -> PageRequest<S> {
    PageRequest::first(Limit::parse(limit).expect("limit"))
}

pub(crate) async fn component<S: Store + ?Sized>(store: &S, ctx: &Ctx, name: &str) -> Component {
    store
        .create_component(
            ctx,
            NewComponent::named(
                Name::parse("name", name).expect("name"),
                ComponentKind::parse("service").expect("kind"),
            ),
        )
        .await
        .expect("component")
}

pub(crate) fn event(kind: &str, source: &str) -> NewEvent {
    NewEvent::new(
        EventKind::parse(kind).expect("kind"),
        SourceName::parse(source).expect("source"),
    )
}

pub(crate) fn sample(
    component: &Component,
    name: &str,
    value: f64,
    recorded_at: DateTime<Utc>,
) -> NewMetricSample {
    NewMetricSample {
        component_id: component.id,
        name: MetricName::parse(name).expect("metric name"),
        value: Measure::parse("value", value).expect("value"),
        unit: None,
        tags: MetricTags::default(),
        recorded_at: Some(recorded_at),
    }
}

/// The organization's audit rows about `entity`.
pub(crate) async fn audit_rows<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    entity: &str,
) -> Vec<AuditEntry> {
    store
        .list_audit(
            ctx,
            AuditFilter {
                entity: Some(entity.to_owned()),
                ..AuditFilter::default()
            },
            page(200),
        )
        .await
        .expect("audit")
        .items
}
