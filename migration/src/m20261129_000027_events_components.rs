//! Events, the component registry, the communications between components and their health
//! checks.
//!
//! Events, communications and health checks are appended and never changed. Their time-range
//! reads go through indexes that lead with `organization_id`, then the column filtered on, then
//! the time, so a page of one source's events, one component's traffic or one component's
//! latest check is a range scan of one index. An event names its project, workflow or task by
//! id without a foreign key: like an audit row, it outlives what it names. Communications and
//! health checks refer to their components by composite keys, so they cannot name another
//! organization's component; components are retired rather than deleted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend as DbBackend;

use crate::grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The permissions of events and components, and their grants to the system roles. An agent
/// records events and reports its components' health and traffic.
const GRANTS: [(&str, &[&str]); 5] = [
    (
        "owner",
        &[
            "events:read",
            "events:write",
            "components:read",
            "components:write",
            "components:report",
        ],
    ),
    (
        "admin",
        &[
            "events:read",
            "events:write",
            "components:read",
            "components:write",
            "components:report",
        ],
    ),
    (
        "developer",
        &[
            "events:read",
            "events:write",
            "components:read",
            "components:write",
            "components:report",
        ],
    ),
    ("viewer", &["events:read", "components:read"]),
    (
        "agent",
        &["events:write", "components:read", "components:report"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(components()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_components_organization_name_key")
                    .table(Components::Table)
                    .col(Components::OrganizationId)
                    .col(Components::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == DbBackend::Postgres {
            // The primary key after the name's index: PostgreSQL plans the foreign-key check
            // of every sample, check and communication (`organization_id = $1 AND id = $2`)
            // once per connection, on a fresh database while `components` has no statistics,
            // and then takes the newest of the indexes leading with `organization_id`.
            manager
                .get_connection()
                .execute_unprepared(
                    "ALTER TABLE components DROP CONSTRAINT pk_components, \
                     ADD CONSTRAINT pk_components PRIMARY KEY (organization_id, id)",
                )
                .await?;
        }
        manager.create_table(events()).await?;
        // Newest first within the organization, and within one kind, source or correlation id.
        for (name, column) in [
            ("idx_events_kind_time", Some(Events::Kind)),
            ("idx_events_source_time", Some(Events::Source)),
            ("idx_events_correlation_time", Some(Events::CorrelationId)),
            ("idx_events_time", None),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table(Events::Table)
                .col(Events::OrganizationId);
            if let Some(column) = column {
                index.col(column);
            }
            index.col(Events::OccurredAt).col(Events::Id);
            manager.create_index(index.to_owned()).await?;
        }
        manager.create_table(communications()).await?;
        for (name, column) in [
            (
                "idx_component_communications_from_time",
                Communications::FromComponentId,
            ),
            (
                "idx_component_communications_to_time",
                Communications::ToComponentId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Communications::Table)
                        .col(Communications::OrganizationId)
                        .col(column)
                        .col(Communications::OccurredAt)
                        .col(Communications::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager.create_table(health()).await?;
        // A component's history newest first, and its latest check: the first entry.
        manager
            .create_index(
                Index::create()
                    .name("idx_component_health_component_time")
                    .table(Health::Table)
                    .col(Health::OrganizationId)
                    .col(Health::ComponentId)
                    .col(Health::CheckedAt)
                    .col(Health::Id)
                    .to_owned(),
            )
            .await?;
        grants::grant(manager, &GRANTS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        grants::revoke(manager, &GRANTS).await?;
        for table in [
            Health::Table.into_iden(),
            Communications::Table.into_iden(),
            Events::Table.into_iden(),
            Components::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn organization_key(
    table: impl IntoIden + Clone,
    from: impl IntoIden,
) -> ForeignKeyCreateStatement {
    let table = table.into_iden();
    ForeignKey::create()
        .name(format!("fk_{table}_organization"))
        .from(table, from)
        .to(Organizations::Table, Organizations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A check that `column` holds one of `codes`.
fn one_of(column: impl IntoIden, codes: &[&str]) -> SimpleExpr {
    Expr::col(column.into_iden()).is_in(codes.iter().copied())
}

fn components() -> TableCreateStatement {
    Table::create()
        .table(Components::Table)
        .col(uuid(Components::OrganizationId))
        .col(uuid(Components::Id))
        .col(string_len(Components::Name, 200))
        .col(string_len(Components::NameKey, 800))
        .col(string_len(Components::Kind, 64))
        .col(string_len_null(Components::Version, 64))
        .col(text_null(Components::Endpoint))
        .col(string_len(Components::Status, 16))
        .col(json_binary(Components::Metadata))
        .col(timestamp_with_time_zone(Components::CreatedAt))
        .col(timestamp_with_time_zone(Components::UpdatedAt))
        .check((
            Alias::new("ck_components_status"),
            one_of(Components::Status, &["active", "maintenance", "retired"]),
        ))
        .primary_key(
            Index::create()
                .name("pk_components")
                .col(Components::OrganizationId)
                .col(Components::Id),
        )
        .foreign_key(&mut organization_key(
            Components::Table,
            Components::OrganizationId,
        ))
        .to_owned()
}

fn events() -> TableCreateStatement {
    Table::create()
        .table(Events::Table)
        .col(uuid(Events::OrganizationId))
        .col(uuid(Events::Id))
        .col(string_len(Events::Kind, 100))
        .col(string_len(Events::Source, 100))
        .col(json_binary(Events::Payload))
        .col(string_len_null(Events::CorrelationId, 200))
        .col(uuid_null(Events::ProjectId))
        .col(uuid_null(Events::WorkflowId))
        .col(uuid_null(Events::TaskId))
        .col(timestamp_with_time_zone(Events::OccurredAt))
        .col(timestamp_with_time_zone(Events::RecordedAt))
        .primary_key(
            Index::create()
                .name("pk_events")
                .col(Events::OrganizationId)
                .col(Events::Id),
        )
        .foreign_key(&mut organization_key(Events::Table, Events::OrganizationId))
        .to_owned()
}

fn component_key(
    name: &str,
    table: impl IntoIden + Clone,
    organization: impl IntoIden,
    column: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, (organization.into_iden(), column.into_iden()))
        .to(
            Components::Table,
            (Components::OrganizationId, Components::Id),
        )
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn communications() -> TableCreateStatement {
    Table::create()
        .table(Communications::Table)
        .col(uuid(Communications::OrganizationId))
        .col(uuid(Communications::Id))
        .col(uuid(Communications::FromComponentId))
        .col(uuid(Communications::ToComponentId))
        .col(string_len(Communications::Kind, 100))
        .col(big_integer(Communications::PayloadBytes))
        .col(double(Communications::LatencyMs))
        .col(string_len(Communications::Outcome, 16))
        .col(timestamp_with_time_zone(Communications::OccurredAt))
        .check((
            Alias::new("ck_component_communications_outcome"),
            one_of(Communications::Outcome, &["success", "failure", "timeout"]),
        ))
        .check((
            Alias::new("ck_component_communications_figures"),
            Expr::col(Communications::PayloadBytes)
                .gte(0)
                .and(Expr::col(Communications::LatencyMs).gte(0)),
        ))
        .primary_key(
            Index::create()
                .name("pk_component_communications")
                .col(Communications::OrganizationId)
                .col(Communications::Id),
        )
        .foreign_key(&mut organization_key(
            Communications::Table,
            Communications::OrganizationId,
        ))
        .foreign_key(&mut component_key(
            "fk_component_communications_from",
            Communications::Table,
            Communications::OrganizationId,
            Communications::FromComponentId,
        ))
        .foreign_key(&mut component_key(
            "fk_component_communications_to",
            Communications::Table,
            Communications::OrganizationId,
            Communications::ToComponentId,
        ))
        .to_owned()
}

fn health() -> TableCreateStatement {
    Table::create()
        .table(Health::Table)
        .col(uuid(Health::OrganizationId))
        .col(uuid(Health::Id))
        .col(uuid(Health::ComponentId))
        .col(string_len(Health::Status, 16))
        .col(json_binary(Health::Details))
        .col(json_binary(Health::Resources))
        .col(timestamp_with_time_zone(Health::CheckedAt))
        .check((
            Alias::new("ck_component_health_status"),
            one_of(Health::Status, &["healthy", "degraded", "down"]),
        ))
        .primary_key(
            Index::create()
                .name("pk_component_health")
                .col(Health::OrganizationId)
                .col(Health::Id),
        )
        .foreign_key(&mut organization_key(Health::Table, Health::OrganizationId))
        .foreign_key(&mut component_key(
            "fk_component_health_component",
            Health::Table,
            Health::OrganizationId,
            Health::ComponentId,
        ))
        .to_owned()
}

#[derive(DeriveIden, Clone, Copy)]
enum Components {
    Table,
    OrganizationId,
    Id,
    Name,
    NameKey,
    Kind,
    Version,
    Endpoint,
    Status,
    Metadata,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Events {
    Table,
    OrganizationId,
    Id,
    Kind,
    Source,
    Payload,
    CorrelationId,
    ProjectId,
    WorkflowId,
    TaskId,
    OccurredAt,
    RecordedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Communications {
    #[sea_orm(iden = "component_communications")]
    Table,
    OrganizationId,
    Id,
    FromComponentId,
    ToComponentId,
    Kind,
    PayloadBytes,
    LatencyMs,
    Outcome,
    OccurredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Health {
    #[sea_orm(iden = "component_health")]
    Table,
    OrganizationId,
    Id,
    ComponentId,
    Status,
    Details,
    Resources,
    CheckedAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
