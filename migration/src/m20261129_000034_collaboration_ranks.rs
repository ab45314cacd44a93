use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Points, levels and rated matches: the points ledger (`point_awards`, append-only), each
/// holder's totals (`standings`, kept in the transaction of every award and match result and
/// indexed by score so that a leaderboard's top rows are an index read), the organization's
/// rules (`collaboration_settings`), and matches with their players (`matches`,
/// `match_players`, whose finished rows are the rating history).
///
/// A holder is an agent or a user: two nullable columns with composite foreign keys into the
/// organization (as messages do), and `holder_id`, the one that is set, as the key.
///
/// The `collaboration:*` permissions are inserted only where missing, and granted only where
/// not granted yet: another migration of the same aggregate may bring the same codes.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(uuid(Settings::OrganizationId).primary_key())
                    .col(json_binary(Settings::LevelThresholds))
                    .col(integer(Settings::KFactor))
                    .col(integer(Settings::ProvisionalKFactor))
                    .col(integer(Settings::ProvisionalMatches))
                    .col(timestamp_with_time_zone(Settings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_collaboration_settings_organization")
                            .from(Settings::Table, Settings::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let mut awards = Table::create();
        awards
            .table(Ledger::PointAwards)
            .col(uuid(Ledger::OrganizationId))
            .col(uuid(Ledger::Id))
            .col(uuid(Ledger::HolderId))
            .col(uuid_null(Ledger::AgentId))
            .col(uuid_null(Ledger::UserId))
            .col(big_integer(Ledger::Points))
            .col(text(Ledger::Reason))
            .col(string_len(Ledger::Source, 100))
            .col(timestamp_with_time_zone(Ledger::AwardedAt))
            .check((Alias::new("ck_point_awards_holder"), one_holder()))
            .check((
                Alias::new("ck_point_awards_points"),
                Expr::col(Ledger::Points).ne(0),
            ))
            .primary_key(
                Index::create()
                    .name("pk_point_awards")
                    .col(Ledger::OrganizationId)
                    .col(Ledger::Id),
            );
        holder_keys(&mut awards, "point_awards", Ledger::PointAwards);
        manager.create_table(awards.to_owned()).await?;

        let mut standings = Table::create();
        standings
            .table(Ledger::Standings)
            .col(uuid(Ledger::OrganizationId))
            .col(uuid(Ledger::HolderId))
            .col(uuid_null(Ledger::AgentId))
            .col(uuid_null(Ledger::UserId))
            .col(big_integer(Ledger::Points))
            .col(big_integer(Ledger::Experience))
            .col(integer(Ledger::Rating))
            .col(integer(Ledger::MatchesPlayed))
            .col(timestamp_with_time_zone(Ledger::UpdatedAt))
            .check((Alias::new("ck_standings_holder"), one_holder()))
            .primary_key(
                Index::create()
                    .name("pk_standings")
                    .col(Ledger::OrganizationId)
                    .col(Ledger::HolderId),
            );
        holder_keys(&mut standings, "standings", Ledger::Standings);
        manager.create_table(standings.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Matches::Table)
                    .col(uuid(Matches::OrganizationId))
                    .col(uuid(Matches::Id))
                    .col(uuid_null(Matches::TaskId))
                    .col(string_len_null(Matches::Challenge, 200))
                    .col(string_len(Matches::Status, 16))
                    .col(timestamp_with_time_zone(Matches::CreatedAt))
                    .col(timestamp_with_time_zone_null(Matches::FinishedAt))
                    .check((
                        Alias::new("ck_matches_subject"),
                        Expr::col(Matches::TaskId)
                            .is_null()
                            .ne(Expr::col(Matches::Challenge).is_null()),
                    ))
                    .check((
                        Alias::new("ck_matches_status"),
                        Expr::col(Matches::Status).is_in(["open", "finished"]).and(
                            Expr::col(Matches::Status)
                                .eq("finished")
                                .eq(Expr::col(Matches::FinishedAt).is_not_null()),
                        ),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_matches")
                            .col(Matches::OrganizationId)
                            .col(Matches::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_matches_organization")
                            .from(Matches::Table, Matches::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_matches_task")
                            .from(Matches::Table, (Matches::OrganizationId, Matches::TaskId))
                            .to(Parent::Tasks, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MatchPlayers::Table)
                    .col(uuid(MatchPlayers::OrganizationId))
                    .col(uuid(MatchPlayers::MatchId))
                    .col(uuid(MatchPlayers::AgentId))
                    .col(integer(MatchPlayers::Position))
                    .col(integer_null(MatchPlayers::Place))
                    .col(integer_null(MatchPlayers::RatingBefore))
                    .col(integer_null(MatchPlayers::RatingAfter))
                    .col(timestamp_with_time_zone_null(MatchPlayers::FinishedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_match_players")
                            .col(MatchPlayers::OrganizationId)
                            .col(MatchPlayers::MatchId)
                            .col(MatchPlayers::AgentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_players_match")
                            .from(
                                MatchPlayers::Table,
                                (MatchPlayers::OrganizationId, MatchPlayers::MatchId),
                            )
                            .to(Matches::Table, (Matches::OrganizationId, Matches::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_players_agent")
                            .from(
                                MatchPlayers::Table,
                                (MatchPlayers::OrganizationId, MatchPlayers::AgentId),
                            )
                            .to(Parent::Agents, (Parent::OrganizationId, Parent::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // The leaderboards: a top-N by points or rating reads the first N entries of one index
        // (ties broken by holder); a period's points sum the awards of an index range; a
        // holder's ledger and an agent's rating history are one range each; the agent and
        // user indexes also serve the cascades.
        for (name, table, columns) in [
            (
                "idx_standings_points",
                Ledger::Standings,
                [(Ledger::Points, true), (Ledger::HolderId, false)].as_slice(),
            ),
            (
                "idx_standings_rating",
                Ledger::Standings,
                &[(Ledger::Rating, true), (Ledger::HolderId, false)],
            ),
            (
                "idx_standings_agent",
                Ledger::Standings,
                &[(Ledger::AgentId, false)],
            ),
            (
                "idx_standings_user",
                Ledger::Standings,
                &[(Ledger::UserId, false)],
            ),
            (
                "idx_point_awards_awarded_at",
                Ledger::PointAwards,
                &[(Ledger::AwardedAt, false), (Ledger::HolderId, false)],
            ),
            (
                "idx_point_awards_holder",
                Ledger::PointAwards,
                &[(Ledger::HolderId, false), (Ledger::Id, false)],
            ),
            (
                "idx_point_awards_agent",
                Ledger::PointAwards,
                &[(Ledger::AgentId, false)],
            ),
            (
                "idx_point_awards_user",
                Ledger::PointAwards,
                &[(Ledger::UserId, false)],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table).col(Ledger::OrganizationId);
            for (column, descending) in columns {
                if *descending {
                    index.col((*column, IndexOrder::Desc));
                } else {
                    index.col(*column);
                }
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_match_players_agent")
                    .table(MatchPlayers::Table)
                    .col(MatchPlayers::OrganizationId)
                    .col(MatchPlayers::AgentId)
                    .col(MatchPlayers::FinishedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_matches_task")
                    .table(Matches::Table)
                    .col(Matches::OrganizationId)
                    .col(Matches::TaskId)
                    .to_owned(),
            )
            .await?;

        grant_missing(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "DELETE FROM permissions WHERE code IN ({})",
                CODES.map(|code| format!("'{code}'")).join(", ")
            ))
            .await?;
        for table in [
            MatchPlayers::Table.into_iden(),
            Matches::Table.into_iden(),
            Ledger::Standings.into_iden(),
            Ledger::PointAwards.into_iden(),
            Settings::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

const CODES: [&str; 3] = [
    "collaboration:read",
    "collaboration:write",
    "collaboration:admin",
];

/// Which system role gets which code: owner and admin everything, developer read and write,
/// viewer read, an agent's key read (an agent does not award itself points or report its own
/// matches).
const GRANTS: [(&str, &[&str]); 5] = [
    ("owner", &CODES),
    ("admin", &CODES),
    ("developer", &["collaboration:read", "collaboration:write"]),
    ("viewer", &["collaboration:read"]),
    ("agent", &["collaboration:read"]),
];

/// Inserts each code and grant that is not there yet. The statements name only literals, so
/// one text serves both backends.
async fn grant_missing(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for code in CODES {
        db.execute_unprepared(&format!(
            "INSERT INTO permissions (code) SELECT '{code}' WHERE NOT EXISTS \
             (SELECT 1 FROM permissions WHERE code = '{code}')"
        ))
        .await?;
    }
    for (role, codes) in GRANTS {
        for code in codes {
            db.execute_unprepared(&format!(
                "INSERT INTO role_permissions (role_id, permission_code) \
                 SELECT r.id, '{code}' FROM roles r WHERE r.code = '{role}' AND r.is_system \
                 AND NOT EXISTS (SELECT 1 FROM role_permissions rp \
                 WHERE rp.role_id = r.id AND rp.permission_code = '{code}')"
            ))
            .await?;
        }
    }
    Ok(())
}

/// Exactly one of `agent_id` and `user_id` is set, and `holder_id` is that one.
fn one_holder() -> SimpleExpr {
    Expr::col(Ledger::AgentId)
        .is_not_null()
        .and(Expr::col(Ledger::UserId).is_null())
        .and(Expr::col(Ledger::HolderId).eq(Expr::col(Ledger::AgentId)))
        .or(Expr::col(Ledger::UserId)
            .is_not_null()
            .and(Expr::col(Ledger::AgentId).is_null())
            .and(Expr::col(Ledger::HolderId).eq(Expr::col(Ledger::UserId))))
}

/// The organization key and the two holder keys of a holder table.
fn holder_keys(table: &mut TableCreateStatement, name: &str, iden: Ledger) {
    table.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{name}_organization"))
            .from(iden, Ledger::OrganizationId)
            .to(Parent::Organizations, Parent::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
    for (suffix, column, parent) in [
        ("agent", Ledger::AgentId, Parent::Agents),
        ("user", Ledger::UserId, Parent::Users),
    ] {
        table.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_{suffix}"))
                .from(iden, (Ledger::OrganizationId, column))
                .to(parent, (Parent::OrganizationId, Parent::Id))
                .on_delete(ForeignKeyAction::Cascade),
        );
    }
}

#[derive(DeriveIden)]
enum Settings {
    #[sea_orm(iden = "collaboration_settings")]
    Table,
    OrganizationId,
    LevelThresholds,
    KFactor,
    ProvisionalKFactor,
    ProvisionalMatches,
    UpdatedAt,
}

/// The columns of the two holder tables (and the tables themselves).
#[derive(DeriveIden, Clone, Copy)]
enum Ledger {
    PointAwards,
    Standings,
    OrganizationId,
    Id,
    HolderId,
    AgentId,
    UserId,
    Points,
    Experience,
    Rating,
    MatchesPlayed,
    Reason,
    Source,
    AwardedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Matches {
    Table,
    OrganizationId,
    Id,
    TaskId,
    Challenge,
    Status,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MatchPlayers {
    Table,
    OrganizationId,
    MatchId,
    AgentId,
    Position,
    Place,
    RatingBefore,
    RatingAfter,
    FinishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Agents,
    Users,
    Tasks,
    OrganizationId,
    Id,
}
