//! Brainstorms: ideas and votes while open, nothing once closed, votes counted exactly.

use orchestore_domain::{
    BrainstormId, BrainstormIdea, BrainstormIdeaId, BrainstormStatus, BrainstormTopic, Description,
    IdeaText, NewBrainstorm, NewIdea, Participant,
};
use orchestore_repo::{
    AuditFilter, BrainstormFilter, BrainstormIdeaSort, BrainstormSort, Limit, PageRequest,
    RepoResult, Store,
};

use super::{Boxed, agent, all_at_once};
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_not_found, assert_reference};

fn brainstorm(facilitator: impl Into<Participant>, topic: &str) -> NewBrainstorm {
    NewBrainstorm {
        topic: BrainstormTopic::parse(topic).expect("topic"),
        description: Description::parse("description", "what to call the release").expect("d"),
        facilitator: facilitator.into(),
        project_id: None,
    }
}

fn idea(author: impl Into<Participant>, text: &str) -> NewIdea {
    NewIdea {
        author: author.into(),
        text: IdeaText::parse(text).expect("text"),
    }
}

fn texts(ideas: &[BrainstormIdea]) -> Vec<(&str, i64)> {
    ideas.iter().map(|i| (i.text.as_str(), i.votes)).collect()
}

pub async fn brainstorms_gather_ideas_and_votes<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let owner = Participant::User(acme.owner.id);
    let project = acme.project(store, "release").await;

    let session = store
        .create_brainstorm(
            ctx,
            NewBrainstorm {
                project_id: Some(project.id),
                ..brainstorm(ada.id, "Release names")
            },
        )
        .await
        .expect("create");
    assert_eq!(session.status, BrainstormStatus::Open);
    assert_eq!(session.facilitator, Participant::Agent(ada.id));
    assert_eq!(session.closed_at, None);
    assert_eq!(
        store.get_brainstorm(ctx, session.id).await.expect("get"),
        session
    );
    let other = store
        .create_brainstorm(ctx, brainstorm(owner, "Mascots"))
        .await
        .expect("create");

    let nova = store
        .add_brainstorm_idea(ctx, session.id, idea(ada.id, "Nova"))
        .await
        .expect("idea");
    assert_eq!((nova.votes, nova.author), (0, Participant::Agent(ada.id)));
    let orbit = store
        .add_brainstorm_idea(ctx, session.id, idea(owner, "Orbit"))
        .await
        .expect("idea");
    let pulse = store
        .add_brainstorm_idea(ctx, session.id, idea(bob.id, "Pulse"))
        .await
        .expect("idea");

    // Orbit gets two votes, Pulse and Nova one each: Orbit first, then the older of the two.
    let vote = async |idea: BrainstormIdeaId, voter: Participant| {
        store
            .vote_for_idea(ctx, session.id, idea, voter)
            .await
            .expect("vote")
    };
    assert_eq!(vote(orbit.id, ada.id.into()).await.votes, 1);
    assert_eq!(vote(orbit.id, bob.id.into()).await.votes, 2);
    vote(pulse.id, owner).await;
    vote(nova.id, owner).await;
    let top = store
        .top_brainstorm_ideas(ctx, session.id, Limit::default())
        .await
        .expect("top");
    assert_eq!(texts(&top), [("Orbit", 2), ("Nova", 1), ("Pulse", 1)]);
    let first_two = store
        .top_brainstorm_ideas(ctx, session.id, Limit::parse(2).expect("limit"))
        .await
        .expect("top");
    assert_eq!(texts(&first_two), [("Orbit", 2), ("Nova", 1)]);

    // A withdrawn vote leaves the count in the same transaction.
    let withdrawn = store
        .withdraw_idea_vote(ctx, session.id, nova.id, owner)
        .await
        .expect("withdraw");
    assert_eq!(withdrawn.votes, 0);
    let top = store
        .top_brainstorm_ideas(ctx, session.id, Limit::default())
        .await
        .expect("top");
    assert_eq!(texts(&top), [("Orbit", 2), ("Pulse", 1), ("Nova", 0)]);

    // Ideas: 3; votes: 3; participants: ada, bob, the owner (authors and voters, once each).
    let stats = store
        .brainstorm_stats(ctx, session.id)
        .await
        .expect("stats");
    assert_eq!((stats.ideas, stats.votes, stats.participants), (3, 3, 3));
    let empty = store.brainstorm_stats(ctx, other.id).await.expect("stats");
    assert_eq!((empty.ideas, empty.votes, empty.participants), (0, 0, 0));

    let listed = store
        .list_brainstorm_ideas(ctx, session.id, PageRequest::default())
        .await
        .expect("ideas");
    let order: Vec<&str> = listed.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(order, ["Nova", "Orbit", "Pulse"]);
    let latest = store
        .list_brainstorm_ideas(
            ctx,
            session.id,
            PageRequest::first(Limit::parse(1).expect("limit"))
                .sorted(BrainstormIdeaSort::CreatedAtDesc),
        )
        .await
        .expect("ideas");
    assert_eq!(latest.items[0].id, pulse.id);
    assert!(latest.next_cursor.is_some());

    let by_project = store
        .list_brainstorms(
            ctx,
            BrainstormFilter {
                project_id: Some(project.id),
                ..BrainstormFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(by_project.items, vec![session.clone()]);
    let all = store
        .list_brainstorms(
            ctx,
            BrainstormFilter::default(),
            PageRequest::default().sorted(BrainstormSort::CreatedAt),
        )
        .await
        .expect("list");
    assert_eq!(all.items, vec![session.clone(), other.clone()]);

    // Each brainstorm, idea, vote and withdrawal is audited.
    let audit = store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit");
    let actions = |action: &str| audit.items.iter().filter(|r| r.action == action).count();
    assert_eq!(actions("brainstorm.create"), 2);
    assert_eq!(actions("brainstorm_idea.create"), 3);
    assert_eq!(actions("brainstorm_idea_vote.create"), 4);
    assert_eq!(actions("brainstorm_idea_vote.delete"), 1);
}

pub async fn a_closed_brainstorm_takes_no_ideas_or_votes<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let session = store
        .create_brainstorm(ctx, brainstorm(ada.id, "Names"))
        .await
        .expect("create");
    let nova = store
        .add_brainstorm_idea(ctx, session.id, idea(ada.id, "Nova"))
        .await
        .expect("idea");
    store
        .vote_for_idea(ctx, session.id, nova.id, ada.id.into())
        .await
        .expect("vote");

    let closed = store
        .close_brainstorm(ctx, session.id)
        .await
        .expect("close");
    assert_eq!(closed.status, BrainstormStatus::Closed);
    assert!(closed.closed_at.is_some());
    assert_conflict(store.close_brainstorm(ctx, session.id).await, None);
    assert_conflict(
        store
            .add_brainstorm_idea(ctx, session.id, idea(ada.id, "Late"))
            .await,
        None,
    );
    let owner = Participant::User(acme.owner.id);
    assert_conflict(
        store.vote_for_idea(ctx, session.id, nova.id, owner).await,
        None,
    );
    assert_conflict(
        store
            .withdraw_idea_vote(ctx, session.id, nova.id, ada.id.into())
            .await,
        None,
    );
    // Nothing was written: its ideas and votes are as they were when it closed.
    let stats = store
        .brainstorm_stats(ctx, session.id)
        .await
        .expect("stats");
    assert_eq!((stats.ideas, stats.votes, stats.participants), (1, 1, 1));
    assert_eq!(
        store.get_brainstorm(ctx, session.id).await.expect("get"),
        closed
    );
    let closed_list = store
        .list_brainstorms(
            ctx,
            BrainstormFilter {
                status: Some(BrainstormStatus::Closed),
                ..BrainstormFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(closed_list.items, vec![closed]);

    // Two closes at once: one lands, the other is a conflict.
    let again = store
        .create_brainstorm(ctx, brainstorm(ada.id, "Mascots"))
        .await
        .expect("create");
    let (first, second) = tokio::join!(
        store.close_brainstorm(ctx, again.id),
        store.close_brainstorm(ctx, again.id),
    );
    let lost = match (first, second) {
        (Ok(_), lost) | (lost, Ok(_)) => lost,
        other => panic!("one close must land: {other:?}"),
    };
    assert_conflict(lost, None);
}

pub async fn brainstorm_input_is_checked<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let ghost = orchestore_domain::AgentId::new();
    assert_reference(
        store
            .create_brainstorm(ctx, brainstorm(ghost, "Names"))
            .await,
        "facilitator",
    );
    assert_reference(
        store
            .create_brainstorm(
                ctx,
                NewBrainstorm {
                    project_id: Some(orchestore_domain::ProjectId::new()),
                    ..brainstorm(ada.id, "Names")
                },
            )
            .await,
        "project_id",
    );
    let session = store
        .create_brainstorm(ctx, brainstorm(ada.id, "Names"))
        .await
        .expect("create");
    let other = store
        .create_brainstorm(ctx, brainstorm(ada.id, "Mascots"))
        .await
        .expect("create");
    assert_reference(
        store
            .add_brainstorm_idea(ctx, session.id, idea(ghost, "Nova"))
            .await,
        "author",
    );
    let nova = store
        .add_brainstorm_idea(ctx, session.id, idea(ada.id, "Nova"))
        .await
        .expect("idea");
    assert_reference(
        store
            .vote_for_idea(ctx, session.id, nova.id, ghost.into())
            .await,
        "voter",
    );
    // One vote per voter and idea: the second is refused and counts nothing.
    store
        .vote_for_idea(ctx, session.id, nova.id, ada.id.into())
        .await
        .expect("vote");
    assert_conflict(
        store
            .vote_for_idea(ctx, session.id, nova.id, ada.id.into())
            .await,
        Some("voter"),
    );
    // An idea is reached through its own brainstorm only.
    assert_not_found(
        store
            .vote_for_idea(ctx, other.id, nova.id, ada.id.into())
            .await,
        "brainstorm_idea",
    );
    let owner = Participant::User(acme.owner.id);
    assert_not_found(
        store
            .withdraw_idea_vote(ctx, session.id, nova.id, owner)
            .await,
        "brainstorm_idea_vote",
    );
    let top = store
        .top_brainstorm_ideas(ctx, session.id, Limit::default())
        .await
        .expect("top");
    assert_eq!(texts(&top), [("Nova", 1)]);
    let stats = store
        .brainstorm_stats(ctx, session.id)
        .await
        .expect("stats");
    assert_eq!((stats.ideas, stats.votes, stats.participants), (1, 1, 1));

    let unknown = BrainstormId::new();
    assert_not_found(store.get_brainstorm(ctx, unknown).await, "brainstorm");
    assert_not_found(store.close_brainstorm(ctx, unknown).await, "brainstorm");
    assert_not_found(
        store
            .add_brainstorm_idea(ctx, unknown, idea(ada.id, "x"))
            .await,
        "brainstorm",
    );
    assert_not_found(store.brainstorm_stats(ctx, unknown).await, "brainstorm");
    assert_not_found(
        store
            .top_brainstorm_ideas(ctx, unknown, Limit::default())
            .await,
        "brainstorm",
    );
    assert_not_found(
        store
            .list_brainstorm_ideas(ctx, unknown, PageRequest::default())
            .await,
        "brainstorm",
    );
    assert_not_found(
        store
            .vote_for_idea(ctx, session.id, BrainstormIdeaId::new(), ada.id.into())
            .await,
        "brainstorm_idea",
    );
}

/// 32 voters vote for one idea at once: every vote counts; and one voter's 8 votes at once
/// for another idea: one lands, the rest are conflicts.
pub async fn concurrent_votes_never_lose_an_update<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let mut voters = Vec::new();
    for n in 0..32 {
        voters.push(agent(store, ctx, &format!("voter {n}")).await.id);
    }
    let session = store
        .create_brainstorm(ctx, brainstorm(voters[0], "Names"))
        .await
        .expect("create");
    let nova = store
        .add_brainstorm_idea(ctx, session.id, idea(voters[0], "Nova"))
        .await
        .expect("idea");
    let writers: Vec<Boxed<'_, RepoResult<BrainstormIdea>>> = voters
        .iter()
        .map(|voter| {
            Box::pin(store.vote_for_idea(ctx, session.id, nova.id, (*voter).into())) as Boxed<'_, _>
        })
        .collect();
    for outcome in all_at_once(writers).await {
        outcome.expect("vote");
    }
    let top = store
        .top_brainstorm_ideas(ctx, session.id, Limit::default())
        .await
        .expect("top");
    assert_eq!(texts(&top), [("Nova", 32)]);

    let orbit = store
        .add_brainstorm_idea(ctx, session.id, idea(voters[0], "Orbit"))
        .await
        .expect("idea");
    let twice: Vec<Boxed<'_, RepoResult<BrainstormIdea>>> = (0..8)
        .map(|_| {
            Box::pin(store.vote_for_idea(ctx, session.id, orbit.id, voters[1].into()))
                as Boxed<'_, _>
        })
        .collect();
    let outcomes = all_at_once(twice).await;
    assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    for outcome in outcomes.into_iter().filter(Result::is_err) {
        assert_conflict(outcome, Some("voter"));
    }
    let stats = store
        .brainstorm_stats(ctx, session.id)
        .await
        .expect("stats");
    assert_eq!((stats.ideas, stats.votes, stats.participants), (2, 33, 32));
}
