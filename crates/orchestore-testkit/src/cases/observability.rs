//! The audit log.

use orchestore_domain::{Priority, TaskPatch, TaskStatus};
use orchestore_repo::{Actor, Ctx, Limit, PageRequest, Store};
use serde_json::json;

use super::{PASSWORD, task};
use crate::Fixture;

pub async fn mutations_write_audit_rows_in_their_transaction<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = Ctx::new(fixture.org.id, Actor::User(fixture.owner.id)).with_request_id("req-42");
    let project = fixture.project(store, "Apollo").await;
    let created = store
        .create_task(&ctx, task(project.id, "audited"))
        .await
        .expect("create");
    store
        .update_task(
            &ctx,
            created.id,
            TaskPatch {
                priority: Some(Priority::parse(9).expect("priority")),
                ..TaskPatch::default()
            },
        )
        .await
        .expect("update");
    // A refused mutation leaves no row.
    let refused = store
        .update_task(
            &ctx,
            created.id,
            TaskPatch {
                status: Some(TaskStatus::Succeeded),
                ..TaskPatch::default()
            },
        )
        .await;
    assert!(refused.is_err());

    let log = store
        .list_audit(
            &fixture.ctx,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit");
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "organization.create",
            "user.create",
            "project.create",
            "task.create",
            "task.update"
        ]
    );
    let update = &log.items[4];
    assert_eq!(update.actor, format!("user:{}", fixture.owner.id));
    assert_eq!(update.request_id.as_deref(), Some("req-42"));
    assert_eq!(update.entity_id, created.id.to_string());
    assert_eq!(update.changes, json!({"priority": {"from": 0, "to": 9}}));
    assert_eq!(log.items[0].actor, "system");
    // The owner's password hash never reaches the log.
    assert!(!log.items[1].changes.to_string().contains("$2"));

    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = store
        .list_audit(&other.ctx, PageRequest::default())
        .await
        .expect("audit other");
    assert!(
        theirs
            .items
            .iter()
            .all(|e| e.organization_id == other.org.id)
    );
}
