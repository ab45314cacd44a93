use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Voting: proposals (`proposals`) with their options in order (`proposal_options`) and one
/// vote per voter (`votes`, keyed by proposal and voter, so that concurrent first votes of one
/// voter cannot leave two rows). A voter is an agent or a user, as a holder of points is: two
/// nullable columns with composite foreign keys into the organization, and `voter_id`, the one
/// that is set, in the key. A vote names its option by position, through a foreign key into
/// the proposal's options: it cannot name another proposal's.
///
/// A proposal's result, winning option, final tallies and what closed it are written once, when
/// it closes; checks tie them to its status. The threshold is kept in basis points, so that the
/// decision compares integers alike on both backends.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let closed = || Expr::col(Proposals::Status).eq("closed");
        manager
            .create_table(
                Table::create()
                    .table(Proposals::Table)
                    .col(uuid(Proposals::OrganizationId))
                    .col(uuid(Proposals::Id))
                    .col(string_len(Proposals::Title, 200))
                    .col(text(Proposals::Body))
                    .col(
                        string_len(Proposals::Kind, 16)
                            .check(Expr::col(Proposals::Kind).is_in(["yes_no", "choice"])),
                    )
                    .col(integer(Proposals::Quorum).check(Expr::col(Proposals::Quorum).gte(1)))
                    .col(
                        integer(Proposals::ThresholdBasisPoints)
                            .check(Expr::col(Proposals::ThresholdBasisPoints).between(1, 10_000)),
                    )
                    .col(json_binary(Proposals::EligibleRoles))
                    .col(json_binary(Proposals::EligibleAgentKinds))
                    .col(boolean(Proposals::AllowVoteChange))
                    .col(timestamp_with_time_zone(Proposals::OpensAt))
                    .col(timestamp_with_time_zone(Proposals::ClosesAt))
                    .col(
                        string_len(Proposals::Status, 16).check(
                            Expr::col(Proposals::Status).is_in(["open", "closed", "cancelled"]),
                        ),
                    )
                    .col(string_len_null(Proposals::Result, 16).check(
                        Expr::col(Proposals::Result).is_in(["passed", "rejected", "no_quorum"]),
                    ))
                    .col(integer_null(Proposals::WinningOption))
                    .col(json_binary_null(Proposals::FinalTallies))
                    .col(
                        string_len_null(Proposals::ClosedBy, 16)
                            .check(Expr::col(Proposals::ClosedBy).is_in(["time", "hand"])),
                    )
                    .col(timestamp_with_time_zone_null(Proposals::ClosedAt))
                    .col(timestamp_with_time_zone(Proposals::CreatedAt))
                    .check((
                        Alias::new("ck_proposals_schedule"),
                        Expr::col(Proposals::ClosesAt).gt(Expr::col(Proposals::OpensAt)),
                    ))
                    // A closed proposal has its result, tallies and closer; no other has any.
                    .check((
                        Alias::new("ck_proposals_result"),
                        closed()
                            .eq(Expr::col(Proposals::Result).is_not_null())
                            .and(closed().eq(Expr::col(Proposals::FinalTallies).is_not_null()))
                            .and(closed().eq(Expr::col(Proposals::ClosedBy).is_not_null())),
                    ))
                    .check((
                        Alias::new("ck_proposals_winner"),
                        Expr::col(Proposals::WinningOption)
                            .is_null()
                            .or(Expr::col(Proposals::Result).eq("passed")),
                    ))
                    .check((
                        Alias::new("ck_proposals_closed_at"),
                        Expr::col(Proposals::Status)
                            .eq("open")
                            .eq(Expr::col(Proposals::ClosedAt).is_null()),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_proposals")
                            .col(Proposals::OrganizationId)
                            .col(Proposals::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_proposals_organization")
                            .from(Proposals::Table, Proposals::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Options::Table)
                    .col(uuid(Options::OrganizationId))
                    .col(uuid(Options::ProposalId))
                    .col(integer(Options::Position).check(Expr::col(Options::Position).gte(0)))
                    .col(string_len(Options::Label, 100))
                    .primary_key(
                        Index::create()
                            .name("pk_proposal_options")
                            .col(Options::OrganizationId)
                            .col(Options::ProposalId)
                            .col(Options::Position),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_proposal_options_proposal")
                            .from(
                                Options::Table,
                                (Options::OrganizationId, Options::ProposalId),
                            )
                            .to(Proposals::Table, (Proposals::OrganizationId, Proposals::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_proposal_options_label")
                    .table(Options::Table)
                    .col(Options::OrganizationId)
                    .col(Options::ProposalId)
                    .col(Options::Label)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Votes::Table)
                    .col(uuid(Votes::OrganizationId))
                    .col(uuid(Votes::ProposalId))
                    .col(uuid(Votes::VoterId))
                    .col(uuid_null(Votes::AgentId))
                    .col(uuid_null(Votes::UserId))
                    .col(integer(Votes::OptionPosition))
                    .col(timestamp_with_time_zone(Votes::CastAt))
                    .col(timestamp_with_time_zone_null(Votes::ChangedAt))
                    .check((Alias::new("ck_votes_voter"), one_voter()))
                    .primary_key(
                        Index::create()
                            .name("pk_votes")
                            .col(Votes::OrganizationId)
                            .col(Votes::ProposalId)
                            .col(Votes::VoterId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_votes_organization")
                            .from(Votes::Table, Votes::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_votes_option")
                            .from(
                                Votes::Table,
                                (
                                    Votes::OrganizationId,
                                    Votes::ProposalId,
                                    Votes::OptionPosition,
                                ),
                            )
                            .to(
                                Options::Table,
                                (
                                    Options::OrganizationId,
                                    Options::ProposalId,
                                    Options::Position,
                                ),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_votes_agent")
                            .from(Votes::Table, (Votes::OrganizationId, Votes::AgentId))
                            .to(Parent::Agents, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_votes_user")
                            .from(Votes::Table, (Votes::OrganizationId, Votes::UserId))
                            .to(Parent::Users, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // The sweep's two reads: the organizations with open proposals past their closing time
        // (instance-wide), and those proposals of one organization. The tallies count one
        // proposal's votes by option; the agent and user indexes serve the cascades.
        for (name, table, columns) in [
            (
                "idx_proposals_due",
                Proposals::Table.into_iden(),
                vec![
                    Proposals::Status.into_iden(),
                    Proposals::ClosesAt.into_iden(),
                    Proposals::OrganizationId.into_iden(),
                ],
            ),
            (
                "idx_proposals_organization_due",
                Proposals::Table.into_iden(),
                vec![
                    Proposals::OrganizationId.into_iden(),
                    Proposals::Status.into_iden(),
                    Proposals::ClosesAt.into_iden(),
                ],
            ),
            (
                "idx_votes_option",
                Votes::Table.into_iden(),
                vec![
                    Votes::OrganizationId.into_iden(),
                    Votes::ProposalId.into_iden(),
                    Votes::OptionPosition.into_iden(),
                ],
            ),
            (
                "idx_votes_agent",
                Votes::Table.into_iden(),
                vec![
                    Votes::OrganizationId.into_iden(),
                    Votes::AgentId.into_iden(),
                ],
            ),
            (
                "idx_votes_user",
                Votes::Table.into_iden(),
                vec![Votes::OrganizationId.into_iden(), Votes::UserId.into_iden()],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Votes::Table.into_iden(),
            Options::Table.into_iden(),
            Proposals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Exactly one of `agent_id` and `user_id` is set, and `voter_id` is that one.
fn one_voter() -> SimpleExpr {
    Expr::col(Votes::AgentId)
        .is_not_null()
        .and(Expr::col(Votes::UserId).is_null())
        .and(Expr::col(Votes::VoterId).eq(Expr::col(Votes::AgentId)))
        .or(Expr::col(Votes::UserId)
            .is_not_null()
            .and(Expr::col(Votes::AgentId).is_null())
            .and(Expr::col(Votes::VoterId).eq(Expr::col(Votes::UserId))))
}

#[derive(DeriveIden, Clone, Copy)]
enum Proposals {
    Table,
    OrganizationId,
    Id,
    Title,
    Body,
    Kind,
    Quorum,
    ThresholdBasisPoints,
    EligibleRoles,
    EligibleAgentKinds,
    AllowVoteChange,
    OpensAt,
    ClosesAt,
    Status,
    Result,
    WinningOption,
    FinalTallies,
    ClosedBy,
    ClosedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Options {
    #[sea_orm(iden = "proposal_options")]
    Table,
    OrganizationId,
    ProposalId,
    Position,
    Label,
}

#[derive(DeriveIden, Clone, Copy)]
enum Votes {
    Table,
    OrganizationId,
    ProposalId,
    VoterId,
    AgentId,
    UserId,
    OptionPosition,
    CastAt,
    ChangedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Agents,
    Users,
    OrganizationId,
    Id,
}
