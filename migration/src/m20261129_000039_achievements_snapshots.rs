use std::collections::BTreeMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Achievements, the reputation ranking key, leaderboard weights and snapshots.
///
/// - `standings.reputation_key`: Σ delta × 2^((occurred_at − epoch) / 30 days) over an
///   agent's reputation events, kept in each event's transaction; its order is the order of
///   the reputation at any instant no event is later than, so the reputation leaderboard is
///   the first rows of `idx_standings_reputation`. Backfilled here from the events (agents
///   with events and no standing get one).
/// - `achievement_definitions` (a code unique per organization) and `achievements` (one per
///   definition and holder, a unique key), with the ledger entry of their points.
/// - `leaderboard_settings`: the weights of the combined ranking.
/// - `leaderboard_snapshots` and their entries: a scheduled snapshot names its time slot,
///   unique per leaderboard, so replicas take each once; the entries carry their snapshot's
///   leaderboard and time, so that the hall of fame is a range of one index.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Standings::Table)
                    .add_column(double(Standings::ReputationKey).default(0.0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_standings_reputation")
                    .table(Standings::Table)
                    .col(Standings::OrganizationId)
                    .col((Standings::ReputationKey, IndexOrder::Desc))
                    .col(Standings::HolderId)
                    .to_owned(),
            )
            .await?;
        // Whether an event is later than a leaderboard's instant: a range of this index.
        manager
            .create_index(
                Index::create()
                    .name("idx_reputation_events_occurred_at")
                    .table(Events::Table)
                    .col(Events::OrganizationId)
                    .col(Events::OccurredAt)
                    .to_owned(),
            )
            .await?;
        backfill_reputation_keys(manager).await?;

        manager
            .create_table(
                Table::create()
                    .table(Definitions::Table)
                    .col(uuid(Definitions::OrganizationId))
                    .col(uuid(Definitions::Id))
                    .col(string_len(Definitions::Code, 64))
                    .col(string_len(Definitions::Name, 200))
                    .col(text(Definitions::Description))
                    .col(
                        big_integer(Definitions::Points)
                            .check(Expr::col(Definitions::Points).between(0, 1_000_000)),
                    )
                    .col(json_binary_null(Definitions::Criteria))
                    .col(timestamp_with_time_zone(Definitions::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_achievement_definitions")
                            .col(Definitions::OrganizationId)
                            .col(Definitions::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_achievement_definitions_organization")
                            .from(Definitions::Table, Definitions::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_achievement_definitions_code")
                    .table(Definitions::Table)
                    .col(Definitions::OrganizationId)
                    .col(Definitions::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut achievements = Table::create();
        achievements
            .table(Held::Achievements)
            .col(uuid(Held::OrganizationId))
            .col(uuid(Held::Id))
            .col(uuid(Held::DefinitionId))
            .col(uuid(Held::HolderId))
            .col(uuid_null(Held::AgentId))
            .col(uuid_null(Held::UserId))
            .col(big_integer(Held::Points))
            .col(uuid_null(Held::PointAwardId))
            .col(timestamp_with_time_zone(Held::AwardedAt))
            .col(string_len(Held::AwardedBy, 64))
            .check((Alias::new("ck_achievements_holder"), one_holder()))
            .primary_key(
                Index::create()
                    .name("pk_achievements")
                    .col(Held::OrganizationId)
                    .col(Held::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_achievements_definition")
                    .from(
                        Held::Achievements,
                        (Held::OrganizationId, Held::DefinitionId),
                    )
                    .to(
                        Definitions::Table,
                        (Definitions::OrganizationId, Definitions::Id),
                    )
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_achievements_point_award")
                    .from(
                        Held::Achievements,
                        (Held::OrganizationId, Held::PointAwardId),
                    )
                    .to(Parent::PointAwards, (Parent::OrganizationId, Parent::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        holder_keys(&mut achievements, "achievements", Held::Achievements);
        manager.create_table(achievements.to_owned()).await?;

        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(uuid(Settings::OrganizationId).primary_key())
                    .col(double(Settings::WeightPoints))
                    .col(double(Settings::WeightRating))
                    .col(double(Settings::WeightReputation))
                    .col(timestamp_with_time_zone(Settings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_leaderboard_settings_organization")
                            .from(Settings::Table, Settings::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Snapshots::Table)
                    .col(uuid(Snapshots::OrganizationId))
                    .col(uuid(Snapshots::Id))
                    .col(
                        string_len(Snapshots::Kind, 16)
                            .check(Expr::col(Snapshots::Kind).is_in(KINDS)),
                    )
                    .col(
                        string_len(Snapshots::Period, 16)
                            .check(Expr::col(Snapshots::Period).is_in(PERIODS)),
                    )
                    .col(string_len(Snapshots::Trigger, 16))
                    .col(big_integer_null(Snapshots::Slot))
                    .col(integer(Snapshots::Size))
                    .col(timestamp_with_time_zone(Snapshots::TakenAt))
                    // A scheduled snapshot names its slot; one on demand has none.
                    .check((
                        Alias::new("ck_leaderboard_snapshots_trigger"),
                        Expr::col(Snapshots::Trigger)
                            .is_in(["on_demand", "scheduled"])
                            .and(
                                Expr::col(Snapshots::Trigger)
                                    .eq("scheduled")
                                    .eq(Expr::col(Snapshots::Slot).is_not_null()),
                            ),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_leaderboard_snapshots")
                            .col(Snapshots::OrganizationId)
                            .col(Snapshots::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_leaderboard_snapshots_organization")
                            .from(Snapshots::Table, Snapshots::OrganizationId)
                            .to(Parent::Organizations, Parent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let mut entries = Table::create();
        entries
            .table(Held::LeaderboardSnapshotEntries)
            .col(uuid(Held::OrganizationId))
            .col(uuid(Held::SnapshotId))
            .col(integer(Held::Position))
            .col(integer(Held::Rank))
            .col(uuid(Held::HolderId))
            .col(uuid_null(Held::AgentId))
            .col(uuid_null(Held::UserId))
            .col(double(Held::Score))
            .col(string_len(Held::Kind, 16))
            .col(string_len(Held::Period, 16))
            .col(timestamp_with_time_zone(Held::TakenAt))
            .check((
                Alias::new("ck_leaderboard_snapshot_entries_holder"),
                one_holder(),
            ))
            .primary_key(
                Index::create()
                    .name("pk_leaderboard_snapshot_entries")
                    .col(Held::OrganizationId)
                    .col(Held::SnapshotId)
                    .col(Held::Position),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_leaderboard_snapshot_entries_snapshot")
                    .from(
                        Held::LeaderboardSnapshotEntries,
                        (Held::OrganizationId, Held::SnapshotId),
                    )
                    .to(Snapshots::Table, (Snapshots::OrganizationId, Snapshots::Id))
                    .on_delete(ForeignKeyAction::Cascade),
            );
        holder_keys(
            &mut entries,
            "leaderboard_snapshot_entries",
            Held::LeaderboardSnapshotEntries,
        );
        manager.create_table(entries.to_owned()).await?;

        // A holder's achievements and each definition's holders (the unique key, which also
        // serves the definition's cascade); the snapshots of one leaderboard in order, and the
        // slot key of the scheduled ones; the hall of fame, a range of ranks of one
        // leaderboard's entries; the agent and user indexes serve the cascades.
        for (name, table, columns, unique) in [
            (
                "uq_achievements_holder",
                Held::Achievements,
                [Held::DefinitionId, Held::HolderId].as_slice(),
                true,
            ),
            (
                "idx_achievements_holder",
                Held::Achievements,
                &[Held::HolderId, Held::Id],
                false,
            ),
            (
                "idx_achievements_agent",
                Held::Achievements,
                &[Held::AgentId],
                false,
            ),
            (
                "idx_achievements_user",
                Held::Achievements,
                &[Held::UserId],
                false,
            ),
            (
                "idx_achievements_point_award",
                Held::Achievements,
                &[Held::PointAwardId],
                false,
            ),
            (
                "idx_leaderboard_snapshot_entries_fame",
                Held::LeaderboardSnapshotEntries,
                &[Held::Kind, Held::Period, Held::Rank, Held::HolderId],
                false,
            ),
            (
                "idx_leaderboard_snapshot_entries_agent",
                Held::LeaderboardSnapshotEntries,
                &[Held::AgentId],
                false,
            ),
            (
                "idx_leaderboard_snapshot_entries_user",
                Held::LeaderboardSnapshotEntries,
                &[Held::UserId],
                false,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(table).col(Held::OrganizationId);
            for column in columns {
                index.col(*column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        for (name, columns, unique) in [
            (
                "idx_leaderboard_snapshots_board",
                [Snapshots::Kind, Snapshots::Period, Snapshots::Id],
                false,
            ),
            (
                "uq_leaderboard_snapshots_slot",
                [Snapshots::Kind, Snapshots::Period, Snapshots::Slot],
                true,
            ),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(Snapshots::Table)
                .col(Snapshots::OrganizationId);
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Held::LeaderboardSnapshotEntries.into_iden(),
            Snapshots::Table.into_iden(),
            Settings::Table.into_iden(),
            Held::Achievements.into_iden(),
            Definitions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for (name, table) in [
            (
                "idx_reputation_events_occurred_at",
                Events::Table.into_iden(),
            ),
            ("idx_standings_reputation", Standings::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        // The standings rows the backfill added stay: zeros, as a first award would make them.
        manager
            .alter_table(
                Table::alter()
                    .table(Standings::Table)
                    .drop_column(Standings::ReputationKey)
                    .to_owned(),
            )
            .await
    }
}

const KINDS: [&str; 4] = ["points", "rating", "reputation", "combined"];
const PERIODS: [&str; 3] = ["all_time", "week", "month"];

/// The epoch of the reputation key, 2026-01-01 UTC in Unix seconds, and the half-life in
/// seconds: the values of `orchestore_domain::reputation_key_weight` when this migration was
/// written (a migration does not follow the code that comes after it).
const EPOCH_SECONDS: f64 = 1_767_225_600.0;
const HALF_LIFE_SECONDS: f64 = 30.0 * 86_400.0;

/// Gives every agent with reputation events a standing (zeros, the initial rating) and sets
/// its key from the events.
async fn backfill_reputation_keys(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(
        "INSERT INTO standings (organization_id, holder_id, agent_id, points, experience, \
         rating, matches_played, updated_at, reputation_key) \
         SELECT e.organization_id, e.agent_id, e.agent_id, 0, 0, 1500, 0, MAX(e.occurred_at), 0 \
         FROM reputation_events e WHERE NOT EXISTS (SELECT 1 FROM standings s \
         WHERE s.organization_id = e.organization_id AND s.holder_id = e.agent_id) \
         GROUP BY e.organization_id, e.agent_id",
    )
    .await?;
    // Each event's instant in Unix seconds, as each backend reads its timestamps.
    let seconds = match manager.get_database_backend() {
        DbBackend::Sqlite => "(julianday(occurred_at) - 2440587.5) * 86400.0",
        _ => "CAST(EXTRACT(EPOCH FROM occurred_at) AS DOUBLE PRECISION)",
    };
    let backend = manager.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT organization_id, agent_id, delta, {seconds} AS at_seconds \
                 FROM reputation_events"
            ),
        ))
        .await?;
    let mut keys: BTreeMap<(uuid::Uuid, uuid::Uuid), f64> = BTreeMap::new();
    for row in rows {
        let org: uuid::Uuid = row.try_get("", "organization_id")?;
        let agent: uuid::Uuid = row.try_get("", "agent_id")?;
        let delta: i32 = row.try_get("", "delta")?;
        let at: f64 = row.try_get("", "at_seconds")?;
        *keys.entry((org, agent)).or_default() +=
            f64::from(delta) * 2f64.powf((at - EPOCH_SECONDS) / HALF_LIFE_SECONDS);
    }
    for ((org, agent), key) in keys {
        manager
            .exec_stmt(
                Query::update()
                    .table(Standings::Table)
                    .value(Standings::ReputationKey, key)
                    .and_where(Expr::col(Standings::OrganizationId).eq(org))
                    .and_where(Expr::col(Standings::HolderId).eq(agent))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// Exactly one of `agent_id` and `user_id` is set, and `holder_id` is that one.
fn one_holder() -> SimpleExpr {
    Expr::col(Held::AgentId)
        .is_not_null()
        .and(Expr::col(Held::UserId).is_null())
        .and(Expr::col(Held::HolderId).eq(Expr::col(Held::AgentId)))
        .or(Expr::col(Held::UserId)
            .is_not_null()
            .and(Expr::col(Held::AgentId).is_null())
            .and(Expr::col(Held::HolderId).eq(Expr::col(Held::UserId))))
}

/// The organization key and the two holder keys of a holder table.
fn holder_keys(table: &mut TableCreateStatement, name: &str, iden: Held) {
    table.foreign_key(
        ForeignKey::create()
            .name(format!("fk_{name}_organization"))
            .from(iden, Held::OrganizationId)
            .to(Parent::Organizations, Parent::Id)
            .on_delete(ForeignKeyAction::Cascade),
    );
    for (suffix, column, parent) in [
        ("agent", Held::AgentId, Parent::Agents),
        ("user", Held::UserId, Parent::Users),
    ] {
        table.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{name}_{suffix}"))
                .from(iden, (Held::OrganizationId, column))
                .to(parent, (Parent::OrganizationId, Parent::Id))
                .on_delete(ForeignKeyAction::Cascade),
        );
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Standings {
    Table,
    OrganizationId,
    HolderId,
    ReputationKey,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    #[sea_orm(iden = "reputation_events")]
    Table,
    OrganizationId,
    OccurredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Definitions {
    #[sea_orm(iden = "achievement_definitions")]
    Table,
    OrganizationId,
    Id,
    Code,
    Name,
    Description,
    Points,
    Criteria,
    CreatedAt,
}

/// The columns of the two holder tables (and the tables themselves).
#[derive(DeriveIden, Clone, Copy)]
enum Held {
    Achievements,
    LeaderboardSnapshotEntries,
    OrganizationId,
    Id,
    DefinitionId,
    HolderId,
    AgentId,
    UserId,
    Points,
    PointAwardId,
    AwardedAt,
    AwardedBy,
    SnapshotId,
    Position,
    Rank,
    Score,
    Kind,
    Period,
    TakenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Settings {
    #[sea_orm(iden = "leaderboard_settings")]
    Table,
    OrganizationId,
    WeightPoints,
    WeightRating,
    WeightReputation,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Snapshots {
    #[sea_orm(iden = "leaderboard_snapshots")]
    Table,
    OrganizationId,
    Id,
    Kind,
    Period,
    Trigger,
    Slot,
    Size,
    TakenAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Parent {
    Organizations,
    Agents,
    Users,
    PointAwards,
    OrganizationId,
    Id,
}
