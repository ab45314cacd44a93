//! Agents.

use orchestore_domain::{
    AgentKind, AgentPatch, AgentStatus, Capabilities, Metadata, ModelName, Name, NewAgent,
};
use orchestore_repo::{AgentFilter, AgentSort, AuditFilter, AuditSort, Limit, PageRequest, Store};
use serde_json::json;

use super::{PASSWORD, assert_conflict, assert_not_found};
use crate::Fixture;

fn agent(name: &str, kind: AgentKind, capabilities: &[&str]) -> NewAgent {
    NewAgent {
        capabilities: Capabilities::parse(capabilities).expect("capabilities"),
        ..NewAgent::named(Name::parse("name", name).expect("name"), kind)
    }
}

pub async fn agent_crud_is_scoped_to_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let new = NewAgent {
        config: Metadata::parse("config", json!({"temperature": 0.20, "tools": ["git"]}))
            .expect("config"),
        model: Some(ModelName::parse("claude-opus").expect("model")),
        ..agent("Reviewer", AgentKind::Ai, &["rust", "review"])
    };
    let created = store.create_agent(&acme.ctx, new).await.expect("create");
    assert_eq!(created.status, AgentStatus::Active);
    assert_eq!(created.capabilities.to_strings(), vec!["review", "rust"]);
    assert_eq!(
        created.config.to_value(),
        json!({"temperature": 0.20, "tools": ["git"]})
    );
    assert_eq!(
        (created.tasks_completed, created.last_heartbeat_at),
        (0, None)
    );
    assert_eq!(
        store.get_agent(&acme.ctx, created.id).await.expect("get"),
        created
    );
    assert_not_found(store.get_agent(&other.ctx, created.id).await, "agent");
    assert_not_found(
        store
            .update_agent(&other.ctx, created.id, AgentPatch::default(), None)
            .await,
        "agent",
    );
    assert_not_found(
        store.delete_agent(&other.ctx, created.id, None).await,
        "agent",
    );
    assert_not_found(
        store.record_heartbeat(&other.ctx, created.id).await,
        "agent",
    );

    let patch = AgentPatch {
        status: Some(AgentStatus::Busy),
        model: Some(None),
        capabilities: Some(Capabilities::parse(&["rust"]).expect("capabilities")),
        ..AgentPatch::default()
    };
    let updated = store
        .update_agent(&acme.ctx, created.id, patch, None)
        .await
        .expect("update");
    assert_eq!(updated.status, AgentStatus::Busy);
    assert_eq!(updated.model, None);
    assert_eq!(updated.name, created.name);
    assert_eq!(
        store.get_agent(&acme.ctx, created.id).await.expect("get"),
        updated
    );

    let log = store
        .list_audit(
            &acme.ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    assert_eq!(log.items[0].action, "agent.status.busy");
    assert_eq!(
        log.items[0].changes["model"],
        json!({"from": "claude-opus", "to": null})
    );

    store
        .delete_agent(&acme.ctx, created.id, None)
        .await
        .expect("delete");
    assert_not_found(store.get_agent(&acme.ctx, created.id).await, "agent");
    assert_not_found(
        store.delete_agent(&acme.ctx, created.id, None).await,
        "agent",
    );
}

pub async fn agent_names_are_unique_per_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    store
        .create_agent(&acme.ctx, agent("Planner", AgentKind::Ai, &[]))
        .await
        .expect("create");
    store
        .create_agent(&other.ctx, agent("Planner", AgentKind::Ai, &[]))
        .await
        .expect("the same name in another organization");
    assert_conflict(
        store
            .create_agent(&acme.ctx, agent("PLANNER", AgentKind::Bot, &[]))
            .await,
        Some("name"),
    );
    let second = store
        .create_agent(&acme.ctx, agent("Coder", AgentKind::Ai, &[]))
        .await
        .expect("create");
    let rename = AgentPatch {
        name: Some(Name::parse("name", "planner").expect("name")),
        ..AgentPatch::default()
    };
    assert_conflict(
        store.update_agent(&acme.ctx, second.id, rename, None).await,
        Some("name"),
    );
}

pub async fn agents_are_found_by_capability_status_and_kind<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let rust = store
        .create_agent(
            &acme.ctx,
            agent("rustacean", AgentKind::Ai, &["rust", "review"]),
        )
        .await
        .expect("create");
    let both = store
        .create_agent(
            &acme.ctx,
            agent("polyglot", AgentKind::Ai, &["rust", "python"]),
        )
        .await
        .expect("create");
    let human = store
        .create_agent(&acme.ctx, agent("ada", AgentKind::Human, &["python"]))
        .await
        .expect("create");
    store
        .update_agent(
            &acme.ctx,
            human.id,
            AgentPatch {
                status: Some(AgentStatus::Offline),
                ..AgentPatch::default()
            },
            None,
        )
        .await
        .expect("offline");

    let find = async |filter: AgentFilter| {
        store
            .list_agents(&acme.ctx, filter, PageRequest::default())
            .await
            .expect("list")
            .items
            .into_iter()
            .map(|a| a.id)
            .collect::<Vec<_>>()
    };
    let capable = |names: &[&str]| AgentFilter {
        capabilities: Capabilities::parse(names).expect("capabilities"),
        ..AgentFilter::default()
    };
    assert_eq!(find(capable(&["rust"])).await, vec![rust.id, both.id]);
    assert_eq!(find(capable(&["rust", "python"])).await, vec![both.id]);
    assert_eq!(find(capable(&["go"])).await, vec![]);
    let offline = AgentFilter {
        status: Some(AgentStatus::Offline),
        ..AgentFilter::default()
    };
    assert_eq!(find(offline).await, vec![human.id]);
    let ai_with_python = AgentFilter {
        kind: Some(AgentKind::Ai),
        ..capable(&["python"])
    };
    assert_eq!(find(ai_with_python).await, vec![both.id]);

    // Pages in either order, each with its own cursor.
    let newest = store
        .list_agents(
            &acme.ctx,
            AgentFilter::default(),
            PageRequest::first(Limit::parse(2).expect("limit")).sorted(AgentSort::CreatedAtDesc),
        )
        .await
        .expect("page");
    assert_eq!(
        newest.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![human.id, both.id]
    );
    let rest = store
        .list_agents(
            &acme.ctx,
            AgentFilter::default(),
            PageRequest::first(Limit::parse(2).expect("limit")).next(newest.next_cursor),
        )
        .await
        .expect("next page");
    assert_eq!(
        rest.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![rust.id]
    );
    assert!(rest.next_cursor.is_none());
}

pub async fn heartbeats_bring_an_agent_back_and_stats_follow<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let created = store
        .create_agent(
            &acme.ctx,
            NewAgent {
                status: AgentStatus::Offline,
                ..agent("worker", AgentKind::Bot, &[])
            },
        )
        .await
        .expect("create");
    let beat = store
        .record_heartbeat(&acme.ctx, created.id)
        .await
        .expect("heartbeat");
    assert_eq!(beat.status, AgentStatus::Active);
    let first = beat.last_heartbeat_at.expect("a heartbeat time");
    let again = store
        .record_heartbeat(&acme.ctx, created.id)
        .await
        .expect("heartbeat");
    assert!(again.last_heartbeat_at.expect("time") >= first);
    assert_eq!(again.status, AgentStatus::Active);

    // Only the status change is audited, not each heartbeat.
    let log = store
        .list_audit(
            &acme.ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    let actions: Vec<&str> = log
        .items
        .iter()
        .filter(|row| row.entity == "agent")
        .map(|row| row.action.as_str())
        .collect();
    assert_eq!(actions, vec!["agent.status.active", "agent.create"]);

    let stats = store
        .agent_stats(&acme.ctx, created.id)
        .await
        .expect("stats");
    assert_eq!(stats.tasks_completed, 0);
    assert_eq!(stats.mean_task_seconds, None);
    assert_eq!(stats.success_rate, None);
}
