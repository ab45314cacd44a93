//! Proposals and votes: a vote holds the proposal's row shared while it writes, a close holds it
//! exclusively and writes the result with `WHERE status = 'open'`, so that no vote lands after
//! the tallies are counted and no result is written twice.

use std::collections::BTreeMap;

use chrono::{DateTime, SubsecRound, Utc};
use orchestore_domain::{
    AgentKind, ClosedBy, DomainError, Eligibility, NewProposal, OptionLabel, OptionTally,
    OrganizationId, Participant, Proposal, ProposalBody, ProposalId, ProposalKind, ProposalResult,
    ProposalStatus, ProposalTitle, Quorum, RoleCode, Threshold, Vote, decide,
};
use orchestore_repo::{
    Ctx, Cursor, Page, PageRequest, ProposalFilter, ProposalRepo, ProposalSort, RepoError,
    RepoResult, VoteSort,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, RelationTrait, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::{proposal_options, proposals, votes};
use super::{holder_columns, holder_of, require_holder};
use crate::SeaStore;
use crate::agents::entity::agents;
use crate::error::{corrupt, db_err};
use crate::mutation::{Audited, Mutation, Verb, snapshot};
use crate::scoped::{Keyset, Lock, keyset_page, scoped, string_array};
use crate::store::now;
use crate::tenancy::entity::{roles, user_roles};
use voting::Voted;

mod closing;
mod voting;

fn to_options(rows: &[proposal_options::Model]) -> RepoResult<Vec<OptionLabel>> {
    rows.iter()
        .map(|row| {
            OptionLabel::parse(&row.label).map_err(|e| corrupt(proposal_options::Entity::NAME, e))
        })
        .collect()
}

fn to_eligibility(row: &proposals::Model) -> RepoResult<Eligibility> {
    let bad = |e: String| corrupt(proposals::Entity::NAME, e);
    let roles = string_array(&row.eligible_roles)
        .ok_or_else(|| bad("eligible_roles is not an array of strings".into()))?
        .iter()
        .map(|code| RoleCode::parse("eligible_roles", code).map_err(|e| bad(e.to_string())))
        .collect::<RepoResult<Vec<_>>>()?;
    let kinds = string_array(&row.eligible_agent_kinds)
        .ok_or_else(|| bad("eligible_agent_kinds is not an array of strings".into()))?
        .iter()
        .map(|kind| kind.parse::<AgentKind>().map_err(|e| bad(e.to_string())))
        .collect::<RepoResult<Vec<_>>>()?;
    Eligibility::parse(roles, kinds).map_err(|e| bad(e.to_string()))
}

/// A proposal from its row, its options in order and, unless it is closed (its final tallies
/// are on the row), the current count of each option's votes by position.
fn to_proposal(
    row: proposals::Model,
    options: Vec<OptionLabel>,
    counts: &BTreeMap<i32, u32>,
) -> RepoResult<Proposal> {
    let bad = |e: String| corrupt(proposals::Entity::NAME, e);
    let status: ProposalStatus = row
        .status
        .parse()
        .map_err(|e: DomainError| bad(e.to_string()))?;
    let votes: Vec<u32> = match (&row.final_tallies, status) {
        (Some(tallies), ProposalStatus::Closed) => {
            let votes: Vec<u32> = serde_json::from_value(tallies.clone())
                .map_err(|e| bad(format!("final_tallies: {e}")))?;
            if votes.len() != options.len() {
                return Err(bad("final_tallies do not match the options".into()));
            }
            votes
        }
        (None, ProposalStatus::Open | ProposalStatus::Cancelled) => (0..options.len())
            .map(|position| {
                i32::try_from(position)
                    .map(|p| counts.get(&p).copied().unwrap_or(0))
                    .map_err(|e| bad(e.to_string()))
            })
            .collect::<RepoResult<_>>()?,
        _ => return Err(bad("final_tallies do not match the status".into())),
    };
    let winning_option = match row.winning_option {
        Some(position) => Some(
            usize::try_from(position)
                .ok()
                .and_then(|p| options.get(p).cloned())
                .ok_or_else(|| bad(format!("winning option {position} is not an option")))?,
        ),
        None => None,
    };
    let quorum = Quorum::parse(i64::from(row.quorum)).map_err(|e| bad(e.to_string()))?;
    let threshold = u32::try_from(row.threshold_basis_points)
        .map_err(|e| bad(e.to_string()))
        .and_then(|points| Threshold::from_basis_points(points).map_err(|e| bad(e.to_string())))?;
    Ok(Proposal {
        id: ProposalId::from_uuid(row.id),
        organization_id: OrganizationId::from_uuid(row.organization_id),
        title: ProposalTitle::parse(&row.title).map_err(|e| bad(e.to_string()))?,
        body: ProposalBody::parse(&row.body).map_err(|e| bad(e.to_string()))?,
        kind: row
            .kind
            .parse()
            .map_err(|e: DomainError| bad(e.to_string()))?,
        votes_cast: votes.iter().sum(),
        tallies: options
            .into_iter()
            .zip(votes)
            .map(|(option, votes)| OptionTally { option, votes })
            .collect(),
        quorum,
        threshold,
        eligibility: to_eligibility(&row)?,
        allow_vote_change: row.allow_vote_change,
        opens_at: row.opens_at,
        closes_at: row.closes_at,
        status,
        result: row
            .result
            .as_deref()
            .map(str::parse::<ProposalResult>)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        winning_option,
        closed_by: row
            .closed_by
            .as_deref()
            .map(str::parse::<ClosedBy>)
            .transpose()
            .map_err(|e| bad(e.to_string()))?,
        closed_at: row.closed_at,
        created_at: row.created_at,
    })
}

fn to_vote(row: votes::Model, option: OptionLabel) -> RepoResult<Vote> {
    Ok(Vote {
        proposal_id: ProposalId::from_uuid(row.proposal_id),
        voter: holder_of(votes::Entity::NAME, row.agent_id, row.user_id)?,
        option,
        cast_at: row.cast_at,
        changed_at: row.changed_at,
    })
}

/// The options of `proposals`, each proposal's in order.
async fn options_of(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    proposals: &[Uuid],
) -> RepoResult<BTreeMap<Uuid, Vec<proposal_options::Model>>> {
    let rows = proposal_options::Entity::find()
        .filter(proposal_options::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .filter(proposal_options::Column::ProposalId.is_in(proposals.to_vec()))
        .order_by_asc(proposal_options::Column::ProposalId)
        .order_by_asc(proposal_options::Column::Position)
        .all(db)
        .await
        .map_err(db_err)?;
    let mut by_proposal: BTreeMap<Uuid, Vec<proposal_options::Model>> = BTreeMap::new();
    for row in rows {
        by_proposal.entry(row.proposal_id).or_default().push(row);
    }
    Ok(by_proposal)
}

/// The votes of each option of `proposals`, by proposal and position: one grouped count over
/// `idx_votes_option`.
async fn counts_of(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    proposals: &[Uuid],
) -> RepoResult<BTreeMap<Uuid, BTreeMap<i32, u32>>> {
    let rows: Vec<(Uuid, i32, i64)> = votes::Entity::find()
        .filter(votes::Column::OrganizationId.eq(ctx.org().as_uuid()))
        .filter(votes::Column::ProposalId.is_in(proposals.to_vec()))
        .select_only()
        .column(votes::Column::ProposalId)
        .column(votes::Column::OptionPosition)
        .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "votes")
        .group_by(votes::Column::ProposalId)
        .group_by(votes::Column::OptionPosition)
        .into_tuple()
        .all(db)
        .await
        .map_err(db_err)?;
    let mut counts: BTreeMap<Uuid, BTreeMap<i32, u32>> = BTreeMap::new();
    for (proposal, position, votes) in rows {
        let votes = u32::try_from(votes).map_err(|e| corrupt(votes::Entity::NAME, e))?;
        counts.entry(proposal).or_default().insert(position, votes);
    }
    Ok(counts)
}

/// `rows` as proposals, with their options and, for those not closed, their current counts.
async fn assemble(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    rows: Vec<proposals::Model>,
) -> RepoResult<Vec<Proposal>> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let counting: Vec<Uuid> = rows
        .iter()
        .filter(|row| row.final_tallies.is_none())
        .map(|row| row.id)
        .collect();
    let mut options = options_of(db, ctx, &ids).await?;
    let counts = if counting.is_empty() {
        BTreeMap::new()
    } else {
        counts_of(db, ctx, &counting).await?
    };
    let none = BTreeMap::new();
    rows.into_iter()
        .map(|row| {
            let labels = to_options(&options.remove(&row.id).unwrap_or_default())?;
            let counts = counts.get(&row.id).unwrap_or(&none);
            to_proposal(row, labels, counts)
        })
        .collect()
}

async fn require_roles(m: &Mutation<'_>, codes: &[RoleCode]) -> RepoResult<()> {
    if codes.is_empty() {
        return Ok(());
    }
    let found: Vec<String> = roles::Entity::find()
        .filter(
            Condition::any()
                .add(roles::Column::OrganizationId.is_null())
                .add(roles::Column::OrganizationId.eq(m.ctx().org().as_uuid())),
        )
        .filter(roles::Column::Code.is_in(codes.iter().map(RoleCode::as_str)))
        .select_only()
        .column(roles::Column::Code)
        .into_tuple()
        .all(m.txn())
        .await
        .map_err(db_err)?;
    match codes
        .iter()
        .find(|code| !found.iter().any(|f| f == code.as_str()))
    {
        Some(missing) => Err(RepoError::reference("eligible_roles", "role", missing)),
        None => Ok(()),
    }
}

/// What a refused vote or close says about a proposal that no longer takes votes.
fn ended(status: ProposalStatus) -> RepoError {
    RepoError::conflict(
        proposals::Entity::NAME,
        match status {
            ProposalStatus::Cancelled => "the proposal is cancelled",
            _ => "the proposal is closed: its result is recorded already",
        },
    )
}

/// A vote after the closing time, refused.
fn past_closing(closes_at: DateTime<Utc>) -> RepoError {
    RepoError::conflict(
        proposals::Entity::NAME,
        format!(
            "the proposal closed at {}: votes are no longer taken",
            closes_at.to_rfc3339()
        ),
    )
}

impl SeaStore {
    /// The proposal's row, locked against closes (PostgreSQL `FOR SHARE`: votes do not wait for
    /// each other) or for its close (`FOR UPDATE`).
    async fn proposal_row(
        &self,
        m: &Mutation<'_>,
        id: ProposalId,
        exclusive: bool,
    ) -> RepoResult<proposals::Model> {
        if exclusive {
            return self
                .find_scoped::<proposals::Entity>(m.txn(), m.ctx(), id, Lock::ForUpdate)
                .await;
        }
        let mut query =
            scoped::<proposals::Entity>(m.ctx()).filter(proposals::Column::Id.eq(id.as_uuid()));
        if self.is_postgres() {
            query = query.lock_shared();
        }
        query
            .one(m.txn())
            .await
            .map_err(db_err)?
            .ok_or_else(|| RepoError::not_found(proposals::Entity::NAME, id))
    }

    async fn read_proposal(&self, ctx: &Ctx, id: ProposalId) -> RepoResult<Proposal> {
        let db = self.db().await;
        let row = self
            .find_scoped::<proposals::Entity>(&db, ctx, id, Lock::None)
            .await?;
        assemble(&db, ctx, vec![row])
            .await?
            .pop()
            .ok_or_else(|| RepoError::internal("a proposal read back as none"))
    }
}

#[async_trait::async_trait]
impl ProposalRepo for SeaStore {
    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn create_proposal(&self, ctx: &Ctx, new: NewProposal) -> RepoResult<Proposal> {
        self.mutate(ctx, async |m| {
            // At the precision both backends store, so that what is returned is what is read.
            let opens_at = new
                .schedule
                .opens_at()
                .map_or(m.at(), |at| at.trunc_subsecs(6));
            let closes_at = new.schedule.closes_at().trunc_subsecs(6);
            if closes_at <= m.at() || closes_at <= opens_at {
                return Err(DomainError::invalid(
                    "closes_at",
                    "must be in the future and later than opens_at",
                )
                .into());
            }
            require_roles(m, new.eligibility.roles()).await?;
            let id = ProposalId::new();
            let codes: Vec<&str> = new
                .eligibility
                .roles()
                .iter()
                .map(RoleCode::as_str)
                .collect();
            let kinds: Vec<&str> = new
                .eligibility
                .agent_kinds()
                .iter()
                .map(|kind| kind.as_str())
                .collect();
            let signed = |value: u32| i32::try_from(value).map_err(RepoError::internal);
            let row = proposals::Model {
                organization_id: ctx.org().as_uuid(),
                id: id.as_uuid(),
                title: new.title.as_str().to_owned(),
                body: new.body.as_str().to_owned(),
                kind: new.choices.kind().as_str().to_owned(),
                quorum: signed(new.quorum.get())?,
                threshold_basis_points: signed(new.threshold.basis_points())?,
                eligible_roles: Value::from(codes),
                eligible_agent_kinds: Value::from(kinds),
                allow_vote_change: new.allow_vote_change,
                opens_at,
                closes_at,
                status: ProposalStatus::Open.as_str().to_owned(),
                result: None,
                winning_option: None,
                final_tallies: None,
                closed_by: None,
                closed_at: None,
                created_at: m.at(),
            };
            proposals::Entity::insert(proposals::ActiveModel::from(row.clone()))
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
            let options = new
                .choices
                .options()
                .iter()
                .zip(0..)
                .map(|(label, position)| proposal_options::ActiveModel {
                    organization_id: Set(ctx.org().as_uuid()),
                    proposal_id: Set(id.as_uuid()),
                    position: Set(position),
                    label: Set(label.as_str().to_owned()),
                });
            proposal_options::Entity::insert_many(options)
                .exec_without_returning(m.txn())
                .await
                .map_err(db_err)?;
            let created = to_proposal(row, new.choices.options().to_vec(), &BTreeMap::new())?;
            m.audit::<proposals::Entity>(Verb::Create, id, snapshot(&created))
                .await?;
            Ok(created)
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), proposal = %id))]
    async fn get_proposal(&self, ctx: &Ctx, id: ProposalId) -> RepoResult<Proposal> {
        self.close_due_of(ctx, Some(id), now()).await?;
        self.read_proposal(ctx, id).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn list_proposals(
        &self,
        ctx: &Ctx,
        filter: ProposalFilter,
        page: PageRequest<ProposalSort>,
    ) -> RepoResult<Page<Proposal, ProposalSort>> {
        // What is due is closed first, so that the list shows every result there is.
        self.close_due_of(ctx, None, now()).await?;
        let db = self.db().await;
        let mut query = scoped::<proposals::Entity>(ctx);
        if let Some(status) = filter.status {
            query = query.filter(proposals::Column::Status.eq(status.as_str()));
        }
        // Ids are UUIDv7 taken at creation: id order is creation order.
        let keyset = match page.sort() {
            ProposalSort::CreatedAt => Keyset::OldestFirst,
            ProposalSort::CreatedAtDesc => Keyset::NewestFirst,
        };
        let rows = keyset_page(query, &page, keyset)?
            .all(&db)
            .await
            .map_err(db_err)?;
        let proposals = assemble(&db, ctx, rows).await?;
        Ok(Page::from_rows(proposals, &page, |proposal| {
            Cursor::after(page.sort(), proposal.id)
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), proposal = %id, voter = %voter))]
    async fn cast_vote(
        &self,
        ctx: &Ctx,
        id: ProposalId,
        voter: Participant,
        option: OptionLabel,
    ) -> RepoResult<Vote> {
        match self.vote_in(ctx, id, voter, &option).await? {
            Voted::Vote(vote) => Ok(vote),
            Voted::Due(closes_at) => {
                // Refused; the proposal closes now, whether or not the sweep has run.
                self.close_due(ctx, id, now()).await?;
                Err(past_closing(closes_at))
            }
        }
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), proposal = %id))]
    async fn list_votes(
        &self,
        ctx: &Ctx,
        id: ProposalId,
        page: PageRequest<VoteSort>,
    ) -> RepoResult<Page<Vote, VoteSort>> {
        let db = self.db().await;
        let row = self
            .find_scoped::<proposals::Entity>(&db, ctx, id, Lock::None)
            .await?;
        let options = options_of(&db, ctx, &[row.id]).await?;
        let labels = to_options(options.get(&row.id).map_or(&[], Vec::as_slice))?;
        let mut query = votes::Entity::find()
            .filter(votes::Column::OrganizationId.eq(ctx.org().as_uuid()))
            .filter(votes::Column::ProposalId.eq(row.id));
        if let Some(cursor) = page.after() {
            query = query.filter(votes::Column::VoterId.gt(cursor.id()));
        }
        let rows = query
            .order_by_asc(votes::Column::VoterId)
            .limit(u64::from(page.limit().get()) + 1)
            .all(&db)
            .await
            .map_err(db_err)?;
        let mut cast = Vec::with_capacity(rows.len());
        for row in rows {
            let option = usize::try_from(row.option_position)
                .ok()
                .and_then(|p| labels.get(p).cloned())
                .ok_or_else(|| corrupt(votes::Entity::NAME, "an option the proposal lacks"))?;
            cast.push(to_vote(row, option)?);
        }
        Ok(Page::from_rows(cast, &page, |vote| {
            Cursor::after(page.sort(), vote.voter.id())
        }))
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), proposal = %id))]
    async fn close_proposal(&self, ctx: &Ctx, id: ProposalId) -> RepoResult<Proposal> {
        self.mutate(ctx, async |m| self.close_in(m, id, m.at()).await)
            .await?;
        self.read_proposal(ctx, id).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org(), proposal = %id))]
    async fn cancel_proposal(&self, ctx: &Ctx, id: ProposalId) -> RepoResult<Proposal> {
        let cancelled = self
            .mutate(ctx, async |m| {
                let row = self.proposal_row(m, id, true).await?;
                let status: ProposalStatus = row
                    .status
                    .parse()
                    .map_err(|e| corrupt(proposals::Entity::NAME, e))?;
                if status != ProposalStatus::Open {
                    return Err(ended(status));
                }
                // Past its closing time it has closed already, as far as anyone can tell.
                if row.closes_at <= m.at() {
                    return Ok(false);
                }
                let written = proposals::Entity::update_many()
                    .col_expr(
                        proposals::Column::Status,
                        Expr::value(ProposalStatus::Cancelled.as_str()),
                    )
                    .col_expr(proposals::Column::ClosedAt, Expr::value(m.at()))
                    .filter(proposals::Column::OrganizationId.eq(ctx.org().as_uuid()))
                    .filter(proposals::Column::Id.eq(id.as_uuid()))
                    .filter(proposals::Column::Status.eq(ProposalStatus::Open.as_str()))
                    .exec(m.txn())
                    .await
                    .map_err(db_err)?;
                if written.rows_affected != 1 {
                    return Err(ended(ProposalStatus::Closed));
                }
                m.audit::<proposals::Entity>(
                    Verb::Status(ProposalStatus::Cancelled.as_str()),
                    id,
                    json!({ "closed_at": m.at() }),
                )
                .await?;
                Ok(true)
            })
            .await?;
        if !cancelled {
            self.close_due(ctx, id, now()).await?;
            return Err(ended(ProposalStatus::Closed));
        }
        self.read_proposal(ctx, id).await
    }

    #[tracing::instrument(skip_all, fields(org = %ctx.org()))]
    async fn close_due_proposals(
        &self,
        ctx: &Ctx,
        now: DateTime<Utc>,
    ) -> RepoResult<Vec<ProposalId>> {
        self.close_due_of(ctx, None, now).await
    }

    async fn organizations_with_due_proposals(
        &self,
        limit: u32,
    ) -> RepoResult<Vec<OrganizationId>> {
        let orgs: Vec<Uuid> = proposals::Entity::find()
            .select_only()
            .column(proposals::Column::OrganizationId)
            .distinct()
            .filter(proposals::Column::Status.eq(ProposalStatus::Open.as_str()))
            .filter(proposals::Column::ClosesAt.lte(now()))
            .limit(u64::from(limit))
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let unique: std::collections::BTreeSet<Uuid> = orgs.into_iter().collect();
        Ok(unique.into_iter().map(OrganizationId::from_uuid).collect())
    }
}
