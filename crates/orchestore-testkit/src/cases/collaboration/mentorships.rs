//! Mentorships: the status lifecycle, one active pairing, sessions while active, a mentor's
//! record.

use chrono::{DateTime, Duration, Utc};
use orchestore_domain::{
    Description, MentorshipGoals, MentorshipId, MentorshipProgress, MentorshipStatus,
    NewMentorship, NewMentorshipSession, Participant, SessionMinutes,
};
use orchestore_repo::{
    AuditFilter, Limit, MentorshipFilter, MentorshipSessionSort, PageRequest, RepoError, Store,
};

use super::agent;
use crate::Fixture;
use crate::cases::{PASSWORD, assert_conflict, assert_invalid, assert_not_found, assert_reference};

fn pairing(mentor: impl Into<Participant>, mentee: impl Into<Participant>) -> NewMentorship {
    let goals = MentorshipGoals::parse(&["review pull requests".to_owned(), "ship".to_owned()])
        .expect("goals");
    NewMentorship::new(mentor.into(), mentee.into(), goals).expect("mentorship")
}

fn session(held_at: DateTime<Utc>, minutes: i64, progress: i64) -> NewMentorshipSession {
    NewMentorshipSession {
        held_at,
        duration: SessionMinutes::parse(minutes).expect("minutes"),
        notes: Description::parse("notes", "went through the review checklist").expect("notes"),
        progress: MentorshipProgress::parse(progress).expect("progress"),
    }
}

pub async fn mentorships_move_through_their_lifecycle<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let owner = Participant::User(acme.owner.id);

    let proposed = store
        .create_mentorship(ctx, pairing(owner, ada.id))
        .await
        .expect("create");
    assert_eq!(proposed.status, MentorshipStatus::Proposed);
    assert_eq!(
        (proposed.mentor, proposed.mentee),
        (owner, Participant::Agent(ada.id))
    );
    assert_eq!((proposed.started_at, proposed.ended_at), (None, None));
    let goals: Vec<&str> = proposed.goals.goals().iter().map(|g| g.as_str()).collect();
    assert_eq!(goals, ["review pull requests", "ship"]);
    assert_eq!(
        store.get_mentorship(ctx, proposed.id).await.expect("get"),
        proposed
    );

    let active = store
        .set_mentorship_status(ctx, proposed.id, MentorshipStatus::Active)
        .await
        .expect("activate");
    assert_eq!(active.status, MentorshipStatus::Active);
    assert!(active.started_at.is_some() && active.ended_at.is_none());

    let now = Utc::now();
    let first = store
        .record_mentorship_session(ctx, active.id, session(now - Duration::days(7), 45, 20))
        .await
        .expect("session");
    assert_eq!((first.duration_minutes, first.progress), (45, 20));
    assert_eq!(first.recorded_by, ctx.actor().to_string());
    store
        .record_mentorship_session(ctx, active.id, session(now, 30, 55))
        .await
        .expect("session");
    let sessions = store
        .list_mentorship_sessions(ctx, active.id, PageRequest::default())
        .await
        .expect("sessions");
    let progress: Vec<u8> = sessions.items.iter().map(|s| s.progress).collect();
    assert_eq!(progress, [20, 55]);
    let latest = store
        .list_mentorship_sessions(
            ctx,
            active.id,
            PageRequest::first(Limit::parse(1).expect("limit"))
                .sorted(MentorshipSessionSort::RecordedAtDesc),
        )
        .await
        .expect("sessions");
    assert_eq!(latest.items[0].progress, 55);
    assert!(latest.next_cursor.is_some());

    let done = store
        .set_mentorship_status(ctx, active.id, MentorshipStatus::Completed)
        .await
        .expect("complete");
    assert_eq!(done.status, MentorshipStatus::Completed);
    assert_eq!(done.started_at, active.started_at);
    assert!(done.ended_at.is_some());

    let cancelled = store
        .create_mentorship(ctx, pairing(ada.id, owner))
        .await
        .expect("create");
    let cancelled = store
        .set_mentorship_status(ctx, cancelled.id, MentorshipStatus::Cancelled)
        .await
        .expect("cancel");
    assert!(cancelled.started_at.is_none() && cancelled.ended_at.is_some());

    let mentored_by_owner = store
        .list_mentorships(
            ctx,
            MentorshipFilter {
                mentor: Some(owner),
                ..MentorshipFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(mentored_by_owner.items, vec![done.clone()]);
    let cancelled_ones = store
        .list_mentorships(
            ctx,
            MentorshipFilter {
                status: Some(MentorshipStatus::Cancelled),
                mentee: Some(owner),
                ..MentorshipFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .expect("list");
    assert_eq!(cancelled_ones.items, vec![cancelled]);

    let audit = store
        .list_audit(
            ctx,
            AuditFilter::default(),
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("audit");
    let actions = |action: &str| audit.items.iter().filter(|r| r.action == action).count();
    assert_eq!(actions("mentorship.create"), 2);
    assert_eq!(actions("mentorship.status.active"), 1);
    assert_eq!(actions("mentorship.status.completed"), 1);
    assert_eq!(actions("mentorship.status.cancelled"), 1);
    assert_eq!(actions("mentorship_session.create"), 2);
}

pub async fn mentorship_rules_are_kept<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let goals = MentorshipGoals::parse(&["ship".to_owned()]).expect("goals");
    assert_invalid(
        NewMentorship::new(ada.id.into(), ada.id.into(), goals).map_err(RepoError::Invalid),
        "mentee",
    );
    let ghost = orchestore_domain::AgentId::new();
    assert_reference(
        store.create_mentorship(ctx, pairing(ghost, bob.id)).await,
        "mentor",
    );
    assert_reference(
        store.create_mentorship(ctx, pairing(ada.id, ghost)).await,
        "mentee",
    );

    // A session needs an active mentorship; a move outside the lifecycle is refused.
    let first = store
        .create_mentorship(ctx, pairing(ada.id, bob.id))
        .await
        .expect("create");
    assert_conflict(
        store
            .record_mentorship_session(ctx, first.id, session(Utc::now(), 30, 10))
            .await,
        None,
    );
    assert_conflict(
        store
            .set_mentorship_status(ctx, first.id, MentorshipStatus::Completed)
            .await,
        None,
    );
    assert_conflict(
        store
            .set_mentorship_status(ctx, first.id, MentorshipStatus::Proposed)
            .await,
        None,
    );
    assert_eq!(
        store.get_mentorship(ctx, first.id).await.expect("get"),
        first,
        "nothing written"
    );

    // One active mentorship per mentor and mentee, even when two activate at once.
    let second = store
        .create_mentorship(ctx, pairing(ada.id, bob.id))
        .await
        .expect("create");
    let (a, b) = tokio::join!(
        store.set_mentorship_status(ctx, first.id, MentorshipStatus::Active),
        store.set_mentorship_status(ctx, second.id, MentorshipStatus::Active),
    );
    let (winner, lost) = match (a, b) {
        (Ok(winner), lost) | (lost, Ok(winner)) => (winner, lost),
        other => panic!("one activation must land: {other:?}"),
    };
    assert_conflict(lost, Some("status"));
    let waiting = if winner.id == first.id {
        &second
    } else {
        &first
    };
    assert_eq!(
        store
            .get_mentorship(ctx, waiting.id)
            .await
            .expect("get")
            .status,
        MentorshipStatus::Proposed
    );
    // The other way round is another pair.
    let reverse = store
        .create_mentorship(ctx, pairing(bob.id, ada.id))
        .await
        .expect("create");
    store
        .set_mentorship_status(ctx, reverse.id, MentorshipStatus::Active)
        .await
        .expect("activate the reverse pair");

    // Once the first ends, the other may start; sessions stop with the mentorship.
    store
        .set_mentorship_status(ctx, winner.id, MentorshipStatus::Completed)
        .await
        .expect("complete");
    assert_conflict(
        store
            .record_mentorship_session(ctx, winner.id, session(Utc::now(), 30, 10))
            .await,
        None,
    );
    assert_conflict(
        store
            .set_mentorship_status(ctx, winner.id, MentorshipStatus::Active)
            .await,
        None,
    );
    store
        .set_mentorship_status(ctx, waiting.id, MentorshipStatus::Active)
        .await
        .expect("activate the other");
    let sessions = store
        .list_mentorship_sessions(ctx, winner.id, PageRequest::default())
        .await
        .expect("sessions");
    assert!(sessions.items.is_empty());

    let unknown = MentorshipId::new();
    assert_not_found(store.get_mentorship(ctx, unknown).await, "mentorship");
    assert_not_found(
        store
            .set_mentorship_status(ctx, unknown, MentorshipStatus::Active)
            .await,
        "mentorship",
    );
    assert_not_found(
        store
            .record_mentorship_session(ctx, unknown, session(Utc::now(), 30, 10))
            .await,
        "mentorship",
    );
    assert_not_found(
        store
            .list_mentorship_sessions(ctx, unknown, PageRequest::default())
            .await,
        "mentorship",
    );
    assert_not_found(store.mentor_stats(ctx, ghost.into()).await, "agent");
}

pub async fn mentor_stats_count_sessions_and_latest_progress<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &acme.ctx;
    let ada = agent(store, ctx, "ada").await;
    let bob = agent(store, ctx, "bob").await;
    let cy = agent(store, ctx, "cy").await;

    let idle = store.mentor_stats(ctx, ada.id.into()).await.expect("stats");
    assert_eq!(
        (idle.sessions, idle.total_minutes, idle.mean_latest_progress),
        (0, 0, None)
    );

    let start = async |mentee: orchestore_domain::AgentId| {
        let created = store
            .create_mentorship(ctx, pairing(ada.id, mentee))
            .await
            .expect("create");
        store
            .set_mentorship_status(ctx, created.id, MentorshipStatus::Active)
            .await
            .expect("activate")
    };
    let with_bob = start(bob.id).await;
    let with_cy = start(cy.id).await;
    let now = Utc::now();
    // bob's latest session by `held_at` is the one recorded first: its progress is 60.
    for (held, minutes, progress) in [(now, 60, 60), (now - Duration::days(3), 30, 20)] {
        store
            .record_mentorship_session(ctx, with_bob.id, session(held, minutes, progress))
            .await
            .expect("session");
    }
    store
        .record_mentorship_session(ctx, with_cy.id, session(now, 45, 35))
        .await
        .expect("session");
    store
        .set_mentorship_status(ctx, with_cy.id, MentorshipStatus::Completed)
        .await
        .expect("complete");
    store
        .create_mentorship(ctx, pairing(ada.id, cy.id))
        .await
        .expect("a proposal");
    // Another mentor's mentorship counts for that mentor only.
    let theirs = store
        .create_mentorship(ctx, pairing(bob.id, cy.id))
        .await
        .expect("create");
    store
        .set_mentorship_status(ctx, theirs.id, MentorshipStatus::Cancelled)
        .await
        .expect("cancel");

    let stats = store.mentor_stats(ctx, ada.id.into()).await.expect("stats");
    assert_eq!(stats.mentor, Participant::Agent(ada.id));
    let counts = stats.mentorships;
    assert_eq!(
        (
            counts.proposed,
            counts.active,
            counts.completed,
            counts.cancelled
        ),
        (1, 1, 1, 0)
    );
    assert_eq!((stats.sessions, stats.total_minutes), (3, 135));
    // The mean of bob's 60 and cy's 35.
    assert_eq!(stats.mentees_with_sessions, 2);
    assert_eq!(stats.mean_latest_progress, Some(47.5));
    let other = store.mentor_stats(ctx, bob.id.into()).await.expect("stats");
    assert_eq!(
        (
            other.mentorships.cancelled,
            other.sessions,
            other.mean_latest_progress
        ),
        (1, 0, None)
    );
}
