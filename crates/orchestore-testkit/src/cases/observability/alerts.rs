//! Alerts: raised once per condition while unresolved, counted under concurrency, and moved
//! from open to acknowledged to resolved by someone.

use orchestore_domain::{
    AlertId, AlertMessage, AlertSeverity, AlertStatus, Fingerprint, NewAlert, SourceName,
};
use orchestore_repo::{AlertFilter, Store};

use super::telemetry::{audit_rows, page};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found};

fn alert(severity: AlertSeverity, source: &str, message: &str) -> NewAlert {
    NewAlert::new(
        severity,
        SourceName::parse(source).expect("source"),
        AlertMessage::parse(message).expect("message"),
    )
}

pub async fn alerts_move_from_open_to_acknowledged_to_resolved<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let raised = store
        .raise_alert(ctx, alert(AlertSeverity::Critical, "db", "disk 95% full"))
        .await
        .expect("raise");
    assert!(raised.created);
    let id = raised.alert.id;
    assert_eq!(raised.alert.status, AlertStatus::Open);
    assert_eq!(raised.alert.occurrences, 1);
    assert_eq!(raised.alert.fingerprint.as_str(), "disk 95% full");
    assert_eq!(store.get_alert(ctx, id).await.expect("get"), raised.alert);
    assert_not_found(store.get_alert(&other.ctx, id).await, "alert");
    assert_not_found(store.acknowledge_alert(&other.ctx, id).await, "alert");
    assert_not_found(store.resolve_alert(ctx, AlertId::new()).await, "alert");

    let acknowledged = store.acknowledge_alert(ctx, id).await.expect("acknowledge");
    let owner = format!("user:{}", acme.owner.id);
    assert_eq!(acknowledged.status, AlertStatus::Acknowledged);
    assert_eq!(
        acknowledged.acknowledged_by.as_deref(),
        Some(owner.as_str())
    );
    assert!(acknowledged.acknowledged_at.is_some());
    assert_conflict(store.acknowledge_alert(ctx, id).await, None);

    let resolved = store.resolve_alert(ctx, id).await.expect("resolve");
    assert_eq!(resolved.status, AlertStatus::Resolved);
    assert_eq!(resolved.resolved_by.as_deref(), Some(owner.as_str()));
    assert_eq!(resolved.acknowledged_by, acknowledged.acknowledged_by);
    assert_conflict(store.resolve_alert(ctx, id).await, None);
    assert_conflict(store.acknowledge_alert(ctx, id).await, None);

    // Once resolved, the condition raised again is a new alert, which may be resolved at once.
    let again = store
        .raise_alert(ctx, alert(AlertSeverity::Critical, "db", "disk 95% full"))
        .await
        .expect("raise again");
    assert!(again.created);
    assert_ne!(again.alert.id, id);
    let closed = store
        .resolve_alert(ctx, again.alert.id)
        .await
        .expect("resolve from open");
    assert_eq!(closed.acknowledged_by, None);

    let actions: Vec<String> = audit_rows(store, ctx, "alert")
        .await
        .into_iter()
        .map(|row| row.action)
        .collect();
    assert_eq!(
        actions,
        [
            "alert.create",
            "alert.status.acknowledged",
            "alert.status.resolved",
            "alert.create",
            "alert.status.resolved"
        ]
    );
}

pub async fn a_raise_while_unresolved_is_counted_not_duplicated<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let first = store
        .raise_alert(
            ctx,
            alert(AlertSeverity::Warning, "api", "p95 latency over 1 s"),
        )
        .await
        .expect("raise");
    store
        .acknowledge_alert(ctx, first.alert.id)
        .await
        .expect("ack");
    // Same source and fingerprint (the message by default): counted, even when acknowledged,
    // and the new raise's severity is taken.
    let second = store
        .raise_alert(
            ctx,
            alert(AlertSeverity::Critical, "api", "p95 latency over 1 s"),
        )
        .await
        .expect("raise again");
    assert!(!second.created);
    assert_eq!(second.alert.id, first.alert.id);
    assert_eq!(second.alert.occurrences, 2);
    assert_eq!(second.alert.status, AlertStatus::Acknowledged);
    assert_eq!(second.alert.severity, AlertSeverity::Critical);
    assert!(second.alert.last_raised_at >= first.alert.last_raised_at);
    assert_eq!(second.alert.first_raised_at, first.alert.first_raised_at);
    // A fingerprint given names the condition whatever the message says.
    let keyed = |message: &str| NewAlert {
        fingerprint: Fingerprint::parse("api-latency").expect("fingerprint"),
        ..alert(AlertSeverity::Warning, "api", message)
    };
    let third = store
        .raise_alert(ctx, keyed("p95 at 1.2 s"))
        .await
        .expect("keyed");
    let fourth = store
        .raise_alert(ctx, keyed("p95 at 1.5 s"))
        .await
        .expect("keyed again");
    assert!(third.created && !fourth.created);
    assert_eq!(fourth.alert.id, third.alert.id);
    assert_eq!(fourth.alert.message.as_str(), "p95 at 1.5 s");
    // Another source, or another organization, is another alert.
    let elsewhere = store
        .raise_alert(
            ctx,
            alert(AlertSeverity::Info, "worker", "p95 latency over 1 s"),
        )
        .await
        .expect("other source");
    assert!(elsewhere.created);
    let theirs = store
        .raise_alert(
            &other.ctx,
            alert(AlertSeverity::Warning, "api", "p95 latency over 1 s"),
        )
        .await
        .expect("other organization");
    assert!(theirs.created);

    let listed = |filter: AlertFilter| async move {
        store
            .list_alerts(ctx, filter, page(50))
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(AlertFilter::default()).await,
        vec![elsewhere.alert.id, third.alert.id, first.alert.id],
        "newest first"
    );
    let open = AlertFilter {
        status: Some(AlertStatus::Open),
        ..AlertFilter::default()
    };
    assert_eq!(listed(open).await, vec![elsewhere.alert.id, third.alert.id]);
    let from_api = AlertFilter {
        source: Some(SourceName::parse("api").expect("source")),
        severity: Some(AlertSeverity::Critical),
        ..AlertFilter::default()
    };
    assert_eq!(listed(from_api).await, vec![first.alert.id]);
}

pub async fn concurrent_raises_count_on_one_alert<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let raise = async || {
        store
            .raise_alert(
                ctx,
                alert(AlertSeverity::Critical, "queue", "backlog over 10k"),
            )
            .await
            .expect("raise")
    };
    let raised = tokio::join!(
        raise(),
        raise(),
        raise(),
        raise(),
        raise(),
        raise(),
        raise(),
        raise()
    );
    let raised = [
        raised.0, raised.1, raised.2, raised.3, raised.4, raised.5, raised.6, raised.7,
    ];
    assert_eq!(raised.iter().filter(|r| r.created).count(), 1);
    let id = raised[0].alert.id;
    assert!(raised.iter().all(|r| r.alert.id == id));
    let mut counts: Vec<u64> = raised.iter().map(|r| r.alert.occurrences).collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=8).collect::<Vec<u64>>(),
        "each raise counted once"
    );
    let stored = store.get_alert(ctx, id).await.expect("get");
    assert_eq!(stored.occurrences, 8);
    let alerts = store
        .list_alerts(ctx, AlertFilter::default(), page(50))
        .await
        .expect("list");
    assert_eq!(alerts.items.len(), 1);
}
