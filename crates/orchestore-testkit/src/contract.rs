//! The contract suite: what every [`Store`] must do, as plain generic async functions.
//!
//! Each case takes a freshly migrated store that it owns. [`contract_suite!`] expands every
//! case into `sqlite::<case>`, `postgres::<case>` and `dyn_store::<case>` tests.
//!
//! [`contract_suite!`]: crate::contract_suite

use chrono::{Duration, Utc};
use orchestore_domain::{
    Capabilities, Description, Email, Metadata, Name, NewOrganization, NewTask, NewUser,
    OrganizationId, Password, PasswordHash, Payload, Permission, Priority, ProjectId, ProjectPatch,
    Slug, SystemRole, TaskId, TaskPatch, TaskStatus, Title,
};
use orchestore_repo::{
    Actor, Backend, Ctx, Limit, PageRequest, RepoError, SortOrder, Store, TaskFilter,
};
use serde_json::json;

use crate::{Fixture, TEST_BCRYPT_COST};

const PASSWORD: &str = "correct horse battery";

/// Expands the contract cases into tests for SQLite, PostgreSQL and `Arc<dyn Store>`.
#[macro_export]
macro_rules! contract_suite {
    () => {
        $crate::contract_suite!(@cases
            organization_is_created_once_per_slug,
            organization_and_owner_are_created_together,
            users_have_unique_emails_and_role_permissions,
            login_checks_the_password,
            sessions_rotate_and_revoke,
            instance_setting_keeps_the_first_value,
            project_crud_is_scoped_to_the_organization,
            project_names_are_unique_per_organization,
            task_crud_and_filters,
            task_status_follows_the_state_machine,
            task_pages_are_stable_under_inserts,
            tasks_sort_by_priority_highest_first,
            task_needs_a_project_of_the_same_organization,
            deleting_a_project_deletes_its_tasks,
            mutations_write_audit_rows_in_their_transaction,
            health_reports_backend_and_migrations,
        );
    };
    (@cases $($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = $crate::TestDb::sqlite().await;
                    $crate::contract::$case(db.store()).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let Some(db) = $crate::TestDb::postgres().await else {
                        return;
                    };
                    $crate::contract::$case(db.store()).await;
                }
            )*
        }

        mod dyn_store {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = $crate::TestDb::sqlite().await;
                    let store: ::std::sync::Arc<dyn ::orchestore_repo::Store> =
                        ::std::sync::Arc::new(db.store().clone());
                    $crate::contract::$case(&store).await;
                }
            )*
        }
    };
}

fn title(text: &str) -> Title {
    Title::parse(text).expect("test title")
}

fn task(project: ProjectId, text: &str) -> NewTask {
    NewTask::titled(project, title(text))
}

fn new_user(email: &str, roles: Vec<SystemRole>) -> NewUser {
    let password = Password::parse(PASSWORD).expect("test password");
    NewUser {
        email: Email::parse(email).expect("test email"),
        display_name: Name::parse("display_name", "Someone").expect("test name"),
        password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
        roles,
    }
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, RepoError>, entity: &str) {
    match result {
        Err(RepoError::NotFound { entity: found, .. }) => assert_eq!(found, entity),
        other => panic!("expected {entity} not found, got {other:?}"),
    }
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, RepoError>) {
    assert!(
        matches!(result, Err(RepoError::Conflict(_))),
        "expected a conflict, got {result:?}"
    );
}

pub async fn organization_is_created_once_per_slug<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;

    let read = store.get_organization(&fixture.ctx).await.expect("get");
    assert_eq!(read, fixture.org);

    let again = store
        .create_organization(
            &Ctx::system(OrganizationId::new()),
            NewOrganization {
                slug: Slug::parse("slug", "acme").expect("slug"),
                name: Name::parse("name", "Another Acme").expect("name"),
            },
        )
        .await;
    assert_conflict(again);
    assert_not_found(
        store
            .get_organization(&Ctx::system(OrganizationId::new()))
            .await,
        "organization",
    );
}

pub async fn organization_and_owner_are_created_together<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Ctx::system(OrganizationId::new());
    let new_org = || NewOrganization {
        slug: Slug::parse("slug", "beta").expect("slug"),
        name: Name::parse("name", "Beta").expect("name"),
    };

    // The owner's email is taken: neither the organization nor the owner is written.
    let taken = store
        .create_organization_with_owner(
            &beta,
            new_org(),
            new_user(acme.owner.email.as_str(), vec![SystemRole::Owner]),
        )
        .await;
    assert_conflict(taken);
    assert_not_found(store.get_organization(&beta).await, "organization");

    let (org, owner) = store
        .create_organization_with_owner(
            &beta,
            new_org(),
            new_user(
                "owner@beta.test",
                vec![SystemRole::Owner, SystemRole::Owner],
            ),
        )
        .await
        .expect("create organization with owner");
    assert_eq!(org.id, beta.org());
    assert_eq!(owner.organization_id, org.id);
    let permissions = store
        .user_permissions(&beta, owner.id)
        .await
        .expect("permissions");
    assert_eq!(permissions.len(), Permission::ALL.len());
}

pub async fn users_have_unique_emails_and_role_permissions<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;

    let viewer = store
        .create_user(
            &acme.ctx,
            new_user("Viewer@Acme.test", vec![SystemRole::Viewer]),
        )
        .await
        .expect("create viewer");
    assert_eq!(viewer.email.as_str(), "viewer@acme.test");
    assert_eq!(viewer.organization_id, acme.org.id);
    assert_eq!(
        store.get_user(&acme.ctx, viewer.id).await.expect("get"),
        viewer
    );
    assert_not_found(store.get_user(&other.ctx, viewer.id).await, "user");

    // Email uniqueness ignores case and spans organizations.
    assert_conflict(
        store
            .create_user(&other.ctx, new_user("VIEWER@acme.test", vec![]))
            .await,
    );

    let owner = store
        .user_permissions(&acme.ctx, acme.owner.id)
        .await
        .expect("owner permissions");
    assert_eq!(owner.len(), Permission::ALL.len());
    let viewer_permissions = store
        .user_permissions(&acme.ctx, viewer.id)
        .await
        .expect("viewer permissions");
    assert!(viewer_permissions.contains(&Permission::TasksRead));
    assert!(!viewer_permissions.contains(&Permission::TasksWrite));
    // Another organization sees no roles for this user.
    assert!(
        store
            .user_permissions(&other.ctx, viewer.id)
            .await
            .expect("permissions")
            .is_empty()
    );
}

pub async fn login_checks_the_password<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let right = Password::offered(PASSWORD);
    let wrong = Password::offered("wrong password");

    let user = store
        .verify_login(&fixture.owner.email, &right)
        .await
        .expect("verify login");
    assert_eq!(user, Some(fixture.owner.clone()));
    let refused = store
        .verify_login(&fixture.owner.email, &wrong)
        .await
        .expect("verify login");
    assert_eq!(refused, None);
    let unknown = Email::parse("nobody@acme.test").expect("email");
    assert_eq!(
        store.verify_login(&unknown, &right).await.expect("verify"),
        None
    );
    assert_eq!(store.count_users().await.expect("count"), 1);
}

pub async fn sessions_rotate_and_revoke<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let in_a_day = Utc::now() + Duration::days(1);

    store
        .create_session(&fixture.ctx, fixture.owner.id, "hash-1", in_a_day)
        .await
        .expect("create session");
    let grant = store
        .rotate_session("hash-1", "hash-2", in_a_day)
        .await
        .expect("rotate");
    assert_eq!(grant.user, fixture.owner);
    // The rotated token is spent; the new one works once.
    assert_not_found(
        store.rotate_session("hash-1", "hash-3", in_a_day).await,
        "session",
    );
    store
        .revoke_session(&fixture.ctx, "hash-2")
        .await
        .expect("revoke");
    assert_not_found(
        store.rotate_session("hash-2", "hash-4", in_a_day).await,
        "session",
    );

    // An expired session cannot be refreshed.
    store
        .create_session(
            &fixture.ctx,
            fixture.owner.id,
            "hash-old",
            Utc::now() - Duration::seconds(1),
        )
        .await
        .expect("create expired session");
    assert_not_found(
        store.rotate_session("hash-old", "hash-5", in_a_day).await,
        "session",
    );

    // Another organization cannot open a session for this user.
    let other = Fixture::create(store, "other", PASSWORD).await;
    assert_not_found(
        store
            .create_session(&other.ctx, fixture.owner.id, "hash-x", in_a_day)
            .await,
        "user",
    );
}

pub async fn instance_setting_keeps_the_first_value<S: Store + ?Sized>(store: &S) {
    let first = store
        .instance_setting_or_insert("auth.jwt_secret", "first")
        .await
        .expect("insert");
    let second = store
        .instance_setting_or_insert("auth.jwt_secret", "second")
        .await
        .expect("read");
    assert_eq!((first.as_str(), second.as_str()), ("first", "first"));
}

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
            .update_project(&other.ctx, project.id, ProjectPatch::default())
            .await,
        "project",
    );
    assert_not_found(
        store.delete_project(&other.ctx, project.id).await,
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
        .update_project(&acme.ctx, project.id, patch)
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
        .list_projects(&acme.ctx, PageRequest::default())
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
        .delete_project(&acme.ctx, project.id)
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
    assert_conflict(duplicate);
    let rename = ProjectPatch {
        name: Some(Name::parse("name", "Apollo").expect("name")),
        ..ProjectPatch::default()
    };
    assert_conflict(store.update_project(&acme.ctx, gemini.id, rename).await);
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
        )
        .await
        .expect("cancel");
    assert_eq!(cancelled.status, TaskStatus::Cancelled);

    let by_project = store
        .list_tasks(
            &fixture.ctx,
            TaskFilter {
                project_id: Some(apollo.id),
                status: None,
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
                project_id: None,
                status: Some(TaskStatus::Cancelled),
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
        .delete_task(&fixture.ctx, created.id)
        .await
        .expect("delete");
    assert_not_found(store.get_task(&fixture.ctx, created.id).await, "task");
    assert_not_found(store.delete_task(&fixture.ctx, created.id).await, "task");
}

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

    // Running is reached only by a claim.
    let refused = store
        .update_task(&fixture.ctx, created.id, to(TaskStatus::Running))
        .await;
    assert!(matches!(refused, Err(RepoError::Invalid(_))), "{refused:?}");
    store
        .update_task(&fixture.ctx, created.id, to(TaskStatus::Cancelled))
        .await
        .expect("cancel");
    // Cancelled is final, and a refused patch changes nothing.
    let refused = store
        .update_task(&fixture.ctx, created.id, to(TaskStatus::Queued))
        .await;
    assert!(matches!(refused, Err(RepoError::Invalid(_))), "{refused:?}");
    let after = store.get_task(&fixture.ctx, created.id).await.expect("get");
    assert_eq!(after.status, TaskStatus::Cancelled);
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
    let mut request = PageRequest::first(limit);
    loop {
        let page = store
            .list_tasks(&fixture.ctx, TaskFilter::default(), request)
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
            Some(cursor) => request = request.next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(seen, expected);

    let newest_first = store
        .list_tasks(
            &fixture.ctx,
            TaskFilter::default(),
            PageRequest {
                order: SortOrder::NewestFirst,
                ..PageRequest::first(limit)
            },
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

    let first = PageRequest {
        order: SortOrder::PriorityFirst,
        ..PageRequest::first(Limit::parse(2).expect("limit"))
    };
    let mut request = first;
    let mut seen = Vec::new();
    loop {
        let page = store
            .list_tasks(&fixture.ctx, TaskFilter::default(), request)
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
            Some(cursor) => request = request.next(Some(cursor)),
            None => break,
        }
    }
    assert_eq!(seen, vec!["10a", "10b", "7", "5a", "5b", "low"]);

    // A cursor of one sort order is refused by another.
    let page = store
        .list_tasks(&fixture.ctx, TaskFilter::default(), first)
        .await
        .expect("page");
    let in_creation_order = PageRequest::first(Limit::parse(2).expect("limit"));
    let mixed = store
        .list_tasks(
            &fixture.ctx,
            TaskFilter::default(),
            in_creation_order.next(page.next_cursor),
        )
        .await;
    assert!(matches!(mixed, Err(RepoError::Invalid(_))), "{mixed:?}");
    // Projects have no priority.
    let projects = store.list_projects(&fixture.ctx, first).await;
    assert!(
        matches!(projects, Err(RepoError::Invalid(_))),
        "{projects:?}"
    );
}

pub async fn task_needs_a_project_of_the_same_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let other = Fixture::create(store, "other", PASSWORD).await;
    let theirs = other.project(store, "Theirs").await;

    assert_not_found(
        store
            .create_task(&acme.ctx, task(theirs.id, "sneak in"))
            .await,
        "project",
    );
    assert_not_found(
        store
            .create_task(&acme.ctx, task(ProjectId::new(), "nowhere"))
            .await,
        "project",
    );
    let mine = store
        .create_task(&other.ctx, task(theirs.id, "theirs"))
        .await
        .expect("create");
    assert_not_found(store.get_task(&acme.ctx, mine.id).await, "task");
    assert_not_found(
        store
            .update_task(&acme.ctx, mine.id, TaskPatch::default())
            .await,
        "task",
    );
    assert_not_found(store.delete_task(&acme.ctx, mine.id).await, "task");
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
        .delete_project(&fixture.ctx, project.id)
        .await
        .expect("delete project");
    assert_not_found(store.get_task(&fixture.ctx, created.id).await, "task");

    let log = store
        .list_audit(
            &fixture.ctx,
            PageRequest {
                order: SortOrder::NewestFirst,
                ..PageRequest::default()
            },
        )
        .await
        .expect("audit");
    let deletion = &log.items[0];
    assert_eq!(deletion.action, "project.delete");
    assert_eq!(deletion.changes["deleted_tasks"], json!([created.id]));
    assert_eq!(deletion.changes["deleted_task_count"], json!(1));
}

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

pub async fn health_reports_backend_and_migrations<S: Store + ?Sized>(store: &S) {
    let health = store.health().await.expect("health");
    assert!(health.pending_migrations.is_empty(), "{health:?}");
    assert_eq!(health.backend, store.backend());
    assert!(matches!(
        health.backend,
        Backend::Sqlite | Backend::Postgres
    ));
    assert!(health.pool_connections >= 1);
}
