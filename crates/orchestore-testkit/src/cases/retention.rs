//! Retention: policies set and read, and purges that delete exactly what is past its age.
//!
//! Rows are written now; a purge is run at a later `now`, so that what a policy's age makes
//! old is chosen by the ages, not by waiting.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    AgentKind, EventKind, LeaseDuration, MessageContent, Name, NewAgent, NewEvent, NewMessage,
    OrganizationId, PurgeBatch, Records, RetentionAge, RetentionRules, RetentionTarget, SourceName,
    TaskId, TaskPatch, TaskStatus,
};
use orchestore_repo::{
    AuditFilter, Ctx, EventFilter, PageRequest, RepoResult, RetentionReport, Store, TaskFilter,
};
use serde_json::json;

use super::{PASSWORD, task};
use crate::Fixture;

fn age(text: &str) -> RetentionAge {
    RetentionAge::parse("age", text).expect("an age")
}

fn batch(rows: u32) -> PurgeBatch {
    PurgeBatch::parse("batch", rows).expect("a batch size")
}

fn event(occurred_at: DateTime<Utc>) -> NewEvent {
    NewEvent {
        kind: EventKind::parse("deploy.done").expect("kind"),
        source: SourceName::parse("deployer").expect("source"),
        payload: NewEvent::payload(json!({})).expect("payload"),
        correlation_id: None,
        project_id: None,
        workflow_id: None,
        task_id: None,
        occurred_at: Some(occurred_at),
    }
}

async fn cancelled<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: TaskId) {
    store
        .update_task(
            ctx,
            id,
            TaskPatch {
                status: Some(TaskStatus::Cancelled),
                ..TaskPatch::default()
            },
            None,
        )
        .await
        .expect("cancel");
}

async fn task_ids<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<TaskId> {
    let mut ids: Vec<TaskId> = store
        .list_tasks(ctx, TaskFilter::default(), PageRequest::default())
        .await
        .expect("tasks")
        .items
        .into_iter()
        .map(|task| task.id)
        .collect();
    ids.sort();
    ids
}

async fn event_count<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> usize {
    store
        .list_events(ctx, EventFilter::default(), PageRequest::default())
        .await
        .expect("events")
        .items
        .len()
}

async fn actions<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<String> {
    store
        .list_audit(ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit")
        .items
        .into_iter()
        .map(|entry| entry.action)
        .collect()
}

fn counts(report: &RetentionReport) -> Vec<(RetentionTarget, u64)> {
    report
        .purged
        .iter()
        .map(|purged| (purged.target, purged.rows))
        .collect()
}

pub async fn retention_policies_are_set_read_and_audited<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;

    let unset = store.retention_policy(ctx).await.expect("policy");
    assert_eq!(unset.rules, RetentionRules::default());
    assert_eq!(unset.updated_at, None);
    assert!(
        store
            .organizations_with_retention_policy()
            .await
            .expect("organizations")
            .is_empty()
    );

    let rules = RetentionRules::default()
        .with(RetentionTarget::SucceededTasks, Some(age("30d")))
        .with(RetentionTarget::Events, Some(age("36h")));
    let set = store
        .set_retention_policy(ctx, rules, None)
        .await
        .expect("set");
    assert_eq!(set.rules, rules);
    let read = store.retention_policy(ctx).await.expect("policy");
    assert_eq!(read, set);
    assert_eq!(read.rules.age(RetentionTarget::AuditLogs), None);
    assert_eq!(
        store
            .retention_policy(&other.ctx)
            .await
            .expect("other")
            .rules,
        RetentionRules::default()
    );
    assert_eq!(
        store
            .organizations_with_retention_policy()
            .await
            .expect("organizations"),
        vec![acme.org.id]
    );
    let audited = store
        .list_audit(ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit")
        .items;
    let change = audited
        .iter()
        .find(|entry| entry.action == "retention_policy.update")
        .expect("the policy's audit row");
    assert_eq!(change.entity_id, acme.org.id.to_string());
    assert_eq!(change.changes["events"], json!({"from": null, "to": "36h"}));

    // Naming nothing keeps everything again, and the organization is no longer purged.
    store
        .set_retention_policy(ctx, RetentionRules::default(), None)
        .await
        .expect("cleared");
    assert!(
        store
            .organizations_with_retention_policy()
            .await
            .expect("organizations")
            .is_empty()
    );
}

pub async fn a_purge_deletes_exactly_what_is_past_its_age<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let other_project = other.project(store, "Zeus").await;
    let now = Utc::now();

    // Cancelled tasks: five, finished now.
    let mut old = Vec::new();
    for n in 0..5 {
        let created = store
            .create_task(ctx, task(project.id, &format!("old {n}")))
            .await
            .expect("task");
        cancelled(store, ctx, created.id).await;
        old.push(created.id);
    }
    // A failed-task age does not touch cancelled or queued tasks; a queued task is never due.
    let queued = store
        .create_task(ctx, task(project.id, "queued"))
        .await
        .expect("queued");
    // Another organization's cancelled task, with no policy there.
    let theirs = store
        .create_task(&other.ctx, task(other_project.id, "theirs"))
        .await
        .expect("theirs");
    cancelled(store, &other.ctx, theirs.id).await;
    // Events: three long ago, one an hour ago.
    let long_ago: Vec<NewEvent> = (0..3)
        .map(|n| event(now - Duration::days(3) - Duration::minutes(n)))
        .collect();
    store
        .record_events(ctx, Records::parse("events", long_ago).expect("batch"))
        .await
        .expect("events");
    store
        .record_events(ctx, Records::one(event(now - Duration::hours(1))))
        .await
        .expect("recent");

    store
        .set_retention_policy(
            ctx,
            RetentionRules::default()
                .with(RetentionTarget::CancelledTasks, Some(age("1h")))
                .with(RetentionTarget::FailedTasks, Some(age("1h")))
                .with(RetentionTarget::Events, Some(age("1d"))),
            None,
        )
        .await
        .expect("policy");

    // At `now`, nothing has been cancelled for an hour: only the old events are due.
    let at_now = store
        .purge_retention(ctx, now, batch(2), true)
        .await
        .expect("dry run now");
    assert_eq!(
        counts(&at_now),
        [
            (RetentionTarget::FailedTasks, 0),
            (RetentionTarget::CancelledTasks, 0),
            (RetentionTarget::Events, 3),
        ]
    );

    // Two hours on, the cancelled tasks are due too. A dry run counts and deletes nothing.
    let later = now + Duration::hours(2);
    let audit_before = actions(store, ctx).await;
    let dry = store
        .purge_retention(ctx, later, batch(2), true)
        .await
        .expect("dry run");
    assert!(dry.dry_run);
    assert_eq!(
        counts(&dry),
        [
            (RetentionTarget::FailedTasks, 0),
            (RetentionTarget::CancelledTasks, 5),
            (RetentionTarget::Events, 3),
        ]
    );
    assert_eq!(task_ids(store, ctx).await.len(), 6);
    assert_eq!(event_count(store, ctx).await, 4);
    assert_eq!(actions(store, ctx).await, audit_before);

    // The run deletes the same rows, two at a time, and records one audit row.
    let run = store
        .purge_retention(ctx, later, batch(2), false)
        .await
        .expect("purge");
    assert!(!run.dry_run);
    assert_eq!(counts(&run), counts(&dry));
    assert_eq!(task_ids(store, ctx).await, vec![queued.id]);
    assert_eq!(event_count(store, ctx).await, 1);
    for id in old {
        assert!(store.get_task(ctx, id).await.is_err(), "{id} was purged");
    }
    let audited = store
        .list_audit(ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("audit")
        .items;
    let purge: Vec<_> = audited
        .iter()
        .filter(|entry| entry.action == "retention_policy.purge")
        .collect();
    assert_eq!(purge.len(), 1, "{audited:?}");
    assert_eq!(
        purge[0].changes,
        json!({"deleted": {"failed_tasks": 0, "cancelled_tasks": 5, "events": 3}})
    );
    // The other organization kept its task.
    assert!(store.get_task(&other.ctx, theirs.id).await.is_ok());

    // Nothing is left to purge, and a purge that deletes nothing writes no audit row.
    let again = store
        .purge_retention(ctx, later, batch(2), false)
        .await
        .expect("again");
    assert_eq!(again.total(), 0);
    let purges = actions(store, ctx)
        .await
        .into_iter()
        .filter(|action| action == "retention_policy.purge")
        .count();
    assert_eq!(purges, 1);
}

pub async fn finished_tasks_that_live_work_refers_to_are_kept<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let agent = store
        .create_agent(
            ctx,
            NewAgent::named(Name::parse("name", "ada").expect("name"), AgentKind::Ai),
        )
        .await
        .expect("agent");

    // A parent with a subtask still queued.
    let parent = store
        .create_task(ctx, task(project.id, "parent"))
        .await
        .expect("parent");
    let mut subtask = task(project.id, "subtask");
    subtask.parent_id = Some(parent.id);
    let subtask = store.create_task(ctx, subtask).await.expect("subtask");
    cancelled(store, ctx, parent.id).await;
    // A task a message refers to.
    let discussed = store
        .create_task(ctx, task(project.id, "discussed"))
        .await
        .expect("discussed");
    cancelled(store, ctx, discussed.id).await;
    store
        .send_message(
            ctx,
            NewMessage::new(
                acme.owner.id.into(),
                agent.id.into(),
                MessageContent::parse("about that task").expect("content"),
            )
            .expect("message")
            .with_task(Some(discussed.id)),
        )
        .await
        .expect("message");
    // A task nothing refers to.
    let alone = store
        .create_task(ctx, task(project.id, "alone"))
        .await
        .expect("alone");
    cancelled(store, ctx, alone.id).await;

    store
        .set_retention_policy(
            ctx,
            RetentionRules::default().with(RetentionTarget::CancelledTasks, Some(age("1h"))),
            None,
        )
        .await
        .expect("policy");
    let later = Utc::now() + Duration::hours(2);
    let dry = store
        .purge_retention(ctx, later, PurgeBatch::default(), true)
        .await
        .expect("dry run");
    let run = store
        .purge_retention(ctx, later, PurgeBatch::default(), false)
        .await
        .expect("purge");
    assert_eq!(dry.rows(RetentionTarget::CancelledTasks), 1);
    assert_eq!(run.rows(RetentionTarget::CancelledTasks), 1);
    let mut kept = vec![parent.id, subtask.id, discussed.id];
    kept.sort();
    assert_eq!(task_ids(store, ctx).await, kept);

    // Once the subtask is done and past its age too, the run takes the subtask and then its
    // parent.
    cancelled(store, ctx, subtask.id).await;
    let run = store
        .purge_retention(ctx, later, batch(1), false)
        .await
        .expect("purge");
    assert_eq!(run.rows(RetentionTarget::CancelledTasks), 2);
    assert_eq!(task_ids(store, ctx).await, vec![discussed.id]);
}

/// A succeeded task an agent ran, with the reliability event its outcome gave the agent, is
/// purged like any other: the event stays, no longer tied to the task, and the agent's
/// reputation does not change.
pub async fn reputation_outlives_the_tasks_it_came_from<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let project = acme.project(store, "Apollo").await;
    let ada = store
        .create_agent(
            ctx,
            NewAgent::named(Name::parse("name", "ada").expect("name"), AgentKind::Ai),
        )
        .await
        .expect("agent");
    let shipped = store
        .create_task(ctx, task(project.id, "shipped"))
        .await
        .expect("task");
    let lease = store
        .claim_task(ctx, shipped.id, ada.id, LeaseDuration::default())
        .await
        .expect("claim")
        .lease_token;
    store
        .complete_task(ctx, shipped.id, lease, None)
        .await
        .expect("complete");
    store
        .record_task_outcome(ctx, ada.id, shipped.id, true)
        .await
        .expect("outcome");
    let later = Utc::now() + Duration::hours(2);
    let before = store
        .get_reputation(ctx, ada.id, later)
        .await
        .expect("reputation");

    store
        .set_retention_policy(
            ctx,
            RetentionRules::default().with(RetentionTarget::SucceededTasks, Some(age("1h"))),
            None,
        )
        .await
        .expect("policy");
    let run = store
        .purge_retention(ctx, later, PurgeBatch::default(), false)
        .await
        .expect("purge");
    assert_eq!(run.rows(RetentionTarget::SucceededTasks), 1);
    assert!(task_ids(store, ctx).await.is_empty());
    let events = store
        .list_reputation_events(ctx, ada.id, PageRequest::default())
        .await
        .expect("events")
        .items;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].task_id, None);
    let after = store
        .get_reputation(ctx, ada.id, later)
        .await
        .expect("reputation");
    assert_eq!(format!("{after:?}"), format!("{before:?}"));
}

async fn chain_is_intact<S: Store + ?Sized>(store: &S, org: OrganizationId) -> RepoResult<u64> {
    let report = store.verify_audit(&Ctx::system(org)).await?;
    assert!(report.is_intact(), "{report:?}");
    Ok(report.verified)
}

pub async fn purging_audit_rows_keeps_the_chain_verifiable<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let system = Ctx::system(acme.org.id);
    let project = acme.project(store, "Apollo").await;
    for n in 0..3 {
        store
            .create_task(ctx, task(project.id, &format!("t{n}")))
            .await
            .expect("task");
    }
    let sealed = store.seal_audit(&system, u32::MAX).await.expect("seal");
    let head = sealed.head.expect("a head");
    // The policy's own row is written after the seal: it stays unsealed, so it stays.
    store
        .set_retention_policy(
            ctx,
            RetentionRules::default().with(RetentionTarget::AuditLogs, Some(age("1h"))),
            None,
        )
        .await
        .expect("policy");
    let later = Utc::now() + Duration::hours(2);

    let dry = store
        .purge_retention(ctx, later, batch(2), true)
        .await
        .expect("dry run");
    assert_eq!(dry.rows(RetentionTarget::AuditLogs), head.seq);
    let run = store
        .purge_retention(ctx, later, batch(2), false)
        .await
        .expect("purge");
    assert_eq!(run.rows(RetentionTarget::AuditLogs), head.seq);
    // Left: the policy's row and the purge's own, neither sealed.
    assert_eq!(
        actions(store, ctx).await,
        ["retention_policy.update", "retention_policy.purge"]
    );
    assert_eq!(
        chain_is_intact(store, acme.org.id).await.expect("verify"),
        0
    );

    // The chain goes on from its head, and verifies from the first row kept.
    let resealed = store.seal_audit(&system, u32::MAX).await.expect("seal");
    assert_eq!(resealed.sealed, 2);
    assert_eq!(resealed.head.expect("head").seq, head.seq + 2);
    assert_eq!(
        chain_is_intact(store, acme.org.id).await.expect("verify"),
        2
    );

    // A purge at a time the kept rows are not old enough for deletes none of them.
    let now = store
        .purge_retention(ctx, Utc::now(), batch(2), false)
        .await
        .expect("purge now");
    assert_eq!(now.total(), 0);
    assert_eq!(
        chain_is_intact(store, acme.org.id).await.expect("verify"),
        2
    );
}
