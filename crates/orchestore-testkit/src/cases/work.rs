//! Projects and tasks; tasks' own fields in [`tasks`], the task graph in [`graph`], history and
//! statistics in [`history`], the queue in [`claims`] (claims), [`run_ends`] (fencing, failures,
//! cancellation of a run) and [`queue`] (leases and figures), enqueueing by the batch in
//! [`enqueue`], completions by the batch in [`complete`], cancellation of whole trees in
//! [`cancellation`], importing task lists in [`import`], schedules in [`schedules`], the shared
//! worker fleet in [`fairness`], fairness across keys within an organization in
//! [`fairness_keys`], rate limits in [`rate_limits`], large payloads in [`payloads`].

mod cancellation;
mod claims;
mod complete;
mod concurrency;
mod enqueue;
mod fairness;
mod fairness_keys;
mod graph;
mod history;
mod import;
mod payloads;
mod queue;
mod rate_limits;
mod run_ends;
mod schedules;
mod tasks;

pub use cancellation::*;
pub use claims::*;
pub use complete::*;
pub use concurrency::*;
pub use enqueue::*;
pub use fairness::*;
pub use fairness_keys::*;
pub use graph::*;
pub use history::*;
pub use import::*;
pub use payloads::*;
pub use queue::*;
pub use rate_limits::*;
pub use run_ends::*;
pub use schedules::*;
pub use tasks::*;

use orchestore_domain::{
    Capabilities, Description, Metadata, Name, NewTask, Payload, Priority, ProjectId, ProjectPatch,
    TaskId, TaskPatch, TaskStatus,
};
use orchestore_repo::{
    AuditFilter, AuditSort, Limit, PageRequest, ProjectSort, RepoError, Store, TaskFilter, TaskSort,
};
use serde_json::json;

use super::{PASSWORD, assert_conflict, assert_not_found, assert_reference, task, title};
use crate::Fixture;

pub async fn project_crud_is_scoped_to_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;

    assert_eq!(
        store.get_project(&acme.ctx, project.id).await.expect("get"),
        project
    );
    assert_not_found(store.get_project(&other.ctx, project.id).await, "project");
    assert_not_found(
        store
            .update_project(&other.ctx, project.id, ProjectPatch::default(), None)
            .await,
        "project",
    );
    assert_not_found(
        store.delete_project(&other.ctx, project.id, None).await,
        "project",
    );

    let patch = ProjectPatch {
        name: Some(Name::parse("name", "Apollo 11").expect("name")),
        description: Some(Description::parse("description", "to the moon").expect("desc")),
        repository_url: Some(Some("https://example.org/apollo.git".into())),
        tags: Some(orchestore_domain::Tags::parse(&["space", "nasa"]).expect("tags")),
        settings: Some(Metadata::parse("settings", json!({"crew": 3})).expect("settings")),
    };
    let updated = store
        .update_project(&acme.ctx, project.id, patch, None)
        .await
        .expect("update");
    assert_eq!(updated.name.as_str(), "Apollo 11");
    assert_eq!(updated.tags.to_strings(), vec!["nasa", "space"]);
    assert_eq!(updated.settings.to_value(), json!({"crew": 3}));
    assert!(updated.updated_at >= project.updated_at);
    assert_eq!(
        store.get_project(&acme.ctx, project.id).await.expect("get"),
        updated
    );

    let page = store
        .list_projects(&acme.ctx, PageRequest::<ProjectSort>::default())
        .await
        .expect("list");
    assert_eq!(page.items, vec![updated.clone()]);
    assert!(page.next_cursor.is_none());
    let others = store
        .list_projects(&other.ctx, PageRequest::default())
        .await
        .expect("list other");
    assert!(others.items.is_empty());

    store
        .delete_project(&acme.ctx, project.id, None)
        .await
        .expect("delete");
    assert_not_found(store.get_project(&acme.ctx, project.id).await, "project");
}

pub async fn project_names_are_unique_per_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    acme.project(store, "Apollo").await;
    let gemini = acme.project(store, "Gemini").await;
    // The same name in another organization is fine.
    other.project(store, "Apollo").await;

    let duplicate = store
        .create_project(
            &acme.ctx,
            orchestore_domain::NewProject {
                name: Name::parse("name", "Apollo").expect("name"),
                description: Description::empty(),
                repository_url: None,
                tags: orchestore_domain::Tags::default(),
                settings: Metadata::default(),
            },
        )
        .await;
    assert_conflict(duplicate, Some("name"));
    // Names compare ignoring case, after Unicode normalization.
    let named = |name: &str| orchestore_domain::NewProject {
        name: Name::parse("name", name).expect("name"),
        description: Description::empty(),
        repository_url: None,
        tags: orchestore_domain::Tags::default(),
        settings: Metadata::default(),
    };
    assert_conflict(
        store.create_project(&acme.ctx, named("APOLLO")).await,
        Some("name"),
    );
    acme.project(store, "Caf\u{e9}").await;
    assert_conflict(
        store.create_project(&acme.ctx, named("CAFE\u{301}")).await,
        Some("name"),
    );
    let rename = ProjectPatch {
        name: Some(Name::parse("name", "apollo").expect("name")),
        ..ProjectPatch::default()
    };
    assert_conflict(
        store
            .update_project(&acme.ctx, gemini.id, rename, None)
            .await,
        Some("name"),
    );
    // Renaming a project to another spelling of its own name is no conflict.
    let respell = ProjectPatch {
        name: Some(Name::parse("name", "GEMINI").expect("name")),
        ..ProjectPatch::default()
    };
    let respelled = store
        .update_project(&acme.ctx, gemini.id, respell.clone(), None)
        .await
        .expect("respell");
    assert_eq!(respelled.name.as_str(), "GEMINI");
    let back = ProjectPatch {
        name: Some(Name::parse("name", "Gemini").expect("name")),
        ..respell
    };
    store
        .update_project(&acme.ctx, gemini.id, back, None)
        .await
        .expect("respell back");
    assert_eq!(
        store
            .get_project(&acme.ctx, gemini.id)
            .await
            .expect("get")
            .name
            .as_str(),
        "Gemini"
    );
}

pub async fn task_crud_and_filters<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let apollo = fixture.project(store, "Apollo").await;
    let gemini = fixture.project(store, "Gemini").await;

    let full = NewTask {
        project_id: apollo.id,
        title: title("Write the flight plan"),
        description: Description::parse("description", "all of it").expect("desc"),
        priority: Priority::parse(7).expect("priority"),
        payload: Payload::parse(json!({"steps": [1, 2, 3], "nested": {"ok": true}}))
            .expect("payload"),
        required_capabilities: Capabilities::parse(&["rust", "planning"]).expect("caps"),
        metadata: Metadata::parse("metadata", json!({"source": "test"})).expect("metadata"),
        ..task(apollo.id, "replaced")
    };
    let created = store.create_task(&fixture.ctx, full).await.expect("create");
    assert_eq!(created.status, TaskStatus::Queued);
    assert_eq!(created.priority.get(), 7);
    assert_eq!(
        created.required_capabilities.to_strings(),
        vec!["planning", "rust"]
    );
    assert_eq!(
        store.get_task(&fixture.ctx, created.id).await.expect("get"),
        created
    );

    let other = store
        .create_task(&fixture.ctx, task(gemini.id, "Dock"))
        .await
        .expect("create");
    let cancelled = store
        .update_task(
            &fixture.ctx,
            other.id,
            TaskPatch {
                status: Some(TaskStatus::Cancelled),
                ..TaskPatch::default()
            },
            None,
        )
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);

    let by_project = store
        .list_tasks(
            &fixture.ctx,
            TaskFilter {
                project_id: Some(apollo.id),
                ..TaskFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list by project");
    assert_eq!(by_project.items, vec![created.clone()]);
    let by_status = store
        .list_tasks(
            &fixture.ctx,
            TaskFilter {
                status: Some(TaskStatus::Cancelled),
                ..TaskFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list by status");
    assert_eq!(by_status.items, vec![cancelled.clone()]);

    let patched = store
        .update_task(
            &fixture.ctx,
            created.id,
            TaskPatch {
                title: Some(title("Write the final flight plan")),
                priority: Some(Priority::parse(-3).expect("priority")),
                payload: Some(Payload::default()),
                ..TaskPatch::default()
            },
            None,
        )
        .await
        .expect("patch");
    assert_eq!(patched.title.as_str(), "Write the final flight plan");
    assert_eq!(patched.priority.get(), -3);
    assert_eq!(patched.description, created.description);
    assert_eq!(
        store.get_task(&fixture.ctx, created.id).await.expect("get"),
        patched
    );

    store
        .delete_task(&fixture.ctx, created.id, None)
        .await
        .expect("delete");
    assert_not_found(store.get_task(&fixture.ctx, created.id).await, "task");
    assert_not_found(
        store.delete_task(&fixture.ctx, created.id, None).await,
        "task",
    );
}

/// The transitions a PATCH may make are the domain's table: `running` only by a claim,
/// `blocked` only by open dependencies, nothing once succeeded or cancelled; the same status
/// again is no change and leaves no audit row.
pub async fn task_status_follows_the_state_machine<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let created = store
        .create_task(&fixture.ctx, task(project.id, "Launch"))
        .await
        .expect("create");
    let to = |status| TaskPatch {
        status: Some(status),
        title: Some(title("Changed alongside")),
        ..TaskPatch::default()
    };
    let only = |status| TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };

    for refused_status in [TaskStatus::Running, TaskStatus::Blocked] {
        let refused = store
            .update_task(&fixture.ctx, created.id, to(refused_status), None)
            .await;
        assert!(matches!(refused, Err(RepoError::Invalid(_))), "{refused:?}");
    }
    let audit_rows = async || {
        store
            .list_audit(
                &fixture.ctx,
                AuditFilter::default(),
                PageRequest::first(Limit::parse(200).expect("limit")),
            )
            .await
            .expect("audit")
            .items
            .len()
    };
    let before = audit_rows().await;
    let same = store
        .update_task(&fixture.ctx, created.id, only(TaskStatus::Queued), None)
        .await
        .expect("queued again");
    assert_eq!(same, created);
    assert_eq!(audit_rows().await, before, "no change, no audit row");

    store
        .update_task(&fixture.ctx, created.id, to(TaskStatus::Cancelled), None)
        .await
        .expect("cancel");
    // Cancelled is final: no status, no field changes; the same status again is no change.
    let refused = store
        .update_task(&fixture.ctx, created.id, to(TaskStatus::Queued), None)
        .await;
    assert!(matches!(refused, Err(RepoError::Invalid(_))), "{refused:?}");
    let rename = TaskPatch {
        title: Some(title("Renamed after the fact")),
        ..TaskPatch::default()
    };
    let refused = store
        .update_task(&fixture.ctx, created.id, rename, None)
        .await;
    assert!(matches!(refused, Err(RepoError::Invalid(_))), "{refused:?}");
    let before = audit_rows().await;
    let again = store
        .update_task(&fixture.ctx, created.id, only(TaskStatus::Cancelled), None)
        .await
        .expect("cancelled again");
    assert_eq!(again.status, TaskStatus::Cancelled);
    assert_eq!(again.title.as_str(), "Changed alongside");
    assert_eq!(audit_rows().await, before, "no change, no audit row");
}

pub async fn task_pages_are_stable_under_inserts<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let mut expected: Vec<TaskId> = Vec::new();
    for n in 0..5 {
        let created = store
            .create_task(&fixture.ctx, task(project.id, &format!("task {n}")))
            .await
            .expect("create");
        expected.push(created.id);
    }

    let limit = Limit::parse(2).expect("limit");
    let mut seen = Vec::new();
    let mut request = PageRequest::<TaskSort>::first(limit);
    loop {
        let page = store
            .list_tasks(&fixture.ctx, TaskFilter::default(), request.clone())
            .await
            .expect("page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|t| t.id));
        // Rows inserted while paging come at the end, never twice or in place of another.
        if seen.len() == 2 {
            let late = store
                .create_task(&fixture.ctx, task(project.id, "late"))
                .await
                .expect("create late");
            expected.push(late.id);
        }
        match page.next_cursor {
            Some(cursor) => request = request.clone().next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    let newest_first = store
        .list_tasks(
            &fixture.ctx,
            TaskFilter::default(),
            PageRequest::first(limit).sorted(TaskSort::CreatedAtDesc),
        )
        .await
        .expect("newest first");
    let newest: Vec<TaskId> = newest_first.items.iter().map(|t| t.id).collect();
    assert_eq!(
        newest,
        expected.iter().rev().take(2).copied().collect::<Vec<_>>()
    );
}

pub async fn tasks_sort_by_priority_highest_first<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let mut by_name = std::collections::HashMap::new();
    for (name, priority) in [("5a", 5), ("10a", 10), ("5b", 5), ("low", -1), ("10b", 10)] {
        let new = NewTask {
            priority: Priority::parse(priority).expect("priority"),
            ..task(project.id, name)
        };
        let created = store.create_task(&fixture.ctx, new).await.expect("create");
        by_name.insert(created.id, name.to_owned());
    }

    let first = PageRequest::first(Limit::parse(2).expect("limit")).sorted(TaskSort::PriorityDesc);
    let mut request = first.clone();
    let mut seen = Vec::new();
    loop {
        let page = store
            .list_tasks(&fixture.ctx, TaskFilter::default(), request.clone())
            .await
            .expect("page");
        seen.extend(page.items.iter().map(|t| by_name[&t.id].clone()));
        if seen.len() == 2 {
            // Inserted below the cursor's priority: it shows on a later page, once.
            let new = NewTask {
                priority: Priority::parse(7).expect("priority"),
                ..task(project.id, "7")
            };
            let created = store.create_task(&fixture.ctx, new).await.expect("create");
            by_name.insert(created.id, "7".to_owned());
        }
        match page.next_cursor {
            Some(cursor) => request = request.clone().next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(seen, vec!["10a", "10b", "7", "5a", "5b", "low"]);

    // A cursor of one sort order is refused by another.
    let page = store
        .list_tasks(&fixture.ctx, TaskFilter::default(), first)
        .await
        .expect("page");
    let cursor = page.next_cursor.expect("a second page");
    let mixed = PageRequest::new(
        Limit::parse(2).expect("limit"),
        TaskSort::CreatedAt,
        Some(cursor),
    );
    assert!(mixed.is_err(), "{mixed:?}");
}

pub async fn task_needs_a_project_of_the_same_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = other.project(store, "Theirs").await;

    assert_reference(
        store
            .create_task(&acme.ctx, task(theirs.id, "sneak in"))
            .await,
        "project_id",
    );
    assert_reference(
        store
            .create_task(&acme.ctx, task(ProjectId::new(), "nowhere"))
            .await,
        "project_id",
    );
    let mine = store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("create");
    assert_not_found(store.get_task(&acme.ctx, mine.id).await, "task");
    assert_not_found(
        store
            .update_task(&acme.ctx, mine.id, TaskPatch::default(), None)
            .await,
        "task",
    );
    assert_not_found(store.delete_task(&acme.ctx, mine.id, None).await, "task");
    let listed = store
        .list_tasks(&acme.ctx, TaskFilter::default(), PageRequest::default())
        .await
        .expect("list");
    assert!(listed.items.is_empty());
}

pub async fn deleting_a_project_deletes_its_tasks<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let created = store
        .create_task(&fixture.ctx, task(project.id, "doomed"))
        .await
        .expect("create");
    store
        .delete_project(&fixture.ctx, project.id, None)
        .await
        .expect("delete project");
    assert_not_found(store.get_task(&fixture.ctx, created.id).await, "task");

    let log = store
        .list_audit(
            &fixture.ctx,
            AuditFilter::default(),
            PageRequest::default().sorted(AuditSort::CreatedAtDesc),
        )
        .await
        .expect("audit");
    let deletion = &log.items[0];
    assert_eq!(deletion.action, "project.delete");
    assert_eq!(deletion.changes["deleted_tasks"], json!([created.id]));
    assert_eq!(deletion.changes["deleted_task_count"], json!(1));
}
