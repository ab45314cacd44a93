//! The audit log: what each row records, the secrets kept out of it, its filters, and the hash
//! chain — sealed once per row whatever runs at once, and broken, at the right row, by each
//! way of changing the database behind the store's back. The telemetry beside it: events in
//! [`events`], components with their traffic and health in [`components`], metric samples in
//! [`metrics`], alerts in [`alerts`].

mod alerts;
mod components;
mod events;
mod metrics;
mod telemetry;

pub use alerts::*;
pub use components::*;
pub use events::*;
pub use metrics::*;

use std::net::IpAddr;

use chrono::{Duration, Utc};
use orchestore_domain::{
    AgentKind, AgentPatch, Metadata, Name, NewAgent, OrganizationId, Priority, SessionId,
    TaskPatch, TaskStatus,
};
use orchestore_repo::{
    Actor, AuditBacklog, AuditEntry, AuditFilter, AuditSort, ChainBreak, ChainReport, Credential,
    Ctx, Limit, PageRequest, Store,
};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use serde_json::json;

use super::{PASSWORD, task};
use crate::{Fixture, TestDb};

pub async fn mutations_write_audit_rows_in_their_transaction<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let addr: IpAddr = "203.0.113.7".parse().expect("address");
    let session = Credential::Session(SessionId::new());
    let ctx = Ctx::new(fixture.org.id, Actor::User(fixture.owner.id))
        .with_request_id("req-42")
        .with_client_addr(addr)
        .with_credential(session);
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
            None,
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
            None,
        )
        .await;
    assert!(refused.is_err());

    let log = all_rows(store, &fixture.ctx).await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
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
    let update = &log[4];
    assert_eq!(update.actor, format!("user:{}", fixture.owner.id));
    assert_eq!(update.request_id.as_deref(), Some("req-42"));
    assert_eq!(update.client_addr, Some(addr));
    assert_eq!(update.credential, Some(session));
    assert_eq!(update.entity_id, created.id.to_string());
    assert_eq!(update.changes, json!({"priority": {"from": 0, "to": 9}}));
    assert_eq!(
        (update.seq, update.hash.as_deref()),
        (None, None),
        "unsealed"
    );
    assert_eq!(log[0].actor, "system");
    // A context that names no address or credential records none.
    assert_eq!((log[2].client_addr, log[2].credential), (None, None));
    // The owner's password hash never reaches the log.
    assert!(!log[1].changes.to_string().contains("$2"));

    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = all_rows(store, &other.ctx).await;
    assert!(theirs.iter().all(|e| e.organization_id == other.org.id));
}

pub async fn secrets_never_reach_the_audit_log<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let config = |key: &str| {
        Metadata::parse(
            "config",
            json!({
                "model": "large",
                "max_tokens": 512,
                "openai_api_key": key,
                "upstream": {"user": "bot", "password": "hunter2"},
            }),
        )
        .expect("config")
    };
    let agent = store
        .create_agent(
            ctx,
            NewAgent {
                config: config("sk-live-first"),
                ..NewAgent::named(Name::parse("name", "writer").expect("name"), AgentKind::Ai)
            },
        )
        .await
        .expect("agent");
    store
        .update_agent(
            ctx,
            agent.id,
            AgentPatch {
                config: Some(config("sk-live-second")),
                ..AgentPatch::default()
            },
            None,
        )
        .await
        .expect("update agent");
    let owner = orchestore_domain::KeyOwner::Agent(agent.id);
    let issued = store
        .create_api_key(
            ctx,
            orchestore_domain::NewApiKey {
                owner,
                name: Name::parse("name", "ci").expect("name"),
                scopes: orchestore_domain::KeyScopes::owners(),
                expires_at: None,
            },
        )
        .await
        .expect("key");
    store
        .revoke_api_key(ctx, owner, issued.key.id)
        .await
        .expect("revoke");
    store
        .create_session(
            ctx,
            fixture.owner.id,
            orchestore_repo::NewSession {
                refresh_token_hash: "refresh-token-hash-value".to_owned(),
                expires_at: Utc::now() + Duration::hours(1),
                client: orchestore_domain::ClientInfo::default(),
            },
        )
        .await
        .expect("session");

    let log = all_rows(store, ctx).await;
    let text =
        serde_json::to_string(&log.iter().map(|e| &e.changes).collect::<Vec<_>>()).expect("json");
    for secret in [
        "sk-live-first",
        "sk-live-second",
        "hunter2",
        issued.secret.expose(),
        &issued.secret.hash(),
        "refresh-token-hash-value",
        "$2",
    ] {
        assert!(
            !text.contains(secret),
            "{secret} reached the audit log: {text}"
        );
    }
    let created = log
        .iter()
        .find(|e| e.action == "agent.create")
        .expect("agent.create");
    assert_eq!(created.changes["config"]["openai_api_key"], "<redacted>");
    assert_eq!(
        created.changes["config"]["upstream"]["password"],
        "<redacted>"
    );
    // What is not a secret stays, token counts included.
    assert_eq!(created.changes["config"]["max_tokens"], 512);
    assert_eq!(created.changes["config"]["upstream"]["user"], "bot");
    let updated = log
        .iter()
        .find(|e| e.action == "agent.update")
        .expect("agent.update");
    assert_eq!(
        updated.changes["config"]["to"]["openai_api_key"],
        "<redacted>"
    );
}

pub async fn audit_rows_list_by_filter<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let owner = Actor::User(fixture.owner.id);
    let project = fixture.project(store, "Apollo").await;
    let first = store
        .create_task(ctx, task(project.id, "first"))
        .await
        .expect("first");
    store
        .update_task(
            ctx,
            first.id,
            TaskPatch {
                priority: Some(Priority::parse(3).expect("priority")),
                ..TaskPatch::default()
            },
            None,
        )
        .await
        .expect("update");
    let system = Ctx::system(fixture.org.id);
    let second = store
        .create_task(&system, task(project.id, "second"))
        .await
        .expect("second");
    let log = all_rows(store, ctx).await;
    let project_created = log
        .iter()
        .find(|e| e.action == "project.create")
        .expect("project.create")
        .created_at;

    let listed = async |filter: AuditFilter| -> Vec<String> {
        store
            .list_audit(ctx, filter, PageRequest::default())
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|e| format!("{} {}", e.action, e.entity_id))
            .collect()
    };
    let task_row = |action: &str, id: &dyn std::fmt::Display| format!("{action} {id}");
    assert_eq!(
        listed(AuditFilter {
            actor: Some(owner),
            ..AuditFilter::default()
        })
        .await,
        [
            task_row("project.create", &project.id),
            task_row("task.create", &first.id),
            task_row("task.update", &first.id),
        ]
    );
    assert_eq!(
        listed(AuditFilter {
            entity: Some("task".to_owned()),
            ..AuditFilter::default()
        })
        .await,
        [
            task_row("task.create", &first.id),
            task_row("task.update", &first.id),
            task_row("task.create", &second.id),
        ]
    );
    assert_eq!(
        listed(AuditFilter {
            entity: Some("task".to_owned()),
            entity_id: Some(first.id.to_string()),
            ..AuditFilter::default()
        })
        .await,
        [
            task_row("task.create", &first.id),
            task_row("task.update", &first.id),
        ]
    );
    assert_eq!(
        listed(AuditFilter {
            action: Some("task.update".to_owned()),
            ..AuditFilter::default()
        })
        .await,
        [task_row("task.update", &first.id)]
    );
    assert_eq!(
        listed(AuditFilter {
            actor: Some(Actor::System),
            entity: Some("task".to_owned()),
            ..AuditFilter::default()
        })
        .await,
        [task_row("task.create", &second.id)]
    );
    let since = listed(AuditFilter {
        since: Some(project_created),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(since.len(), 4, "{since:?}");
    assert_eq!(since[0], task_row("project.create", &project.id));
    let until = listed(AuditFilter {
        until: Some(project_created),
        ..AuditFilter::default()
    })
    .await;
    assert_eq!(until.len(), 2, "{until:?}");
    assert!(until[0].starts_with("organization.create"));

    // A filtered list pages like any other, newest first when asked.
    let tasks_only = AuditFilter {
        entity: Some("task".to_owned()),
        ..AuditFilter::default()
    };
    let one = Limit::parse(1).expect("limit");
    let mut request = PageRequest::first(one).sorted(AuditSort::CreatedAtDesc);
    let mut pages = Vec::new();
    loop {
        let page = store
            .list_audit(ctx, tasks_only.clone(), request.clone())
            .await
            .expect("page");
        pages.extend(page.items.into_iter().map(|e| e.action));
        match page.next_cursor {
            Some(cursor) => request = request.next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(pages, ["task.create", "task.update", "task.create"]);

    // Another organization filters its own rows only.
    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = store
        .list_audit(
            &other.ctx,
            AuditFilter {
                entity_id: Some(first.id.to_string()),
                ..AuditFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("other");
    assert!(theirs.items.is_empty());
}

pub async fn the_audit_backlog_counts_the_unsealed_rows_of_every_organization<S: Store + ?Sized>(
    store: &S,
) {
    // The test's database is new: nothing logged, nothing waiting.
    assert_eq!(
        store.audit_backlog().await.expect("backlog"),
        AuditBacklog::default()
    );
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    acme.project(store, "Apollo").await;
    let acme_rows = all_rows(store, &acme.ctx).await;
    let other_rows = all_rows(store, &other.ctx).await;
    assert!(!acme_rows.is_empty() && !other_rows.is_empty());
    let oldest = |rows: &[AuditEntry]| rows.iter().map(|e| e.created_at).min();

    // Every row of both organizations waits; the oldest is the first written.
    let both: Vec<AuditEntry> = acme_rows.iter().chain(&other_rows).cloned().collect();
    assert_eq!(
        store.audit_backlog().await.expect("backlog"),
        AuditBacklog {
            unsealed: both.len() as u64,
            oldest_unsealed_at: oldest(&both),
        }
    );

    // Sealing one organization leaves the other's rows.
    store.seal_audit(&acme.ctx, 1000).await.expect("seal acme");
    assert_eq!(
        store.audit_backlog().await.expect("backlog"),
        AuditBacklog {
            unsealed: other_rows.len() as u64,
            oldest_unsealed_at: oldest(&other_rows),
        }
    );
    store
        .seal_audit(&other.ctx, 1000)
        .await
        .expect("seal other");
    assert_eq!(
        store.audit_backlog().await.expect("backlog"),
        AuditBacklog::default()
    );

    // A new mutation's row waits alone.
    acme.project(store, "Gemini").await;
    let newest = all_rows(store, &acme.ctx)
        .await
        .into_iter()
        .filter(|e| e.seq.is_none())
        .collect::<Vec<_>>();
    assert_eq!(newest.len(), 1);
    assert_eq!(
        store.audit_backlog().await.expect("backlog"),
        AuditBacklog {
            unsealed: 1,
            oldest_unsealed_at: Some(newest[0].created_at),
        }
    );
}

pub async fn sealing_chains_the_rows_of_each_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    for n in 0..4 {
        store
            .create_task(&acme.ctx, task(project.id, &format!("t{n}")))
            .await
            .expect("task");
    }
    let rows = all_rows(store, &acme.ctx).await.len() as u64;
    assert_eq!(rows, 7);

    // Nothing sealed yet: nothing to break, everything to seal.
    let before = verify(store, &acme.ctx).await;
    assert_eq!(
        (before.head.clone(), before.verified, before.unsealed),
        (None, 0, rows)
    );
    assert!(before.is_intact());
    let waiting = store
        .organizations_with_unsealed_audit(100)
        .await
        .expect("unsealed");
    assert!(waiting.contains(&acme.org.id) && waiting.contains(&other.org.id));

    // A bounded call seals the oldest rows and says more are left.
    let part = store.seal_audit(&acme.ctx, 2).await.expect("seal part");
    assert_eq!((part.sealed, part.more), (2, true));
    assert_eq!(part.head.as_ref().map(|h| h.seq), Some(2));
    let rest = store.seal_audit(&acme.ctx, 1000).await.expect("seal rest");
    assert_eq!((rest.sealed, rest.more), (rows - 2, false));
    let head = rest.head.clone().expect("a head");
    assert_eq!(head.seq, rows);

    // Sealed in order of creation, numbered from 1, the head on the last.
    let log = all_rows(store, &acme.ctx).await;
    let seqs: Vec<Option<u64>> = log.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=rows).map(Some).collect::<Vec<_>>());
    assert!(
        log.iter()
            .all(|e| e.hash.as_ref().is_some_and(|h| h.len() == 64))
    );
    assert_eq!(
        log.last().and_then(|e| e.hash.clone()),
        Some(head.hash.clone())
    );
    let after = verify(store, &acme.ctx).await;
    assert_eq!(
        (
            after.head.clone(),
            after.verified,
            after.unsealed,
            after.broken
        ),
        (Some(head.clone()), rows, 0, None)
    );

    // Sealing again finds nothing; a new row extends the chain.
    let idle = store.seal_audit(&acme.ctx, 1000).await.expect("idle");
    assert_eq!(
        (idle.sealed, idle.more, idle.head),
        (0, false, Some(head.clone()))
    );
    store
        .create_task(&acme.ctx, task(project.id, "late"))
        .await
        .expect("late");
    assert_eq!(verify(store, &acme.ctx).await.unsealed, 1);
    let extended = store.seal_audit(&acme.ctx, 1000).await.expect("extend");
    assert_eq!(extended.head.map(|h| h.seq), Some(rows + 1));
    let extended = verify(store, &acme.ctx).await;
    assert!(extended.is_intact(), "{extended:?}");
    assert_eq!(extended.verified, rows + 1);

    // The other organization's rows were left alone, and chain on their own from 1.
    assert_eq!(
        store
            .organizations_with_unsealed_audit(100)
            .await
            .expect("unsealed"),
        [other.org.id]
    );
    let theirs = store
        .seal_audit(&other.ctx, 1000)
        .await
        .expect("seal other");
    assert_eq!(theirs.head.map(|h| h.seq), Some(2));
    assert!(verify(store, &other.ctx).await.is_intact());
    let audited = store.audited_organizations().await.expect("audited");
    assert!(audited.contains(&acme.org.id) && audited.contains(&other.org.id));
}

pub async fn concurrent_mutations_are_each_sealed_once<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let project = fixture.project(store, "Apollo").await;
    let create = async |n: u32| {
        store
            .create_task(ctx, task(project.id, &format!("t{n}")))
            .await
            .expect("create");
    };
    let writers = async {
        tokio::join!(
            create(0),
            create(1),
            create(2),
            create(3),
            create(4),
            create(5),
            create(6),
            create(7),
        );
    };
    // Two sealers keep sealing a few rows at a time while the writers write.
    let sealer = async || {
        let mut sealed = 0;
        for _ in 0..6 {
            sealed += store.seal_audit(ctx, 3).await.expect("seal").sealed;
            tokio::task::yield_now().await;
        }
        sealed
    };
    let ((), first, second) = tokio::join!(writers, sealer(), sealer());
    let last = store.seal_audit(ctx, 1000).await.expect("seal the rest");
    assert!(!last.more);

    let log = all_rows(store, ctx).await;
    let rows = log.len() as u64;
    assert_eq!(rows, 11);
    assert_eq!(first + second + last.sealed, rows, "each row sealed once");
    let mut seqs: Vec<u64> = log.iter().map(|e| e.seq.expect("sealed")).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=rows).collect::<Vec<_>>());
    let report = verify(store, ctx).await;
    assert_eq!(
        (report.verified, report.unsealed, report.broken),
        (rows, 0, None)
    );
}

pub async fn sealers_running_at_once_never_fork_the_chain<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let project = fixture.project(store, "Apollo").await;
    for n in 0..30 {
        store
            .create_task(ctx, task(project.id, &format!("t{n}")))
            .await
            .expect("task");
    }
    let until_done = async || {
        let mut sealed = 0;
        loop {
            let outcome = store.seal_audit(ctx, 4).await.expect("seal");
            sealed += outcome.sealed;
            if !outcome.more {
                return sealed;
            }
        }
    };
    let (a, b, c) = tokio::join!(until_done(), until_done(), until_done());
    assert_eq!(a + b + c, 33);
    let report = verify(store, ctx).await;
    assert_eq!(
        (report.head.map(|h| h.seq), report.verified, report.broken),
        (Some(33), 33, None)
    );
}

pub async fn an_edited_row_is_named<S: Store + ?Sized>(store: &S, db: &TestDb) {
    let acme = sealed_organization(store, "acme").await;
    let other = sealed_organization(store, "other").await;
    let target = &acme.rows[2];
    update_row(
        db,
        target,
        "changes",
        json!({"priority": {"from": 0, "to": 99}}).into(),
    )
    .await;
    let report = verify(store, &acme.ctx).await;
    assert_eq!(
        report.broken,
        Some(ChainBreak::Altered {
            id: target.id,
            seq: 3
        })
    );
    assert_eq!(report.verified, 2);
    assert!(verify(store, &other.ctx).await.is_intact());

    // Any field counts: the address a row was written from, too.
    let target = &other.rows[4];
    update_row(db, target, "client_addr", "198.51.100.1".into()).await;
    assert_eq!(
        verify(store, &other.ctx).await.broken,
        Some(ChainBreak::Altered {
            id: target.id,
            seq: 5
        })
    );
}

pub async fn a_removed_row_is_named<S: Store + ?Sized>(store: &S, db: &TestDb) {
    let acme = sealed_organization(store, "acme").await;
    let other = sealed_organization(store, "other").await;
    delete_row(db, &acme.rows[2]).await;
    let report = verify(store, &acme.ctx).await;
    assert_eq!(
        report.broken,
        Some(ChainBreak::Missing {
            seq: 3,
            next_id: acme.rows[3].id,
            next_seq: 4
        })
    );
    assert!(verify(store, &other.ctx).await.is_intact());

    // The first row, too.
    delete_row(db, &other.rows[0]).await;
    assert_eq!(
        verify(store, &other.ctx).await.broken,
        Some(ChainBreak::Missing {
            seq: 1,
            next_id: other.rows[1].id,
            next_seq: 2
        })
    );
}

pub async fn swapped_rows_are_named<S: Store + ?Sized>(store: &S, db: &TestDb) {
    let acme = sealed_organization(store, "acme").await;
    let beta = sealed_organization(store, "beta").await;
    let other = sealed_organization(store, "other").await;
    // Rows 2 and 4 exchange places (through a free place: each place is unique).
    swap_seq(db, &acme.rows[1], &acme.rows[3]).await;
    assert_eq!(
        verify(store, &acme.ctx).await.broken,
        Some(ChainBreak::OutOfPlace {
            id: acme.rows[3].id,
            seq: 2
        })
    );
    // Neighbours too.
    swap_seq(db, &beta.rows[2], &beta.rows[3]).await;
    assert_eq!(
        verify(store, &beta.ctx).await.broken,
        Some(ChainBreak::OutOfPlace {
            id: beta.rows[3].id,
            seq: 3
        })
    );
    assert!(verify(store, &other.ctx).await.is_intact());
}

pub async fn a_removed_tail_is_named<S: Store + ?Sized>(store: &S, db: &TestDb) {
    let acme = sealed_organization(store, "acme").await;
    let other = sealed_organization(store, "other").await;
    let rows = acme.rows.len() as u64;
    delete_row(db, &acme.rows[acme.rows.len() - 1]).await;
    delete_row(db, &acme.rows[acme.rows.len() - 2]).await;
    let report = verify(store, &acme.ctx).await;
    assert_eq!(
        report.broken,
        Some(ChainBreak::Truncated {
            head_seq: rows,
            last_seq: rows - 2
        })
    );
    assert_eq!(report.verified, rows - 2);
    assert!(verify(store, &other.ctx).await.is_intact());

    // Every row gone: the head still tells.
    for row in &other.rows {
        delete_row(db, row).await;
    }
    assert_eq!(
        verify(store, &other.ctx).await.broken,
        Some(ChainBreak::Truncated {
            head_seq: rows,
            last_seq: 0
        })
    );
    assert!(
        store
            .audited_organizations()
            .await
            .expect("audited")
            .contains(&other.org),
        "an organization whose rows are all gone is still verified, by its head"
    );
}

pub async fn a_tampered_head_is_named<S: Store + ?Sized>(store: &S, db: &TestDb) {
    let acme = sealed_organization(store, "acme").await;
    let beta = sealed_organization(store, "beta").await;
    let gamma = sealed_organization(store, "gamma").await;
    let other = sealed_organization(store, "other").await;
    let last = acme.rows.len() - 1;

    update_head(db, &acme, Some((last as i64 + 1, "00".repeat(32)))).await;
    assert_eq!(
        verify(store, &acme.ctx).await.broken,
        Some(ChainBreak::HeadMismatch {
            id: acme.rows[last].id,
            seq: last as u64 + 1
        })
    );
    update_head(db, &beta, None).await;
    assert_eq!(
        verify(store, &beta.ctx).await.broken,
        Some(ChainBreak::HeadMissing {
            id: beta.rows[0].id,
            seq: 1
        })
    );
    // Moved back one row, with that row's hash: the last row is past it.
    let previous = gamma.rows[last - 1].hash.clone().expect("sealed");
    update_head(db, &gamma, Some((last as i64, previous))).await;
    assert_eq!(
        verify(store, &gamma.ctx).await.broken,
        Some(ChainBreak::PastHead {
            id: gamma.rows[last].id,
            seq: last as u64 + 1
        })
    );
    assert!(verify(store, &other.ctx).await.is_intact());
}

/// An organization with a few audit rows, all sealed, oldest first.
struct Sealed {
    ctx: Ctx,
    org: OrganizationId,
    rows: Vec<AuditEntry>,
}

async fn sealed_organization<S: Store + ?Sized>(store: &S, slug: &str) -> Sealed {
    let fixture = Fixture::create(store, slug, PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    for n in 0..4 {
        store
            .create_task(&fixture.ctx, task(project.id, &format!("t{n}")))
            .await
            .expect("task");
    }
    store.seal_audit(&fixture.ctx, 1000).await.expect("seal");
    let mut rows = all_rows(store, &fixture.ctx).await;
    rows.sort_by_key(|e| e.seq);
    assert_eq!(rows.len(), 7);
    assert!(verify(store, &fixture.ctx).await.is_intact());
    Sealed {
        org: fixture.org.id,
        ctx: fixture.ctx,
        rows,
    }
}

async fn all_rows<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> Vec<AuditEntry> {
    store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit")
        .items
}

async fn verify<S: Store + ?Sized>(store: &S, ctx: &Ctx) -> ChainReport {
    store.verify_audit(ctx).await.expect("verify")
}

fn audit_logs() -> Alias {
    Alias::new("audit_logs")
}

fn row_of(entry: &AuditEntry) -> Expr {
    Expr::col(Alias::new("organization_id"))
        .eq(entry.organization_id.as_uuid())
        .and(Expr::col(Alias::new("id")).eq(entry.id.as_uuid()))
}

async fn update_row(db: &TestDb, entry: &AuditEntry, column: &str, value: sea_orm::Value) {
    let statement = Query::update()
        .table(audit_logs())
        .value(Alias::new(column), value)
        .and_where(row_of(entry))
        .to_owned();
    let done = db.connection().execute(&statement).await.expect("tamper");
    assert_eq!(done.rows_affected(), 1);
}

async fn delete_row(db: &TestDb, entry: &AuditEntry) {
    let statement = Query::delete()
        .from_table(audit_logs())
        .and_where(row_of(entry))
        .to_owned();
    let done = db.connection().execute(&statement).await.expect("delete");
    assert_eq!(done.rows_affected(), 1);
}

async fn swap_seq(db: &TestDb, a: &AuditEntry, b: &AuditEntry) {
    let (seq_a, seq_b) = (a.seq.expect("sealed") as i64, b.seq.expect("sealed") as i64);
    update_row(db, a, "seq", (-1_i64).into()).await;
    update_row(db, b, "seq", seq_a.into()).await;
    update_row(db, a, "seq", seq_b.into()).await;
}

/// Sets the organization's head to `(seq, hash)`, or deletes it.
async fn update_head(db: &TestDb, sealed: &Sealed, to: Option<(i64, String)>) {
    let heads = Alias::new("audit_chain_heads");
    let this = Expr::col(Alias::new("organization_id")).eq(sealed.org.as_uuid());
    let done = match to {
        Some((seq, hash)) => {
            let statement = Query::update()
                .table(heads)
                .value(Alias::new("seq"), seq)
                .value(Alias::new("hash"), hash)
                .and_where(this)
                .to_owned();
            db.connection().execute(&statement).await
        }
        None => {
            let statement = Query::delete().from_table(heads).and_where(this).to_owned();
            db.connection().execute(&statement).await
        }
    };
    assert_eq!(done.expect("tamper with the head").rows_affected(), 1);
}
