//! Closing: a proposal's result, written once, by hand or when its closing time has passed.

use super::*;

/// The most due proposals one call closes; the rest wait for the next.
const CLOSE_BATCH: u64 = 100;

impl SeaStore {
    /// Closes open proposal `id` in the mutation, with its result and audit row: by time when
    /// its closing time is at or before `at` (then it closed at that time), else by hand.
    pub(super) async fn close_in(
        &self,
        m: &Mutation<'_>,
        id: ProposalId,
        at: DateTime<Utc>,
    ) -> RepoResult<()> {
        // Locked first: votes holding it shared have committed, later ones wait and find it
        // closed.
        let row = self.proposal_row(m, id, true).await?;
        let status: ProposalStatus = row
            .status
            .parse()
            .map_err(|e| corrupt(proposals::Entity::NAME, e))?;
        if status != ProposalStatus::Open {
            return Err(ended(status));
        }
        let options = options_of(m.txn(), m.ctx(), &[row.id]).await?;
        let positions = options.get(&row.id).map_or(0, Vec::len);
        let counts = counts_of(m.txn(), m.ctx(), &[row.id]).await?;
        let counted = counts.get(&row.id);
        let tallies: Vec<u32> = (0..positions)
            .map(|p| {
                i32::try_from(p)
                    .ok()
                    .and_then(|p| counted.and_then(|c| c.get(&p)).copied())
                    .unwrap_or(0)
            })
            .collect();
        let kind: ProposalKind = row
            .kind
            .parse()
            .map_err(|e| corrupt(proposals::Entity::NAME, e))?;
        let quorum = Quorum::parse(i64::from(row.quorum))
            .map_err(|e| corrupt(proposals::Entity::NAME, e))?;
        let threshold = u32::try_from(row.threshold_basis_points)
            .map_err(|e| corrupt(proposals::Entity::NAME, e))
            .and_then(|p| {
                Threshold::from_basis_points(p).map_err(|e| corrupt(proposals::Entity::NAME, e))
            })?;
        let (result, winner) = decide(kind, quorum, threshold, &tallies);
        let (closed_by, closed_at) = if row.closes_at <= at {
            (ClosedBy::Time, row.closes_at)
        } else {
            (ClosedBy::Hand, at)
        };
        let winner = winner
            .map(i32::try_from)
            .transpose()
            .map_err(RepoError::internal)?;
        // Written once: only while the proposal is open.
        let written = proposals::Entity::update_many()
            .col_expr(
                proposals::Column::Status,
                Expr::value(ProposalStatus::Closed.as_str()),
            )
            .col_expr(proposals::Column::Result, Expr::value(result.as_str()))
            .col_expr(proposals::Column::WinningOption, Expr::value(winner))
            .col_expr(proposals::Column::FinalTallies, Expr::value(json!(tallies)))
            .col_expr(proposals::Column::ClosedBy, Expr::value(closed_by.as_str()))
            .col_expr(proposals::Column::ClosedAt, Expr::value(closed_at))
            .filter(proposals::Column::OrganizationId.eq(m.ctx().org().as_uuid()))
            .filter(proposals::Column::Id.eq(id.as_uuid()))
            .filter(proposals::Column::Status.eq(ProposalStatus::Open.as_str()))
            .exec(m.txn())
            .await
            .map_err(db_err)?;
        if written.rows_affected != 1 {
            return Err(ended(ProposalStatus::Closed));
        }
        m.audit::<proposals::Entity>(
            Verb::Status(ProposalStatus::Closed.as_str()),
            id,
            json!({
                "result": result,
                "tallies": tallies,
                "winning_option": winner,
                "closed_by": closed_by,
                "closed_at": closed_at,
            }),
        )
        .await
    }

    /// Closes due proposal `id` by time, as the system; one that another closer got to first
    /// is left as it is.
    pub(super) async fn close_due(
        &self,
        ctx: &Ctx,
        id: ProposalId,
        now: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let system = Ctx::system(ctx.org());
        match self
            .mutate(&system, async |m| self.close_in(m, id, now).await)
            .await
        {
            Ok(()) => Ok(true),
            Err(RepoError::Conflict { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Closes the organization's proposals due at `now` (just `only`, when given).
    pub(super) async fn close_due_of(
        &self,
        ctx: &Ctx,
        only: Option<ProposalId>,
        now: DateTime<Utc>,
    ) -> RepoResult<Vec<ProposalId>> {
        let mut due = scoped::<proposals::Entity>(ctx)
            .filter(proposals::Column::Status.eq(ProposalStatus::Open.as_str()))
            .filter(proposals::Column::ClosesAt.lte(now));
        if let Some(id) = only {
            due = due.filter(proposals::Column::Id.eq(id.as_uuid()));
        }
        let ids: Vec<Uuid> = due
            .select_only()
            .column(proposals::Column::Id)
            .order_by_asc(proposals::Column::ClosesAt)
            .limit(CLOSE_BATCH)
            .into_tuple()
            .all(&self.db().await)
            .await
            .map_err(db_err)?;
        let mut closed = Vec::with_capacity(ids.len());
        for id in ids.into_iter().map(ProposalId::from_uuid) {
            if self.close_due(ctx, id, now).await? {
                closed.push(id);
            }
        }
        Ok(closed)
    }
}
