//! `/api/v1/brainstorms`, `/api/v1/mentorships` and `/api/v1/proposals` through the typed
//! client.

use chrono::{Duration, Utc};
use futures_util::TryStreamExt;
use orchestore_client::api::brainstorms::{
    BrainstormIdeaBody, CreateBrainstormBody, IdeaVoteBody, ListBrainstormsQuery, TopQuery,
    WithdrawQuery,
};
use orchestore_client::api::mentorships::{
    CreateMentorshipBody, ListMentorshipsQuery, MentorshipSessionBody, MentorshipStatusBody,
};
use orchestore_client::api::proposals::{
    CreateProposalBody, ListProposalsQuery, ProposalVoteBody, VotesQuery,
};
use orchestore_client::api::{PageQuery, ParticipantBody};
use orchestore_domain::{
    AgentId, BrainstormStatus, MentorshipStatus, Participant, ProposalResult, ProposalStatus,
    UserId,
};

use crate::helpers::*;
use crate::points::create_agent;

/// An agent of the admin's organization, made over plain HTTP (agents are not this file's).
pub(crate) async fn agent(app: &TestApp, name: &str) -> AgentId {
    let admin = app.admin_token().await;
    create_agent(app, &admin, name)
        .await
        .parse()
        .expect("an agent id")
}

/// The bootstrap admin's user id.
pub(crate) async fn admin_id(app: &TestApp) -> UserId {
    let admin = app.admin_token().await;
    app.get(&admin, "/api/v1/me").await.body["user"]["id"]
        .as_str()
        .expect("the user's id")
        .parse()
        .expect("a user id")
}

fn texts(ideas: &[orchestore_domain::BrainstormIdea]) -> Vec<(&str, i64)> {
    ideas.iter().map(|i| (i.text.as_str(), i.votes)).collect()
}

pub async fn brainstorms_gather_ideas_and_votes_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let ada = agent(app, "ada").await;
    let me = admin_id(app).await;
    let created = client
        .create_brainstorm(&CreateBrainstormBody {
            topic: "  Release names ".into(),
            ..Default::default()
        })
        .await
        .expect("opened");
    assert_eq!(created.topic.as_str(), "Release names");
    assert_eq!(created.status, BrainstormStatus::Open);
    assert_eq!(
        created.facilitator,
        Participant::User(me),
        "the caller leads"
    );
    assert_eq!(
        client.get_brainstorm(created.id).await.expect("read"),
        created
    );

    let mut ideas = Vec::new();
    for (text, author) in [("Nova", None), ("Orbit", Some(ada)), ("Comet", None)] {
        let idea = client
            .add_brainstorm_idea(
                created.id,
                &BrainstormIdeaBody {
                    text: text.into(),
                    author: author.map(|a| Participant::Agent(a).into()),
                },
            )
            .await
            .expect("an idea");
        assert_eq!(idea.votes, 0);
        ideas.push(idea);
    }
    assert_eq!(ideas[1].author, Participant::Agent(ada));
    let (nova, orbit) = (ideas[0].id, ideas[1].id);

    let mine = client
        .vote_for_idea(created.id, orbit, &IdeaVoteBody::default())
        .await
        .expect("voted");
    assert_eq!(mine.votes, 1);
    let as_agent = client
        .vote_for_idea(
            created.id,
            orbit,
            &IdeaVoteBody {
                voter: Some(Participant::Agent(ada).into()),
            },
        )
        .await
        .expect("voted as the agent");
    assert_eq!(as_agent.votes, 2);
    let twice = client
        .vote_for_idea(created.id, orbit, &IdeaVoteBody::default())
        .await
        .expect_err("a second vote");
    assert_eq!(twice.status(), Some(409));
    assert!(
        twice
            .problem()
            .is_some_and(|p| p.errors.iter().any(|e| e.field == "voter"))
    );
    client
        .vote_for_idea(created.id, nova, &IdeaVoteBody::default())
        .await
        .expect("voted");

    let top = client
        .top_brainstorm_ideas(created.id, &TopQuery { limit: Some(2) })
        .await
        .expect("top ideas");
    assert_eq!(texts(&top.items), [("Orbit", 2), ("Nova", 1)]);
    let stats = client.brainstorm_stats(created.id).await.expect("stats");
    assert_eq!((stats.ideas, stats.participants, stats.votes), (3, 2, 3));

    let withdrawn = client
        .withdraw_idea_vote(
            created.id,
            orbit,
            &WithdrawQuery {
                voter_kind: Some("agent".into()),
                voter_id: Some(ada.as_uuid()),
            },
        )
        .await
        .expect("withdrawn");
    assert_eq!(withdrawn.votes, 1);

    let in_order = PageQuery {
        limit: Some(2),
        sort: Some("created_at".into()),
        ..Default::default()
    };
    let first = client
        .list_brainstorm_ideas(created.id, &in_order)
        .await
        .expect("a page");
    assert_eq!(first.items.len(), 2);
    assert!(first.next_cursor.is_some());
    let every: Vec<_> = client
        .list_brainstorm_ideas_stream(created.id, &in_order)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(texts(&every), [("Nova", 1), ("Orbit", 1), ("Comet", 0)]);

    let closed = client.close_brainstorm(created.id).await.expect("closed");
    assert_eq!(closed.status, BrainstormStatus::Closed);
    assert!(closed.closed_at.is_some());
    let again = client
        .close_brainstorm(created.id)
        .await
        .expect_err("closed already");
    assert_eq!(again.status(), Some(409));
    let late = client
        .add_brainstorm_idea(
            created.id,
            &BrainstormIdeaBody {
                text: "Late".into(),
                author: None,
            },
        )
        .await
        .expect_err("closed");
    assert_eq!(late.status(), Some(409));

    let closed_ones = client
        .list_brainstorms(&ListBrainstormsQuery {
            status: Some("closed".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(closed_ones.items, std::slice::from_ref(&closed));
    let every: Vec<_> = client
        .list_brainstorms_stream(&ListBrainstormsQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, [closed]);
}

pub async fn mentorships_pair_and_record_sessions_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let ada = agent(app, "ada").await;
    let me = admin_id(app).await;
    let pairing = CreateMentorshipBody {
        mentor: Participant::User(me).into(),
        mentee: Participant::Agent(ada).into(),
        goals: vec!["review pull requests".into()],
    };
    let created = client.create_mentorship(&pairing).await.expect("proposed");
    assert_eq!(created.status, MentorshipStatus::Proposed);
    assert_eq!(created.mentee, Participant::Agent(ada));
    assert_eq!(
        client.get_mentorship(created.id).await.expect("read"),
        created
    );

    let session = MentorshipSessionBody {
        duration_minutes: 30,
        progress: 40,
        notes: Some("walked through a review".into()),
        ..Default::default()
    };
    let too_soon = client
        .record_mentorship_session(created.id, &session)
        .await
        .expect_err("not active yet");
    assert_eq!(too_soon.status(), Some(409));
    let active = client
        .set_mentorship_status(
            created.id,
            &MentorshipStatusBody {
                status: "active".into(),
            },
        )
        .await
        .expect("active");
    assert_eq!(active.status, MentorshipStatus::Active);
    assert!(active.started_at.is_some());

    for minutes in [30, 15] {
        let recorded = client
            .record_mentorship_session(
                created.id,
                &MentorshipSessionBody {
                    duration_minutes: minutes,
                    ..session.clone()
                },
            )
            .await
            .expect("recorded");
        assert_eq!(recorded.mentorship_id, created.id);
        assert_eq!(recorded.recorded_by, format!("user:{me}"));
    }
    let bad = client
        .record_mentorship_session(
            created.id,
            &MentorshipSessionBody {
                duration_minutes: 0,
                progress: 101,
                ..Default::default()
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));
    let fields: Vec<&str> = bad
        .problem()
        .map(|p| p.errors.iter().map(|e| e.field.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["duration_minutes", "progress"]);

    let page = PageQuery {
        limit: Some(1),
        ..Default::default()
    };
    let first = client
        .list_mentorship_sessions(created.id, &page)
        .await
        .expect("a page");
    assert_eq!(first.items.len(), 1);
    let every: Vec<_> = client
        .list_mentorship_sessions_stream(created.id, &page)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 2);

    let stats = client.user_mentor_stats(me).await.expect("stats");
    assert_eq!(stats.mentor, Participant::User(me));
    assert_eq!((stats.sessions, stats.total_minutes), (2, 45));
    let agent_stats = client.agent_mentor_stats(ada).await.expect("stats");
    assert_eq!(agent_stats.sessions, 0, "the agent mentors no one");

    let by_mentee = ListMentorshipsQuery {
        mentee_kind: Some("agent".into()),
        mentee_id: Some(ada.as_uuid()),
        ..Default::default()
    };
    let listed = client.list_mentorships(&by_mentee).await.expect("a page");
    assert_eq!(listed.items, std::slice::from_ref(&active));
    let every: Vec<_> = client
        .list_mentorships_stream(&by_mentee)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every, [active]);
}

pub async fn proposals_are_voted_on_and_closed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let ada = agent(app, "ada").await;
    let proposal = CreateProposalBody {
        title: "Pick a database".into(),
        kind: Some("choice".into()),
        options: Some(vec!["postgres".into(), "sqlite".into(), "both".into()]),
        closes_at: Utc::now() + Duration::hours(1),
        quorum: Some(2),
        threshold: 0.5,
        ..Default::default()
    };
    let created = client.create_proposal(&proposal).await.expect("open");
    assert_eq!(created.status, ProposalStatus::Open);
    assert!(created.allow_vote_change);

    let vote = |option: &str, voter: Option<ParticipantBody>| ProposalVoteBody {
        option: option.into(),
        voter,
    };
    let mine = client
        .vote_on_proposal(created.id, &vote("sqlite", None))
        .await
        .expect("voted");
    assert!(matches!(mine.voter, Participant::User(_)));
    client
        .vote_on_proposal(
            created.id,
            &vote("both", Some(Participant::Agent(ada).into())),
        )
        .await
        .expect("voted as the agent");
    let changed = client
        .vote_on_proposal(created.id, &vote("both", None))
        .await
        .expect("changed");
    assert_eq!(changed.option.as_str(), "both");
    assert!(changed.changed_at.is_some());

    let open = client.get_proposal(created.id).await.expect("read");
    assert_eq!(open.votes_cast, 2);
    let page = VotesQuery {
        limit: Some(1),
        ..Default::default()
    };
    let first = client
        .list_proposal_votes(created.id, &page)
        .await
        .expect("a page");
    assert_eq!(first.items.len(), 1);
    let every: Vec<_> = client
        .list_proposal_votes_stream(created.id, &page)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 2);

    let closed = client.close_proposal(created.id).await.expect("closed");
    assert_eq!(closed.status, ProposalStatus::Closed);
    assert_eq!(closed.result, Some(ProposalResult::Passed));
    let late = client
        .vote_on_proposal(created.id, &vote("postgres", None))
        .await
        .expect_err("closed");
    assert_eq!(late.status(), Some(409));
    let cancel_closed = client
        .cancel_proposal(created.id)
        .await
        .expect_err("closed already");
    assert_eq!(cancel_closed.status(), Some(409));

    let other = client
        .create_proposal(&CreateProposalBody {
            title: "Adopt a style guide".into(),
            ..proposal
        })
        .await
        .expect("open");
    let cancelled = client.cancel_proposal(other.id).await.expect("cancelled");
    assert_eq!(cancelled.status, ProposalStatus::Cancelled);
    let closed_ones = client
        .list_proposals(&ListProposalsQuery {
            status: Some("closed".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(closed_ones.items, [closed]);
    let every: Vec<_> = client
        .list_proposals_stream(&ListProposalsQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 2);

    let bad = client
        .create_proposal(&CreateProposalBody {
            title: " ".into(),
            closes_at: Utc::now() + Duration::hours(1),
            threshold: 2.0,
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));
    let fields: Vec<&str> = bad
        .problem()
        .map(|p| p.errors.iter().map(|e| e.field.as_str()).collect())
        .unwrap_or_default();
    assert!(
        fields.contains(&"title") && fields.contains(&"threshold"),
        "{fields:?}"
    );
}
