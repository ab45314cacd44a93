//! Proposals and votes: tallies, eligibility, closing by time against a fixed clock and by
//! hand, results written once, and refusals that write nothing.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use orchestore_domain::{
    AgentId, AgentKind, ClosedBy, Eligibility, Name, NewAgent, NewProposal, OptionLabel,
    Participant, Proposal, ProposalBody, ProposalChoices, ProposalId, ProposalResult,
    ProposalSchedule, ProposalStatus, ProposalTitle, Quorum, RoleCode, SystemRole, Threshold,
    UserId,
};
use orchestore_repo::{AuditFilter, Ctx, PageRequest, ProposalFilter, RepoError, Store};

use super::{agent, all_at_once};
use crate::Fixture;
use crate::cases::{
    PASSWORD, assert_conflict, assert_invalid, assert_not_found, assert_reference, new_user,
};

/// A proposal of `choices` closing at `closes_at`, open to everyone, votes changeable.
fn proposal(
    choices: ProposalChoices,
    closes_at: DateTime<Utc>,
    quorum: i64,
    threshold: f64,
) -> NewProposal {
    NewProposal {
        title: ProposalTitle::parse("Adopt the new review rota").expect("title"),
        body: ProposalBody::parse("Two reviewers per change.").expect("body"),
        choices,
        schedule: ProposalSchedule::parse(None, closes_at).expect("schedule"),
        quorum: Quorum::parse(quorum).expect("quorum"),
        threshold: Threshold::parse(threshold).expect("threshold"),
        eligibility: Eligibility::everyone(),
        allow_vote_change: true,
    }
}

fn label(text: &str) -> OptionLabel {
    OptionLabel::parse(text).expect("label")
}

/// In whole seconds, as a client would name a time.
fn in_an_hour() -> DateTime<Utc> {
    (Utc::now() + Duration::hours(1)).trunc_subsecs(0)
}

fn tallies(proposal: &Proposal) -> Vec<(&str, u32)> {
    proposal
        .tallies
        .iter()
        .map(|t| (t.option.as_str(), t.votes))
        .collect()
}

async fn agent_of_kind<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    name: &str,
    kind: AgentKind,
) -> AgentId {
    store
        .create_agent(
            ctx,
            NewAgent::named(Name::parse("name", name).expect("name"), kind),
        )
        .await
        .expect("agent")
        .id
}

async fn user<S: Store + ?Sized>(
    store: &S,
    ctx: &Ctx,
    email: &str,
    roles: Vec<SystemRole>,
) -> UserId {
    store
        .create_user(ctx, new_user(email, roles))
        .await
        .expect("user")
        .id
}

/// The audit actions about proposal `id`, oldest first.
async fn actions<S: Store + ?Sized>(store: &S, ctx: &Ctx, id: ProposalId) -> Vec<String> {
    let filter = AuditFilter {
        entity_id: Some(id.to_string()),
        ..AuditFilter::default()
    };
    let rows = store
        .list_audit(ctx, filter, PageRequest::default())
        .await
        .expect("audit")
        .items;
    rows.into_iter().map(|row| row.action).collect()
}

pub async fn votes_are_tallied_changed_in_place_and_audited<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let owner = Participant::User(acme.owner.id);

    let created = store
        .create_proposal(
            ctx,
            proposal(ProposalChoices::yes_no(), in_an_hour(), 2, 0.5),
        )
        .await
        .expect("create");
    assert_eq!(created.status, ProposalStatus::Open);
    assert_eq!(tallies(&created), [("yes", 0), ("no", 0)]);
    assert_eq!(created.opens_at, created.created_at);
    assert_eq!(
        store.get_proposal(ctx, created.id).await.expect("get"),
        created
    );

    let id = created.id;
    let first = store
        .cast_vote(ctx, id, Participant::Agent(ada.id), label("yes"))
        .await
        .expect("vote");
    assert_eq!((first.option.as_str(), first.changed_at), ("yes", None));
    store
        .cast_vote(ctx, id, Participant::Agent(bob.id), label("no"))
        .await
        .expect("vote");
    store
        .cast_vote(ctx, id, owner, label("no"))
        .await
        .expect("vote");
    // Readable while open.
    let open = store.get_proposal(ctx, id).await.expect("get");
    assert_eq!(
        (tallies(&open), open.votes_cast),
        (vec![("yes", 1), ("no", 2)], 3)
    );

    // The owner changes its mind: the vote is replaced, not added.
    let changed = store
        .cast_vote(ctx, id, owner, label("yes"))
        .await
        .expect("change");
    assert!(changed.changed_at >= Some(changed.cast_at));
    // The same option again changes nothing.
    let same = store
        .cast_vote(ctx, id, owner, label("yes"))
        .await
        .expect("same");
    assert_eq!(same, changed);
    let open = store.get_proposal(ctx, id).await.expect("get");
    assert_eq!(
        (tallies(&open), open.votes_cast),
        (vec![("yes", 2), ("no", 1)], 3)
    );
    let votes = store
        .list_votes(ctx, id, PageRequest::default())
        .await
        .expect("votes");
    assert_eq!(votes.items.len(), 3);
    assert!(votes.items.contains(&changed));

    let listed = store
        .list_proposals(
            ctx,
            ProposalFilter {
                status: Some(ProposalStatus::Open),
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(listed.items, std::slice::from_ref(&open));
    let closed = store
        .list_proposals(
            ctx,
            ProposalFilter {
                status: Some(ProposalStatus::Closed),
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert!(closed.items.is_empty());

    // Every vote and change is audited, the unchanged one is not.
    assert_eq!(
        actions(store, ctx, id).await,
        [
            "proposal.create",
            "proposal.vote",
            "proposal.vote",
            "proposal.vote",
            "proposal.vote_change"
        ]
    );
}

pub async fn bad_proposals_and_votes_are_refused_and_write_nothing<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;

    let past = proposal(
        ProposalChoices::yes_no(),
        Utc::now() - Duration::seconds(1),
        1,
        0.5,
    );
    assert_invalid(store.create_proposal(ctx, past).await, "closes_at");
    let mut unknown_role = proposal(ProposalChoices::yes_no(), in_an_hour(), 1, 0.5);
    unknown_role.eligibility = Eligibility::parse(
        vec![RoleCode::parse("eligible_roles", "release-manager").expect("code")],
        vec![],
    )
    .expect("eligibility");
    assert_reference(
        store.create_proposal(ctx, unknown_role).await,
        "eligible_roles",
    );
    let listed = store
        .list_proposals(ctx, ProposalFilter::default(), PageRequest::default())
        .await
        .expect("list");
    assert!(
        listed.items.is_empty(),
        "nothing written by the refused creations"
    );

    let mut once = proposal(ProposalChoices::yes_no(), in_an_hour(), 1, 0.5);
    once.allow_vote_change = false;
    let once = store.create_proposal(ctx, once).await.expect("create");
    let voter = Participant::Agent(ada.id);
    store
        .cast_vote(ctx, once.id, voter, label("yes"))
        .await
        .expect("vote");
    assert_conflict(
        store.cast_vote(ctx, once.id, voter, label("no")).await,
        Some("voter"),
    );
    assert_conflict(
        store.cast_vote(ctx, once.id, voter, label("yes")).await,
        Some("voter"),
    );
    assert_invalid(
        store
            .cast_vote(
                ctx,
                once.id,
                Participant::User(acme.owner.id),
                label("maybe"),
            )
            .await,
        "option",
    );
    assert_reference(
        store
            .cast_vote(
                ctx,
                once.id,
                Participant::Agent(AgentId::new()),
                label("yes"),
            )
            .await,
        "voter",
    );
    assert_not_found(
        store
            .cast_vote(ctx, ProposalId::new(), voter, label("yes"))
            .await,
        "proposal",
    );

    // Not open yet.
    let mut later = proposal(ProposalChoices::yes_no(), in_an_hour(), 1, 0.5);
    later.schedule =
        ProposalSchedule::parse(Some(Utc::now() + Duration::minutes(30)), in_an_hour())
            .expect("schedule");
    let later = store.create_proposal(ctx, later).await.expect("create");
    assert_conflict(
        store.cast_vote(ctx, later.id, voter, label("yes")).await,
        None,
    );

    let after = store.get_proposal(ctx, once.id).await.expect("get");
    assert_eq!(tallies(&after), [("yes", 1), ("no", 0)]);
    assert_eq!(
        store
            .get_proposal(ctx, later.id)
            .await
            .expect("get")
            .votes_cast,
        0
    );
    assert_eq!(
        actions(store, ctx, once.id).await,
        ["proposal.create", "proposal.vote"]
    );
}

pub async fn eligibility_admits_roles_and_agent_kinds<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let developer = user(store, ctx, "dev@acme.test", vec![SystemRole::Developer]).await;
    let viewer = user(store, ctx, "viewer@acme.test", vec![SystemRole::Viewer]).await;
    let bot = agent_of_kind(store, ctx, "ci", AgentKind::Bot).await;
    let model = agent_of_kind(store, ctx, "model", AgentKind::Ai).await;

    let mut both = proposal(ProposalChoices::yes_no(), in_an_hour(), 1, 0.5);
    both.eligibility = Eligibility::parse(vec![SystemRole::Developer.into()], vec![AgentKind::Bot])
        .expect("eligibility");
    let both = store.create_proposal(ctx, both).await.expect("create");
    for voter in [Participant::User(developer), Participant::Agent(bot)] {
        store
            .cast_vote(ctx, both.id, voter, label("yes"))
            .await
            .expect("an eligible voter");
    }
    for voter in [
        Participant::User(viewer),
        Participant::User(acme.owner.id),
        Participant::Agent(model),
    ] {
        assert_invalid(
            store.cast_vote(ctx, both.id, voter, label("yes")).await,
            "voter",
        );
    }

    // Roles only: no agent votes.
    let mut users_only = proposal(ProposalChoices::yes_no(), in_an_hour(), 1, 0.5);
    users_only.eligibility =
        Eligibility::parse(vec![SystemRole::Owner.into()], vec![]).expect("eligibility");
    let users_only = store
        .create_proposal(ctx, users_only)
        .await
        .expect("create");
    assert_invalid(
        store
            .cast_vote(ctx, users_only.id, Participant::Agent(bot), label("no"))
            .await,
        "voter",
    );
    store
        .cast_vote(
            ctx,
            users_only.id,
            Participant::User(acme.owner.id),
            label("no"),
        )
        .await
        .expect("the owner");
    assert_eq!(
        store
            .get_proposal(ctx, both.id)
            .await
            .expect("get")
            .votes_cast,
        2
    );
}

pub async fn due_proposals_close_once_by_the_clock<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let voters = [
        Participant::Agent(agent(store, ctx, "ada").await.id),
        Participant::Agent(agent(store, ctx, "bob").await.id),
        Participant::Agent(agent(store, ctx, "cy").await.id),
    ];
    let closes_at = in_an_hour();
    // Quorum 3, two thirds (0.6666): passed at 2 of 3 yes, rejected at 1 of 3, no quorum at 2
    // votes; a choice whose leader has 2 of 3.
    let create = async |choices: ProposalChoices, quorum: i64| {
        store
            .create_proposal(ctx, proposal(choices, closes_at, quorum, 0.6666))
            .await
            .expect("create")
    };
    let passes = create(ProposalChoices::yes_no(), 3).await;
    let fails = create(ProposalChoices::yes_no(), 3).await;
    let short = create(ProposalChoices::yes_no(), 3).await;
    let choice =
        ProposalChoices::choice(vec![label("red"), label("green"), label("blue")]).expect("choice");
    let picks = create(choice, 1).await;
    let ballots: [(&Proposal, &[&str]); 4] = [
        (&passes, &["yes", "yes", "no"]),
        (&fails, &["yes", "no", "no"]),
        (&short, &["yes", "yes"]),
        (&picks, &["blue", "red", "blue"]),
    ];
    for (proposal, options) in ballots {
        for (voter, option) in voters.iter().zip(options) {
            store
                .cast_vote(ctx, proposal.id, *voter, label(option))
                .await
                .expect("vote");
        }
    }

    // Before the closing time the sweep closes nothing.
    let early = store
        .close_due_proposals(ctx, closes_at - Duration::seconds(1))
        .await
        .expect("sweep");
    assert!(early.is_empty());
    let mut closed = store
        .close_due_proposals(ctx, closes_at)
        .await
        .expect("sweep");
    closed.sort_unstable();
    let mut expected = vec![passes.id, fails.id, short.id, picks.id];
    expected.sort_unstable();
    assert_eq!(closed, expected);
    // Once: a second sweep finds nothing.
    assert!(
        store
            .close_due_proposals(ctx, closes_at + Duration::hours(1))
            .await
            .expect("sweep")
            .is_empty()
    );

    let outcome = async |id| {
        let p = store.get_proposal(ctx, id).await.expect("get");
        assert_eq!(p.status, ProposalStatus::Closed);
        assert_eq!(
            (p.closed_by, p.closed_at),
            (Some(ClosedBy::Time), Some(closes_at))
        );
        (
            p.result,
            p.winning_option.map(|o| o.as_str().to_owned()),
            p.votes_cast,
        )
    };
    assert_eq!(
        outcome(passes.id).await,
        (Some(ProposalResult::Passed), Some("yes".to_owned()), 3)
    );
    assert_eq!(
        outcome(fails.id).await,
        (Some(ProposalResult::Rejected), None, 3)
    );
    assert_eq!(
        outcome(short.id).await,
        (Some(ProposalResult::NoQuorum), None, 2)
    );
    assert_eq!(
        outcome(picks.id).await,
        (Some(ProposalResult::Passed), Some("blue".to_owned()), 3)
    );

    // Closed: no vote, no second close, no cancel; the result stays as it was.
    assert_conflict(
        store
            .cast_vote(ctx, fails.id, voters[0], label("yes"))
            .await,
        None,
    );
    assert_conflict(store.close_proposal(ctx, fails.id).await, None);
    assert_conflict(store.cancel_proposal(ctx, fails.id).await, None);
    assert_eq!(
        outcome(fails.id).await,
        (Some(ProposalResult::Rejected), None, 3)
    );
    let closes: Vec<String> = actions(store, ctx, fails.id)
        .await
        .into_iter()
        .filter(|action| action == "proposal.status.closed")
        .collect();
    assert_eq!(closes.len(), 1);
}

pub async fn a_vote_after_the_closing_time_is_refused_without_a_sweep<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = Participant::Agent(agent(store, ctx, "ada").await.id);
    let bob = Participant::Agent(agent(store, ctx, "bob").await.id);
    let closes_at = (Utc::now() + Duration::milliseconds(1500)).trunc_subsecs(3);
    let soon = store
        .create_proposal(ctx, proposal(ProposalChoices::yes_no(), closes_at, 1, 0.5))
        .await
        .expect("create");
    store
        .cast_vote(ctx, soon.id, ada, label("yes"))
        .await
        .expect("vote");
    let wait = (closes_at - Utc::now()).num_milliseconds().max(0) as u64 + 200;
    tokio::time::sleep(StdDuration::from_millis(wait)).await;

    // No sweep has run: the vote is refused, and the proposal closes by time with the votes
    // it had.
    match store.cast_vote(ctx, soon.id, bob, label("no")).await {
        Err(RepoError::Conflict { reason, .. }) => assert!(reason.contains("closed"), "{reason}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let closed = store.get_proposal(ctx, soon.id).await.expect("get");
    assert_eq!(
        (
            closed.status,
            closed.result,
            closed.closed_by,
            closed.closed_at
        ),
        (
            ProposalStatus::Closed,
            Some(ProposalResult::Passed),
            Some(ClosedBy::Time),
            Some(closes_at)
        )
    );
    assert_eq!(tallies(&closed), [("yes", 1), ("no", 0)]);
}

pub async fn proposals_close_and_cancel_by_hand<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = Participant::Agent(agent(store, ctx, "ada").await.id);

    let early = store
        .create_proposal(
            ctx,
            proposal(ProposalChoices::yes_no(), in_an_hour(), 1, 1.0),
        )
        .await
        .expect("create");
    store
        .cast_vote(ctx, early.id, ada, label("yes"))
        .await
        .expect("vote");
    let closed = store.close_proposal(ctx, early.id).await.expect("close");
    assert_eq!(
        (closed.status, closed.result, closed.closed_by),
        (
            ProposalStatus::Closed,
            Some(ProposalResult::Passed),
            Some(ClosedBy::Hand)
        )
    );
    assert!(closed.closed_at.is_some_and(|at| at < closed.closes_at));
    assert_conflict(store.close_proposal(ctx, early.id).await, None);

    let withdrawn = store
        .create_proposal(
            ctx,
            proposal(ProposalChoices::yes_no(), in_an_hour(), 1, 0.5),
        )
        .await
        .expect("create");
    store
        .cast_vote(ctx, withdrawn.id, ada, label("no"))
        .await
        .expect("vote");
    let cancelled = store
        .cancel_proposal(ctx, withdrawn.id)
        .await
        .expect("cancel");
    assert_eq!(
        (cancelled.status, cancelled.result, cancelled.closed_by),
        (ProposalStatus::Cancelled, None, None)
    );
    assert_eq!(tallies(&cancelled), [("yes", 0), ("no", 1)]);
    assert_conflict(
        store.cast_vote(ctx, withdrawn.id, ada, label("yes")).await,
        None,
    );
    assert_conflict(store.close_proposal(ctx, withdrawn.id).await, None);
    assert_conflict(store.cancel_proposal(ctx, withdrawn.id).await, None);
    // Past its closing time no sweep may write it again.
    assert!(
        store
            .close_due_proposals(ctx, in_an_hour() + Duration::hours(1))
            .await
            .expect("sweep")
            .is_empty()
    );
    assert_not_found(
        store.close_proposal(ctx, ProposalId::new()).await,
        "proposal",
    );
    assert_eq!(
        actions(store, ctx, withdrawn.id).await,
        [
            "proposal.create",
            "proposal.vote",
            "proposal.status.cancelled"
        ]
    );
}

pub async fn closers_at_once_write_one_result<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = Participant::Agent(agent(store, ctx, "ada").await.id);
    let closes_at = in_an_hour();
    let contested = store
        .create_proposal(ctx, proposal(ProposalChoices::yes_no(), closes_at, 1, 0.5))
        .await
        .expect("create");
    store
        .cast_vote(ctx, contested.id, ada, label("yes"))
        .await
        .expect("vote");
    let by_hand = (0..4)
        .map(|_| {
            Box::pin(async {
                store
                    .close_proposal(ctx, contested.id)
                    .await
                    .map(|_| 1_usize)
            }) as super::Boxed<'_, Result<usize, RepoError>>
        })
        .chain((0..4).map(|_| {
            Box::pin(async {
                store
                    .close_due_proposals(ctx, closes_at)
                    .await
                    .map(|closed| closed.len())
            }) as super::Boxed<'_, Result<usize, RepoError>>
        }))
        .collect();
    let answers = all_at_once(by_hand).await;
    let mut closes = 0;
    for answer in answers {
        match answer {
            Ok(n) => closes += n,
            Err(RepoError::Conflict { .. }) => {}
            Err(other) => panic!("a closer failed: {other:?}"),
        }
    }
    assert_eq!(closes, 1, "exactly one closer wrote the result");
    let written: Vec<String> = actions(store, ctx, contested.id)
        .await
        .into_iter()
        .filter(|action| action == "proposal.status.closed")
        .collect();
    assert_eq!(written.len(), 1);
    let closed = store.get_proposal(ctx, contested.id).await.expect("get");
    assert_eq!(closed.result, Some(ProposalResult::Passed));
}
