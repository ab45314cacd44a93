//! Voting: who a proposal admits, and a vote or its change in one transaction.

use super::*;

/// Whether `voter` is one the proposal admits: a user holding one of its roles, an agent of
/// one of its kinds, anyone of the organization when it names neither.
async fn admits(
    db: &impl ConnectionTrait,
    ctx: &Ctx,
    eligibility: &Eligibility,
    voter: Participant,
) -> RepoResult<bool> {
    match voter {
        Participant::User(_) if eligibility.is_everyone() => Ok(true),
        Participant::User(_) if !eligibility.admits_users() => Ok(false),
        Participant::User(user) => {
            let codes: Vec<&str> = eligibility.roles().iter().map(RoleCode::as_str).collect();
            let held = user_roles::Entity::find()
                .join(JoinType::InnerJoin, user_roles::Relation::Role.def())
                .filter(user_roles::Column::OrganizationId.eq(ctx.org().as_uuid()))
                .filter(user_roles::Column::UserId.eq(user.as_uuid()))
                .filter(roles::Column::Code.is_in(codes))
                .count(db)
                .await
                .map_err(db_err)?;
            Ok(held > 0)
        }
        Participant::Agent(agent) => {
            let kind: Option<String> = scoped::<agents::Entity>(ctx)
                .filter(agents::Column::Id.eq(agent.as_uuid()))
                .select_only()
                .column(agents::Column::Kind)
                .into_tuple()
                .one(db)
                .await
                .map_err(db_err)?;
            let kind: AgentKind = kind
                .ok_or_else(|| RepoError::reference("voter", agents::Entity::NAME, agent))?
                .parse()
                .map_err(|e| corrupt(agents::Entity::NAME, e))?;
            Ok(eligibility.admits_agent(kind))
        }
    }
}

/// `Err(Reference)` on `eligible_roles` for a code that names no role the organization sees.
/// What a vote's transaction ended with: the vote, or the proposal found past its closing
/// time (refused, and closed afterwards in a transaction of its own).
pub(super) enum Voted {
    Vote(Vote),
    Due(DateTime<Utc>),
}

impl SeaStore {
    /// Voter `voter`'s vote for `option`, in one transaction.
    pub(super) async fn vote_in(
        &self,
        ctx: &Ctx,
        id: ProposalId,
        voter: Participant,
        option: &OptionLabel,
    ) -> RepoResult<Voted> {
        self.mutate(ctx, async |m| {
            let row = self.proposal_row(m, id, false).await?;
            let status: ProposalStatus = row
                .status
                .parse()
                .map_err(|e| corrupt(proposals::Entity::NAME, e))?;
            if status != ProposalStatus::Open {
                return Err(ended(status));
            }
            if m.at() < row.opens_at {
                return Err(RepoError::conflict(
                    proposals::Entity::NAME,
                    format!(
                        "the proposal opens at {}: votes are not taken yet",
                        row.opens_at.to_rfc3339()
                    ),
                ));
            }
            if m.at() >= row.closes_at {
                return Ok(Voted::Due(row.closes_at));
            }
            let options = options_of(m.txn(), ctx, &[row.id]).await?;
            let labels = to_options(options.get(&row.id).map_or(&[], Vec::as_slice))?;
            let Some(position) = labels.iter().position(|label| label == option) else {
                let names: Vec<&str> = labels.iter().map(OptionLabel::as_str).collect();
                return Err(DomainError::invalid(
                    "option",
                    format!("{:?} is not one of {}", option.as_str(), names.join(", ")),
                )
                .into());
            };
            let position = i32::try_from(position).map_err(RepoError::internal)?;
            require_holder(m.txn(), ctx, "voter", voter).await?;
            if !admits(m.txn(), ctx, &to_eligibility(&row)?, voter).await? {
                return Err(DomainError::invalid(
                    "voter",
                    "is not eligible to vote on this proposal",
                )
                .into());
            }
            let (agent_id, user_id) = holder_columns(voter);
            // The key refuses a second row whatever the concurrency: a first vote that finds
            // one (written meanwhile or before) is a change.
            let inserted = votes::Entity::insert(votes::ActiveModel {
                organization_id: Set(ctx.org().as_uuid()),
                proposal_id: Set(row.id),
                voter_id: Set(voter.id()),
                agent_id: Set(agent_id),
                user_id: Set(user_id),
                option_position: Set(position),
                cast_at: Set(m.at()),
                changed_at: Set(None),
            })
            .on_conflict(
                OnConflict::columns([
                    votes::Column::OrganizationId,
                    votes::Column::ProposalId,
                    votes::Column::VoterId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(m.txn())
            .await
            .map_err(db_err)?;
            let key = (ctx.org().as_uuid(), row.id, voter.id());
            if inserted == 1 {
                m.audit::<proposals::Entity>(
                    Verb::Named("vote"),
                    id,
                    json!({ "voter": voter, "option": option }),
                )
                .await?;
                return Ok(Voted::Vote(Vote {
                    proposal_id: id,
                    voter,
                    option: option.clone(),
                    cast_at: m.at(),
                    changed_at: None,
                }));
            }
            if !row.allow_vote_change {
                return Err(RepoError::Conflict {
                    entity: votes::Entity::NAME,
                    field: Some("voter"),
                    reason: "the voter has voted already, and this proposal does not allow \
                             changing a vote"
                        .to_owned(),
                });
            }
            let mut current = votes::Entity::find_by_id(key);
            if self.is_postgres() {
                current = current.lock_exclusive();
            }
            let current = current
                .one(m.txn())
                .await
                .map_err(db_err)?
                .ok_or_else(|| RepoError::internal("a vote vanished as it was changed"))?;
            if current.option_position == position {
                return to_vote(current, option.clone()).map(Voted::Vote);
            }
            let from = usize::try_from(current.option_position)
                .ok()
                .and_then(|p| labels.get(p))
                .ok_or_else(|| corrupt(votes::Entity::NAME, "an option the proposal lacks"))?;
            votes::Entity::update_many()
                .col_expr(votes::Column::OptionPosition, Expr::value(position))
                .col_expr(votes::Column::ChangedAt, Expr::value(m.at()))
                .filter(votes::Column::OrganizationId.eq(key.0))
                .filter(votes::Column::ProposalId.eq(key.1))
                .filter(votes::Column::VoterId.eq(key.2))
                .exec(m.txn())
                .await
                .map_err(db_err)?;
            m.audit::<proposals::Entity>(
                Verb::Named("vote_change"),
                id,
                json!({ "voter": voter, "from": from, "to": option }),
            )
            .await?;
            to_vote(
                votes::Model {
                    option_position: position,
                    changed_at: Some(m.at()),
                    ..current
                },
                option.clone(),
            )
            .map(Voted::Vote)
        })
        .await
    }
}
