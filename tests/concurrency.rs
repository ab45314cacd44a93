//! Many writers at once through one pool: on a SQLite file (several connections, WAL, immediate
//! write transactions) and on PostgreSQL, every write lands once, with its audit row,
//! concurrent versions of one workflow get consecutive numbers, concurrent votes on a proposal
//! and on a brainstorm's idea all count, a voter keeps one vote, and the checks that span rows
//! (an organization keeps an active owner) hold.

use std::sync::Arc;

use chrono::Utc;
use orchestore_domain::{
    AgentKind, Eligibility, NewAgent, NewProposal, OptionLabel, Participant, ProposalBody,
    ProposalChoices, ProposalSchedule, ProposalTitle, Quorum, Threshold, Vote,
};
use orchestore_domain::{
    Description, Email, Name, NewTask, NewUser, NewWorkflow, Password, PasswordHash, Priority,
    SystemRole, TaskPatch, Title, WorkflowDefinition,
};
use orchestore_repo::{
    AgentRepo, AuditFilter, AuditRepo, Limit, PageRequest, ProposalRepo, RepoError, RoleRepo,
    Store, TaskFilter, TaskRepo, UserFilter, UserRepo, WorkflowRepo, WorkflowVersionSort,
};
use orchestore_sea::SeaStore;
use orchestore_testkit::{Fixture, TEST_BCRYPT_COST, TestDb};
use tokio::task::JoinSet;

const WRITERS: usize = 32;

async fn concurrent_writers(store: SeaStore) {
    let store = Arc::new(store);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let project = fixture.project(store.as_ref(), "Apollo").await;
    let ctx = Arc::new(fixture.ctx.clone());

    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        writers.spawn(async move {
            let title = Title::parse(&format!("task {n}")).expect("title");
            let task = store
                .create_task(&ctx, NewTask::titled(project.id, title))
                .await?;
            let patch = TaskPatch {
                priority: Some(Priority::parse(n as i64).expect("priority")),
                ..TaskPatch::default()
            };
            store.update_task(&ctx, task.id, patch, None).await
        });
    }
    let mut updated = Vec::new();
    while let Some(joined) = writers.join_next().await {
        updated.push(joined.expect("writer task").expect("write"));
    }
    assert_eq!(updated.len(), WRITERS);

    let all = store
        .list_tasks(
            &ctx,
            TaskFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("list");
    assert_eq!(all.items.len(), WRITERS);
    let mut priorities: Vec<i32> = all.items.iter().map(|t| t.priority.get()).collect();
    priorities.sort_unstable();
    assert_eq!(priorities, (0..WRITERS as i32).collect::<Vec<_>>());

    // organization, owner, project, then a create and an update per writer.
    let audit = store
        .list_audit(
            &ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit");
    assert_eq!(audit.items.len(), 3 + 2 * WRITERS);
    assert!(
        store
            .health()
            .await
            .expect("health")
            .pending_migrations
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_concurrent_writers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    concurrent_writers(db.store().clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_writers() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    concurrent_writers(db.store().clone()).await;
}

const OWNERS: usize = 8;

/// Every owner steps down at once, half by deactivation and half by giving up the owner role:
/// each change checks that another active owner remains, and the checks are serialized, so
/// exactly one owner is left whatever the interleaving.
async fn owners_step_down_one_at_a_time(store: SeaStore) {
    let store = Arc::new(store);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let ctx = Arc::new(fixture.ctx.clone());
    let password = Password::parse("correct horse battery").expect("password");
    let mut owners = vec![fixture.owner.id];
    for n in 1..OWNERS {
        let user = store
            .create_user(
                &ctx,
                NewUser {
                    email: Email::parse(&format!("owner{n}@acme.test")).expect("email"),
                    username: None,
                    display_name: Name::parse("display_name", "Owner").expect("name"),
                    password_hash: PasswordHash::hash(&password, TEST_BCRYPT_COST).expect("hash"),
                    roles: vec![SystemRole::Owner.into()],
                },
            )
            .await
            .expect("owner");
        owners.push(user.id);
    }
    let owner_role = store
        .find_role_by_code(&ctx, &SystemRole::Owner.into())
        .await
        .expect("find")
        .expect("the owner role");

    let mut steps = JoinSet::new();
    for (n, owner) in owners.into_iter().enumerate() {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        steps.spawn(async move {
            if n % 2 == 0 {
                store.set_user_active(&ctx, owner, false).await.map(|_| ())
            } else {
                store.remove_role(&ctx, owner, owner_role.id).await
            }
        });
    }
    let (mut done, mut refused) = (0, 0);
    while let Some(joined) = steps.join_next().await {
        match joined.expect("step task") {
            Ok(()) => done += 1,
            Err(RepoError::Conflict { reason, .. }) => {
                assert!(reason.contains("last active owner"), "{reason}");
                refused += 1;
            }
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((done, refused), (OWNERS - 1, 1));
    let left = store
        .list_users(
            &ctx,
            UserFilter {
                active: Some(true),
                role: Some(owner_role.id),
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(left.items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_owners_step_down_one_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    owners_step_down_one_at_a_time(db.store().clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_owners_step_down_one_at_a_time() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    owners_step_down_one_at_a_time(db.store().clone()).await;
}

/// Writers that all add a version to the same workflow at once: each gets its own number, the
/// numbers run 1..=n with no gap and no duplicate, and the workflow's latest is the highest.
async fn concurrent_versions(store: SeaStore) {
    let store = Arc::new(store);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let ctx = Arc::new(fixture.ctx.clone());
    let workflow = store
        .create_workflow(
            &ctx,
            NewWorkflow {
                name: Name::parse("name", "Release").expect("name"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");

    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        writers.spawn(async move {
            let steps = serde_json::json!({"steps": [{"name": format!("step-{n}")}]});
            let definition = WorkflowDefinition::parse(steps).expect("definition");
            store.create_version(&ctx, workflow.id, definition).await
        });
    }
    let mut numbers = Vec::new();
    while let Some(joined) = writers.join_next().await {
        numbers.push(joined.expect("writer task").expect("version").version);
    }
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=WRITERS as u32).collect::<Vec<_>>());

    let latest = store
        .get_workflow(&ctx, workflow.id)
        .await
        .expect("workflow");
    assert_eq!(latest.latest_version, Some(WRITERS as u32));
    let stored = store
        .list_versions(
            &ctx,
            workflow.id,
            PageRequest::first(Limit::parse(200).expect("limit"))
                .sorted(WorkflowVersionSort::VersionDesc),
        )
        .await
        .expect("versions");
    assert_eq!(stored.items.len(), WRITERS);
    assert_eq!(stored.items[0].version, WRITERS as u32);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_concurrent_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    concurrent_versions(db.store().clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_versions() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    concurrent_versions(db.store().clone()).await;
}

/// Every voter of a proposal votes at once: no vote is lost and each is audited; then one
/// voter's changes race each other: it keeps one vote, the last to commit.
async fn concurrent_votes(store: SeaStore) {
    let store = Arc::new(store);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let ctx = Arc::new(fixture.ctx.clone());
    let new = NewProposal {
        title: ProposalTitle::parse("Ship on Fridays").expect("title"),
        body: ProposalBody::empty(),
        choices: ProposalChoices::yes_no(),
        schedule: ProposalSchedule::parse(None, Utc::now() + chrono::Duration::hours(1))
            .expect("schedule"),
        quorum: Quorum::parse(WRITERS as i64).expect("quorum"),
        threshold: Threshold::parse(0.5).expect("threshold"),
        eligibility: Eligibility::everyone(),
        allow_vote_change: true,
    };
    let proposal = store.create_proposal(&ctx, new).await.expect("proposal");
    let mut voters = Vec::with_capacity(WRITERS);
    for n in 0..WRITERS {
        let name = Name::parse("name", &format!("voter {n}")).expect("name");
        let agent = store
            .create_agent(&ctx, NewAgent::named(name, AgentKind::Ai))
            .await
            .expect("agent");
        voters.push(Participant::Agent(agent.id));
    }
    let label = |text: &str| OptionLabel::parse(text).expect("option");

    let mut writers = JoinSet::new();
    for (n, voter) in voters.iter().copied().enumerate() {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        let option = label(if n % 4 == 0 { "no" } else { "yes" });
        writers.spawn(async move { store.cast_vote(&ctx, proposal.id, voter, option).await });
    }
    while let Some(joined) = writers.join_next().await {
        joined.expect("writer task").expect("vote");
    }
    let counted = store.get_proposal(&ctx, proposal.id).await.expect("get");
    assert_eq!(counted.votes_cast, WRITERS as u32);
    let tallies: Vec<u32> = counted.tallies.iter().map(|t| t.votes).collect();
    assert_eq!(tallies, [WRITERS as u32 * 3 / 4, WRITERS as u32 / 4]);
    let votes = AuditFilter {
        action: Some("proposal.vote".to_owned()),
        ..AuditFilter::default()
    };
    let audited = store
        .list_audit(
            &ctx,
            votes,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit");
    assert_eq!(audited.items.len(), WRITERS);

    // One voter, many changes at once (its first vote among them): one row, every change
    // after the first audited, and the row holds the option of the last change written.
    let fickle = voters[0];
    let mut writers = JoinSet::new();
    for n in 0..WRITERS {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        let option = label(if n % 2 == 0 { "yes" } else { "no" });
        writers.spawn(async move { store.cast_vote(&ctx, proposal.id, fickle, option).await });
    }
    while let Some(joined) = writers.join_next().await {
        joined.expect("writer task").expect("vote or change");
    }
    let listed = store
        .list_votes(
            &ctx,
            proposal.id,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("votes");
    assert_eq!(listed.items.len(), WRITERS);
    let mine: Vec<&Vote> = listed.items.iter().filter(|v| v.voter == fickle).collect();
    assert_eq!(mine.len(), 1);
    let counted = store.get_proposal(&ctx, proposal.id).await.expect("get");
    assert_eq!(counted.votes_cast, WRITERS as u32);
    let changes = AuditFilter {
        action: Some("proposal.vote_change".to_owned()),
        ..AuditFilter::default()
    };
    let last = store
        .list_audit(
            &ctx,
            changes,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit")
        .items
        .into_iter()
        .last();
    if let Some(last) = last {
        assert_eq!(last.changes["to"], mine[0].option.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_concurrent_votes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    concurrent_votes(db.store().clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_votes() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    concurrent_votes(db.store().clone()).await;
}

/// 32 voters, each an agent, vote for one idea at once, each in its own task: every vote
/// lands once, with its audit row, and the idea's kept count is 32 (added in the database in
/// each vote's transaction, never read, incremented and written back).
async fn concurrent_idea_votes(store: SeaStore) {
    use orchestore_domain::{
        AgentKind, BrainstormTopic, IdeaText, NewAgent, NewBrainstorm, NewIdea, Participant,
    };
    use orchestore_repo::{AgentRepo, BrainstormRepo};

    let store = Arc::new(store);
    let fixture = Fixture::create(store.as_ref(), "acme", "correct horse battery").await;
    let ctx = Arc::new(fixture.ctx.clone());
    let mut voters = Vec::new();
    for n in 0..WRITERS {
        let name = Name::parse("name", &format!("voter {n}")).expect("name");
        let agent = store
            .create_agent(&ctx, NewAgent::named(name, AgentKind::Ai))
            .await
            .expect("agent");
        voters.push(Participant::Agent(agent.id));
    }
    let brainstorm = store
        .create_brainstorm(
            &ctx,
            NewBrainstorm {
                topic: BrainstormTopic::parse("release names").expect("topic"),
                description: Description::empty(),
                facilitator: Participant::User(fixture.owner.id),
                project_id: None,
            },
        )
        .await
        .expect("brainstorm");
    let idea = store
        .add_brainstorm_idea(
            &ctx,
            brainstorm.id,
            NewIdea {
                author: Participant::User(fixture.owner.id),
                text: IdeaText::parse("Nova").expect("text"),
            },
        )
        .await
        .expect("idea");

    let mut writers = JoinSet::new();
    for voter in voters {
        let (store, ctx) = (Arc::clone(&store), Arc::clone(&ctx));
        writers.spawn(async move {
            store
                .vote_for_idea(&ctx, brainstorm.id, idea.id, voter)
                .await
        });
    }
    let mut counts = Vec::new();
    while let Some(joined) = writers.join_next().await {
        counts.push(joined.expect("voter task").expect("vote").votes);
    }
    // Each vote saw its own count: 1 to 32, each once.
    counts.sort_unstable();
    assert_eq!(counts, (1..=WRITERS as i64).collect::<Vec<_>>());

    let top = store
        .top_brainstorm_ideas(&ctx, brainstorm.id, Limit::default())
        .await
        .expect("top ideas");
    assert_eq!(top[0].votes, WRITERS as i64);
    let stats = store
        .brainstorm_stats(&ctx, brainstorm.id)
        .await
        .expect("stats");
    assert_eq!(
        (stats.ideas, stats.votes, stats.participants),
        (1, WRITERS as i64, WRITERS as i64 + 1)
    );
    let audit = store
        .list_audit(
            &ctx,
            AuditFilter {
                action: Some("brainstorm_idea_vote.create".to_owned()),
                ..AuditFilter::default()
            },
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit");
    assert_eq!(audit.items.len(), WRITERS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_concurrent_idea_votes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = TestDb::sqlite_file(dir.path()).await;
    concurrent_idea_votes(db.store().clone()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_idea_votes() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    concurrent_idea_votes(db.store().clone()).await;
}
