//! Proposals and votes.

use orchestore_domain::{
    Eligibility, NewProposal, OptionLabel, Proposal, ProposalBody, ProposalChoices,
    ProposalSchedule, ProposalTitle, Quorum, Threshold,
};
use orchestore_repo::{Ctx, ProposalFilter};

use super::*;

/// What the case's organization holds of this aggregate: an open proposal its agent voted on.
pub(super) struct ProposalHoldings {
    proposal: Proposal,
}

/// A yes/no proposal that closes in a day, open to everyone.
fn new_proposal() -> NewProposal {
    NewProposal {
        title: ProposalTitle::parse("Move the stand-up").expect("title"),
        body: ProposalBody::empty(),
        choices: ProposalChoices::yes_no(),
        schedule: ProposalSchedule::parse(None, Utc::now() + chrono::Duration::days(1))
            .expect("schedule"),
        quorum: Quorum::parse(1).expect("quorum"),
        threshold: Threshold::parse(0.5).expect("threshold"),
        eligibility: Eligibility::everyone(),
        allow_vote_change: true,
    }
}

fn yes() -> OptionLabel {
    OptionLabel::parse("yes").expect("option")
}

impl ProposalHoldings {
    pub(super) async fn create<S: Store + ?Sized>(store: &S, ctx: &Ctx, agent: &Agent) -> Self {
        let proposal = store
            .create_proposal(ctx, new_proposal())
            .await
            .expect("proposal");
        store
            .cast_vote(ctx, proposal.id, Participant::Agent(agent.id), yes())
            .await
            .expect("vote");
        Self { proposal }
    }
}

/// What the organization reads of this aggregate.
pub(super) async fn proposals_view<S: Store + ?Sized>(store: &S, h: &Holdings) -> Vec<String> {
    let ctx = &h.fixture.ctx;
    let id = h.proposals.proposal.id;
    vec![
        format!("{:?}", store.get_proposal(ctx, id).await),
        format!(
            "{:?}",
            store
                .list_proposals(ctx, ProposalFilter::default(), all())
                .await
        ),
        format!("{:?}", store.list_votes(ctx, id, all()).await),
    ]
}

pub(super) async fn check_proposals<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    let theirs = a.proposals.proposal.id;
    let created = store.create_proposal(ctx, new_proposal()).await;
    let ours = created.as_ref().ok().map(|p| p.id);
    c.clean("create_proposal", created);
    c.not_found("get_proposal", store.get_proposal(ctx, theirs).await);
    c.clean(
        "list_proposals",
        store
            .list_proposals(ctx, ProposalFilter::default(), all())
            .await,
    );
    c.not_found(
        "cast_vote",
        store
            .cast_vote(ctx, theirs, Participant::Agent(b.agent.id), yes())
            .await,
    );
    if let Some(ours) = ours {
        for voter in [
            Participant::Agent(a.agent.id),
            Participant::User(a.fixture.owner.id),
        ] {
            c.reference(
                "cast_vote",
                "voter",
                store.cast_vote(ctx, ours, voter, yes()).await,
            );
        }
    }
    c.not_found("list_votes", store.list_votes(ctx, theirs, all()).await);
    c.not_found("close_proposal", store.close_proposal(ctx, theirs).await);
    c.not_found("cancel_proposal", store.cancel_proposal(ctx, theirs).await);
    // Closes B's own proposals, due at that instant, and none of A's.
    c.clean(
        "close_due_proposals",
        store
            .close_due_proposals(ctx, Utc::now() + chrono::Duration::days(2))
            .await,
    );
    // Names the organizations to sweep, for the server.
    c.unscoped("organizations_with_due_proposals");
}
