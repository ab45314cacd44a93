use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Brainstorms and mentorships.
///
/// A brainstorm (`brainstorms`: a topic, a facilitator, open until closed) takes ideas
/// (`brainstorm_ideas`, each with its count of votes, kept in the transaction of every vote and
/// indexed by it so that the top ideas are the first rows of an index) and votes on them
/// (`brainstorm_idea_votes`, one per idea and voter: the primary key). A vote refers to its
/// idea by `(organization_id, brainstorm_id, idea_id)`, so it cannot name an idea of another
/// brainstorm. The voter has no foreign key: a vote, once cast, stays counted, and the kept
/// count would drift from the rows if a voter's removal took its votes with it.
///
/// A mentorship (`mentorships`) pairs a mentor and a different mentee, with goals and a status;
/// a unique index of the active ones keeps a mentor and mentee to one active mentorship. Its
/// sessions (`mentorship_sessions`) go with it.
///
/// A facilitator, an author, a mentor or a mentee is an agent or a user: two nullable columns
/// with composite foreign keys into the organization, and the one that is set as `…_id` (as
/// the points ledger does); each goes with its agent or user.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut brainstorms = Table::create();
        brainstorms
            .table(Brainstorms::Table)
            .col(uuid(Brainstorms::OrganizationId))
            .col(uuid(Brainstorms::Id))
            .col(string_len(Brainstorms::Topic, 200))
            .col(text(Brainstorms::Description))
            .col(uuid(Brainstorms::FacilitatorId))
            .col(uuid_null(Brainstorms::FacilitatorAgentId))
            .col(uuid_null(Brainstorms::FacilitatorUserId))
            .col(uuid_null(Brainstorms::ProjectId))
            .col(string_len(Brainstorms::Status, 16))
            .col(timestamp_with_time_zone(Brainstorms::CreatedAt))
            .col(timestamp_with_time_zone_null(Brainstorms::ClosedAt))
            .check((
                Alias::new("ck_brainstorms_facilitator"),
                one_of(
                    Brainstorms::FacilitatorId,
                    Brainstorms::FacilitatorAgentId,
                    Brainstorms::FacilitatorUserId,
                ),
            ))
            .check((
                Alias::new("ck_brainstorms_status"),
                Expr::col(Brainstorms::Status)
                    .is_in(["open", "closed"])
                    .and(
                        Expr::col(Brainstorms::Status)
                            .eq("closed")
                            .eq(Expr::col(Brainstorms::ClosedAt).is_not_null()),
                    ),
            ))
            .primary_key(
                Index::create()
                    .name("pk_brainstorms")
                    .col(Brainstorms::OrganizationId)
                    .col(Brainstorms::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_brainstorms_project")
                    .from(
                        Brainstorms::Table,
                        (Brainstorms::OrganizationId, Brainstorms::ProjectId),
                    )
                    .to(Parent::Projects, (Parent::OrganizationId, Parent::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        organization_key(&mut brainstorms, "brainstorms", Brainstorms::Table);
        participant_keys(
            &mut brainstorms,
            "brainstorms_facilitator",
            (
                Brainstorms::Table,
                Brainstorms::OrganizationId,
                Brainstorms::FacilitatorAgentId,
                Brainstorms::FacilitatorUserId,
            ),
        );
        manager.create_table(brainstorms.to_owned()).await?;

        let mut ideas = Table::create();
        ideas
            .table(Ideas::Table)
            .col(uuid(Ideas::OrganizationId))
            .col(uuid(Ideas::Id))
            .col(uuid(Ideas::BrainstormId))
            .col(uuid(Ideas::AuthorId))
            .col(uuid_null(Ideas::AuthorAgentId))
            .col(uuid_null(Ideas::AuthorUserId))
            .col(text(Ideas::Text))
            .col(big_integer(Ideas::Votes).check(Expr::col(Ideas::Votes).gte(0)))
            .col(timestamp_with_time_zone(Ideas::CreatedAt))
            .check((
                Alias::new("ck_brainstorm_ideas_author"),
                one_of(Ideas::AuthorId, Ideas::AuthorAgentId, Ideas::AuthorUserId),
            ))
            .primary_key(
                Index::create()
                    .name("pk_brainstorm_ideas")
                    .col(Ideas::OrganizationId)
                    .col(Ideas::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_brainstorm_ideas_brainstorm")
                    .from(Ideas::Table, (Ideas::OrganizationId, Ideas::BrainstormId))
                    .to(
                        Brainstorms::Table,
                        (Brainstorms::OrganizationId, Brainstorms::Id),
                    )
                    .on_delete(ForeignKeyAction::Cascade),
            );
        organization_key(&mut ideas, "brainstorm_ideas", Ideas::Table);
        participant_keys(
            &mut ideas,
            "brainstorm_ideas_author",
            (
                Ideas::Table,
                Ideas::OrganizationId,
                Ideas::AuthorAgentId,
                Ideas::AuthorUserId,
            ),
        );
        manager.create_table(ideas.to_owned()).await?;
        // The key votes refer to (an idea of that brainstorm), and a brainstorm's ideas in the
        // order they were put.
        manager
            .create_index(
                Index::create()
                    .name("uq_brainstorm_ideas_brainstorm")
                    .table(Ideas::Table)
                    .col(Ideas::OrganizationId)
                    .col(Ideas::BrainstormId)
                    .col(Ideas::Id)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut votes = Table::create();
        votes
            .table(Votes::Table)
            .col(uuid(Votes::OrganizationId))
            .col(uuid(Votes::BrainstormId))
            .col(uuid(Votes::IdeaId))
            .col(uuid(Votes::VoterId))
            .col(uuid_null(Votes::VoterAgentId))
            .col(uuid_null(Votes::VoterUserId))
            .col(timestamp_with_time_zone(Votes::VotedAt))
            .check((
                Alias::new("ck_brainstorm_idea_votes_voter"),
                one_of(Votes::VoterId, Votes::VoterAgentId, Votes::VoterUserId),
            ))
            .primary_key(
                Index::create()
                    .name("pk_brainstorm_idea_votes")
                    .col(Votes::OrganizationId)
                    .col(Votes::IdeaId)
                    .col(Votes::VoterId),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_brainstorm_idea_votes_idea")
                    .from(
                        Votes::Table,
                        (Votes::OrganizationId, Votes::BrainstormId, Votes::IdeaId),
                    )
                    .to(
                        Ideas::Table,
                        (Ideas::OrganizationId, Ideas::BrainstormId, Ideas::Id),
                    )
                    .on_delete(ForeignKeyAction::Cascade),
            );
        organization_key(&mut votes, "brainstorm_idea_votes", Votes::Table);
        manager.create_table(votes.to_owned()).await?;

        let mut mentorships = Table::create();
        mentorships
            .table(Mentorships::Table)
            .col(uuid(Mentorships::OrganizationId))
            .col(uuid(Mentorships::Id))
            .col(uuid(Mentorships::MentorId))
            .col(uuid_null(Mentorships::MentorAgentId))
            .col(uuid_null(Mentorships::MentorUserId))
            .col(uuid(Mentorships::MenteeId))
            .col(uuid_null(Mentorships::MenteeAgentId))
            .col(uuid_null(Mentorships::MenteeUserId))
            .col(json_binary(Mentorships::Goals))
            .col(string_len(Mentorships::Status, 16))
            .col(timestamp_with_time_zone(Mentorships::CreatedAt))
            .col(timestamp_with_time_zone_null(Mentorships::StartedAt))
            .col(timestamp_with_time_zone_null(Mentorships::EndedAt))
            .check((
                Alias::new("ck_mentorships_mentor"),
                one_of(
                    Mentorships::MentorId,
                    Mentorships::MentorAgentId,
                    Mentorships::MentorUserId,
                ),
            ))
            .check((
                Alias::new("ck_mentorships_mentee"),
                one_of(
                    Mentorships::MenteeId,
                    Mentorships::MenteeAgentId,
                    Mentorships::MenteeUserId,
                ),
            ))
            .check((
                Alias::new("ck_mentorships_two_people"),
                Expr::col(Mentorships::MentorId).ne(Expr::col(Mentorships::MenteeId)),
            ))
            .check((
                Alias::new("ck_mentorships_status"),
                Expr::col(Mentorships::Status)
                    .is_in(["proposed", "active", "completed", "cancelled"])
                    .and(
                        Expr::col(Mentorships::Status)
                            .is_in(["completed", "cancelled"])
                            .eq(Expr::col(Mentorships::EndedAt).is_not_null()),
                    )
                    .and(
                        Expr::col(Mentorships::Status)
                            .is_not_in(["active", "completed"])
                            .or(Expr::col(Mentorships::StartedAt).is_not_null()),
                    ),
            ))
            .primary_key(
                Index::create()
                    .name("pk_mentorships")
                    .col(Mentorships::OrganizationId)
                    .col(Mentorships::Id),
            );
        organization_key(&mut mentorships, "mentorships", Mentorships::Table);
        participant_keys(
            &mut mentorships,
            "mentorships_mentor",
            (
                Mentorships::Table,
                Mentorships::OrganizationId,
                Mentorships::MentorAgentId,
                Mentorships::MentorUserId,
            ),
        );
        participant_keys(
            &mut mentorships,
            "mentorships_mentee",
            (
                Mentorships::Table,
                Mentorships::OrganizationId,
                Mentorships::MenteeAgentId,
                Mentorships::MenteeUserId,
            ),
        );
        manager.create_table(mentorships.to_owned()).await?;
        // At most one active mentorship per mentor and mentee, whatever the interleaving.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_mentorships_active ON mentorships \
                 (organization_id, mentor_id, mentee_id) WHERE status = 'active'",
            )
            .await?;

        let mut sessions = Table::create();
        sessions
            .table(Sessions::Table)
            .col(uuid(Sessions::OrganizationId))
            .col(uuid(Sessions::Id))
            .col(uuid(Sessions::MentorshipId))
            .col(timestamp_with_time_zone(Sessions::HeldAt))
            .col(
                integer(Sessions::DurationMinutes)
                    .check(Expr::col(Sessions::DurationMinutes).between(1, 1440)),
            )
            .col(text(Sessions::Notes))
            .col(integer(Sessions::Progress).check(Expr::col(Sessions::Progress).between(0, 100)))
            .col(string_len(Sessions::RecordedBy, 128))
            .col(timestamp_with_time_zone(Sessions::RecordedAt))
            .primary_key(
                Index::create()
                    .name("pk_mentorship_sessions")
                    .col(Sessions::OrganizationId)
                    .col(Sessions::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_mentorship_sessions_mentorship")
                    .from(
                        Sessions::Table,
                        (Sessions::OrganizationId, Sessions::MentorshipId),
                    )
                    .to(
                        Mentorships::Table,
                        (Mentorships::OrganizationId, Mentorships::Id),
                    )
                    .on_delete(ForeignKeyAction::Cascade),
            );
        organization_key(&mut sessions, "mentorship_sessions", Sessions::Table);
        manager.create_table(sessions.to_owned()).await?;

        // The top ideas: the first rows of (brainstorm, votes DESC, id); a brainstorm's voters
        // (its statistics); lists by status and project, by mentor and mentee; a mentorship's
        // sessions, in the order recorded and by when they were held (the latest progress);
        // the agent and user indexes serve the cascades.
        let mut indexes: Vec<IndexCreateStatement> = vec![
            Index::create()
                .name("idx_brainstorm_ideas_top")
                .table(Ideas::Table)
                .col(Ideas::OrganizationId)
                .col(Ideas::BrainstormId)
                .col((Ideas::Votes, IndexOrder::Desc))
                .col(Ideas::Id)
                .to_owned(),
            Index::create()
                .name("idx_brainstorm_idea_votes_brainstorm")
                .table(Votes::Table)
                .col(Votes::OrganizationId)
                .col(Votes::BrainstormId)
                .col(Votes::VoterId)
                .to_owned(),
            Index::create()
                .name("idx_brainstorms_status")
                .table(Brainstorms::Table)
                .col(Brainstorms::OrganizationId)
                .col(Brainstorms::Status)
                .col(Brainstorms::Id)
                .to_owned(),
            Index::create()
                .name("idx_brainstorms_project")
                .table(Brainstorms::Table)
                .col(Brainstorms::OrganizationId)
                .col(Brainstorms::ProjectId)
                .col(Brainstorms::Id)
                .to_owned(),
            Index::create()
                .name("idx_mentorships_mentor")
                .table(Mentorships::Table)
                .col(Mentorships::OrganizationId)
                .col(Mentorships::MentorId)
                .col(Mentorships::Id)
                .to_owned(),
            Index::create()
                .name("idx_mentorships_mentee")
                .table(Mentorships::Table)
                .col(Mentorships::OrganizationId)
                .col(Mentorships::MenteeId)
                .col(Mentorships::Id)
                .to_owned(),
            Index::create()
                .name("idx_mentorship_sessions_mentorship")
                .table(Sessions::Table)
                .col(Sessions::OrganizationId)
                .col(Sessions::MentorshipId)
                .col(Sessions::Id)
                .to_owned(),
            Index::create()
                .name("idx_mentorship_sessions_held_at")
                .table(Sessions::Table)
                .col(Sessions::OrganizationId)
                .col(Sessions::MentorshipId)
                .col(Sessions::HeldAt)
                .to_owned(),
        ];
        for (name, table, column) in [
            (
                "idx_brainstorms_facilitator_agent",
                Brainstorms::Table.into_iden(),
                Brainstorms::FacilitatorAgentId.into_iden(),
            ),
            (
                "idx_brainstorms_facilitator_user",
                Brainstorms::Table.into_iden(),
                Brainstorms::FacilitatorUserId.into_iden(),
            ),
            (
                "idx_brainstorm_ideas_author_agent",
                Ideas::Table.into_iden(),
                Ideas::AuthorAgentId.into_iden(),
            ),
            (
                "idx_brainstorm_ideas_author_user",
                Ideas::Table.into_iden(),
                Ideas::AuthorUserId.into_iden(),
            ),
            (
                "idx_mentorships_mentor_agent",
                Mentorships::Table.into_iden(),
                Mentorships::MentorAgentId.into_iden(),
            ),
            (
                "idx_mentorships_mentor_user",
                Mentorships::Table.into_iden(),
                Mentorships::MentorUserId.into_iden(),
            ),
            (
                "idx_mentorships_mentee_agent",
                Mentorships::Table.into_iden(),
                Mentorships::MenteeAgentId.into_iden(),
            ),
            (
                "idx_mentorships_mentee_user",
                Mentorships::Table.into_iden(),
                Mentorships::MenteeUserId.into_iden(),
            ),
        ] {
            indexes.push(
                Index::create()
                    .name(name)
                    .table(table)
                    .col(Parent::OrganizationId)
                    .col(column)
                    .to_owned(),
            );
        }
        for index in indexes {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Sessions::Table.into_iden(),
            Mentorships::Table.into_iden(),
            Votes::Table.into_iden(),
            Ideas::Table.into_iden(),
            Brainstorms::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// Exactly one of `agent` and `user` is set, and `id` is that one.
fn one_of(
    id: impl Iden + Copy + 'static,
    agent: impl Iden + Copy + 'static,
    user: impl Iden + Copy + 'static,
) -> SimpleExpr {
    Expr::col(agent)
        .is_not_null()
        .and(Expr::col(user).is_null())
        .and(Expr::col(id).eq(Expr::col(agent)))
        .or(Expr::col(user)
            .is_not_null()
            .and(Expr::col(agent).is_null())
            .and(Expr::col(id).eq(Expr::col(user))))
}

/// The table's key to its organization.
fn organization_key(
    table: &mut TableCreateStatement,
    name: &str,
    iden: impl Iden + Copy + 'static,
) {
    table.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{name}_organization"))
            .from(iden, Parent::OrganizationId)
            .to(Parent::Organizations, Parent::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
}

/// The keys of one participant's two columns (`(table, organization, agent, user)`) to the
/// organization's agents and users, named `fk_<name>_agent` and `fk_<name>_user`.
fn participant_keys<T: Iden + Copy + 'static>(
    table: &mut TableCreateStatement,
    name: &str,
    (iden, organization, agent, user): (T, T, T, T),
) {
    for (suffix, column, parent) in [
        ("agent", agent, Parent::Agents),
        ("user", user, Parent::Users),
    ] {
        table.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_{suffix}"))
                .from(iden, (organization, column))
                .to(parent, (Parent::OrganizationId, Parent::Id))
                .on_delete(ForeignKeyAction::Cascade),
        );
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Brainstorms {
    Table,
    OrganizationId,
    Id,
    Topic,
    Description,
    FacilitatorId,
    FacilitatorAgentId,
    FacilitatorUserId,
    ProjectId,
    Status,
    CreatedAt,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Ideas {
    #[sea_orm(iden = "brainstorm_ideas")]
    Table,
    OrganizationId,
    Id,
    BrainstormId,
    AuthorId,
    AuthorAgentId,
    AuthorUserId,
    Text,
    Votes,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Votes {
    #[sea_orm(iden = "brainstorm_idea_votes")]
    Table,
    OrganizationId,
    BrainstormId,
    IdeaId,
    VoterId,
    VoterAgentId,
    VoterUserId,
    VotedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Mentorships {
    Table,
    OrganizationId,
    Id,
    MentorId,
    MentorAgentId,
    MentorUserId,
    MenteeId,
    MenteeAgentId,
    MenteeUserId,
    Goals,
    Status,
    CreatedAt,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    #[sea_orm(iden = "mentorship_sessions")]
    Table,
    OrganizationId,
    Id,
    MentorshipId,
    HeldAt,
    DurationMinutes,
    Notes,
    Progress,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Projects,
    Agents,
    Users,
    OrganizationId,
    Id,
}
