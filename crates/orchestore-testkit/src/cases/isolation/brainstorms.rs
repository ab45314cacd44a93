//! Brainstorms and mentorships.

use orchestore_domain::{
    Brainstorm, BrainstormIdea, BrainstormTopic, IdeaText, Mentorship, MentorshipGoals,
    MentorshipProgress, MentorshipStatus, NewBrainstorm, NewIdea, NewMentorship,
    NewMentorshipSession, SessionMinutes,
};
use orchestore_repo::{BrainstormFilter, Ctx, MentorshipFilter};

use super::*;

/// What the case's organization holds of these: an open brainstorm facilitated by the agent
/// with an idea of the owner's that the agent voted for, and an active mentorship of the owner
/// and the agent with one session.
pub(super) struct BrainstormHoldings {
    brainstorm: Brainstorm,
    idea: BrainstormIdea,
    mentorship: Mentorship,
}

fn brainstorm(
    facilitator: Participant,
    project: Option<orchestore_domain::ProjectId>,
) -> NewBrainstorm {
    NewBrainstorm {
        topic: BrainstormTopic::parse("release names").expect("topic"),
        description: Description::empty(),
        facilitator,
        project_id: project,
    }
}

fn idea(author: Participant) -> NewIdea {
    NewIdea {
        author,
        text: IdeaText::parse("Nova").expect("text"),
    }
}

fn pairing(mentor: Participant, mentee: Participant) -> NewMentorship {
    let goals = MentorshipGoals::parse(&["ship".to_owned()]).expect("goals");
    NewMentorship::new(mentor, mentee, goals).expect("mentorship")
}

fn session() -> NewMentorshipSession {
    NewMentorshipSession {
        held_at: Utc::now(),
        duration: SessionMinutes::parse(30).expect("minutes"),
        notes: Description::empty(),
        progress: MentorshipProgress::parse(40).expect("progress"),
    }
}

impl BrainstormHoldings {
    pub(super) async fn create<S: Store + ?Sized>(
        store: &S,
        ctx: &Ctx,
        fixture: &Fixture,
        agent: &Agent,
        project: &Project,
    ) -> Self {
        let owner = Participant::User(fixture.owner.id);
        let brainstorm = store
            .create_brainstorm(
                ctx,
                brainstorm(Participant::Agent(agent.id), Some(project.id)),
            )
            .await
            .expect("brainstorm");
        let idea = store
            .add_brainstorm_idea(ctx, brainstorm.id, idea(owner))
            .await
            .expect("idea");
        let idea = store
            .vote_for_idea(ctx, brainstorm.id, idea.id, Participant::Agent(agent.id))
            .await
            .expect("vote");
        let mentorship = store
            .create_mentorship(ctx, pairing(owner, Participant::Agent(agent.id)))
            .await
            .expect("mentorship");
        let mentorship = store
            .set_mentorship_status(ctx, mentorship.id, MentorshipStatus::Active)
            .await
            .expect("activate");
        store
            .record_mentorship_session(ctx, mentorship.id, session())
            .await
            .expect("session");
        Self {
            brainstorm,
            idea,
            mentorship,
        }
    }
}

/// What the organization reads of these.
pub(super) async fn brainstorms_view<S: Store + ?Sized>(store: &S, h: &Holdings) -> String {
    let ctx = &h.fixture.ctx;
    let held = &h.brainstorms;
    format!(
        "{:?}",
        (
            store
                .list_brainstorms(ctx, BrainstormFilter::default(), all())
                .await,
            store.get_brainstorm(ctx, held.brainstorm.id).await,
            store
                .list_brainstorm_ideas(ctx, held.brainstorm.id, all())
                .await,
            store
                .top_brainstorm_ideas(ctx, held.brainstorm.id, Limit::default())
                .await,
            store.brainstorm_stats(ctx, held.brainstorm.id).await,
            store
                .list_mentorships(ctx, MentorshipFilter::default(), all())
                .await,
            store.get_mentorship(ctx, held.mentorship.id).await,
            store
                .list_mentorship_sessions(ctx, held.mentorship.id, all())
                .await,
            store
                .mentor_stats(ctx, Participant::User(h.fixture.owner.id))
                .await,
        )
    )
}

pub(super) async fn check_brainstorms_and_mentorships<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    let (theirs, ours) = (&a.brainstorms, &b.brainstorms);
    let a_agent = Participant::Agent(a.agent.id);
    let b_agent = Participant::Agent(b.agent.id);
    c.reference(
        "create_brainstorm",
        "facilitator",
        store
            .create_brainstorm(ctx, brainstorm(a_agent, None))
            .await,
    );
    c.reference(
        "create_brainstorm",
        "project_id",
        store
            .create_brainstorm(ctx, brainstorm(b_agent, Some(a.project.id)))
            .await,
    );
    c.not_found(
        "get_brainstorm",
        store.get_brainstorm(ctx, theirs.brainstorm.id).await,
    );
    c.clean(
        "list_brainstorms",
        store
            .list_brainstorms(
                ctx,
                BrainstormFilter {
                    project_id: Some(a.project.id),
                    ..BrainstormFilter::default()
                },
                all(),
            )
            .await,
    );
    c.not_found(
        "close_brainstorm",
        store.close_brainstorm(ctx, theirs.brainstorm.id).await,
    );
    c.not_found(
        "add_brainstorm_idea",
        store
            .add_brainstorm_idea(ctx, theirs.brainstorm.id, idea(b_agent))
            .await,
    );
    c.reference(
        "add_brainstorm_idea",
        "author",
        store
            .add_brainstorm_idea(ctx, ours.brainstorm.id, idea(a_agent))
            .await,
    );
    c.not_found(
        "list_brainstorm_ideas",
        store
            .list_brainstorm_ideas(ctx, theirs.brainstorm.id, all())
            .await,
    );
    c.not_found(
        "vote_for_idea",
        store
            .vote_for_idea(ctx, theirs.brainstorm.id, theirs.idea.id, b_agent)
            .await,
    );
    // A's idea through B's own brainstorm.
    c.not_found(
        "vote_for_idea",
        store
            .vote_for_idea(ctx, ours.brainstorm.id, theirs.idea.id, b_agent)
            .await,
    );
    c.reference(
        "vote_for_idea",
        "voter",
        store
            .vote_for_idea(ctx, ours.brainstorm.id, ours.idea.id, a_agent)
            .await,
    );
    c.not_found(
        "withdraw_idea_vote",
        store
            .withdraw_idea_vote(ctx, theirs.brainstorm.id, theirs.idea.id, a_agent)
            .await,
    );
    c.not_found(
        "withdraw_idea_vote",
        store
            .withdraw_idea_vote(ctx, ours.brainstorm.id, ours.idea.id, a_agent)
            .await,
    );
    c.not_found(
        "top_brainstorm_ideas",
        store
            .top_brainstorm_ideas(ctx, theirs.brainstorm.id, Limit::default())
            .await,
    );
    c.not_found(
        "brainstorm_stats",
        store.brainstorm_stats(ctx, theirs.brainstorm.id).await,
    );

    let a_owner = Participant::User(a.fixture.owner.id);
    let b_owner = Participant::User(b.fixture.owner.id);
    c.reference(
        "create_mentorship",
        "mentor",
        store
            .create_mentorship(ctx, pairing(a_owner, b_agent))
            .await,
    );
    c.reference(
        "create_mentorship",
        "mentee",
        store
            .create_mentorship(ctx, pairing(b_owner, a_agent))
            .await,
    );
    c.not_found(
        "get_mentorship",
        store.get_mentorship(ctx, theirs.mentorship.id).await,
    );
    c.clean(
        "list_mentorships",
        store
            .list_mentorships(
                ctx,
                MentorshipFilter {
                    mentor: Some(a_owner),
                    ..MentorshipFilter::default()
                },
                all(),
            )
            .await,
    );
    c.not_found(
        "set_mentorship_status",
        store
            .set_mentorship_status(ctx, theirs.mentorship.id, MentorshipStatus::Completed)
            .await,
    );
    c.not_found(
        "record_mentorship_session",
        store
            .record_mentorship_session(ctx, theirs.mentorship.id, session())
            .await,
    );
    c.not_found(
        "list_mentorship_sessions",
        store
            .list_mentorship_sessions(ctx, theirs.mentorship.id, all())
            .await,
    );
    c.not_found("mentor_stats", store.mentor_stats(ctx, a_owner).await);
}
