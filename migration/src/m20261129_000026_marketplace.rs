//! The marketplace: items an organization publishes for every organization
//! (`marketplace_items`: a snapshot of a workflow version or a template, numbered per name and
//! publisher), the record of each installation (`marketplace_installs`, in the installing
//! organization), the full-text index of each backend and the `marketplace:*` permissions.
//!
//! An item belongs to its publisher (`organization_id`); the one read across organizations is
//! of published items, by id or through the index of publication. An installation names its
//! item without a foreign key, since the item is another organization's row; it refers to the
//! copy it made (a workflow or a template of its own organization) and goes with it.
//!
//! Full text (name A, description and tags B, readme C): a generated `search_vector` with a
//! GIN index on PostgreSQL; on SQLite an FTS5 table over the view `marketplace_fts_source`,
//! kept by triggers, as for the knowledge base (migration 000025 says why).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

const KINDS: [&str; 2] = ["workflow", "template"];

const GRANTS: [(&str, &[&str]); 5] = [
    ("owner", &["marketplace:read", "marketplace:publish"]),
    ("admin", &["marketplace:read", "marketplace:publish"]),
    ("developer", &["marketplace:read"]),
    ("viewer", &["marketplace:read"]),
    ("agent", &["marketplace:read"]),
];

const SQLITE_UP: [&str; 6] = [
    "CREATE TABLE marketplace_fts_keys (
        rowid INTEGER PRIMARY KEY,
        organization_id BLOB NOT NULL,
        item_id BLOB NOT NULL,
        UNIQUE (organization_id, item_id)
    )",
    "CREATE VIEW marketplace_fts_source AS
        SELECT k.rowid AS rowid, i.name AS name, i.description AS description,
               i.tags AS tags, i.readme AS readme
        FROM marketplace_fts_keys k
        JOIN marketplace_items i ON i.organization_id = k.organization_id AND i.id = k.item_id",
    "CREATE VIRTUAL TABLE marketplace_fts USING fts5(
        name, description, tags, readme,
        content = 'marketplace_fts_source', content_rowid = 'rowid',
        tokenize = 'porter unicode61 remove_diacritics 0'
    )",
    // Items are not edited (unpublishing sets a time), so no update trigger.
    "CREATE TRIGGER marketplace_items_fts_insert AFTER INSERT ON marketplace_items BEGIN
        INSERT INTO marketplace_fts_keys (organization_id, item_id)
            VALUES (new.organization_id, new.id);
        INSERT INTO marketplace_fts (rowid, name, description, tags, readme) VALUES (
            (SELECT rowid FROM marketplace_fts_keys
             WHERE organization_id = new.organization_id AND item_id = new.id),
            new.name, new.description, new.tags, new.readme);
    END",
    "CREATE TRIGGER marketplace_items_fts_delete AFTER DELETE ON marketplace_items BEGIN
        INSERT INTO marketplace_fts (marketplace_fts, rowid, name, description, tags, readme)
            VALUES ('delete',
            (SELECT rowid FROM marketplace_fts_keys
             WHERE organization_id = old.organization_id AND item_id = old.id),
            old.name, old.description, old.tags, old.readme);
        DELETE FROM marketplace_fts_keys
            WHERE organization_id = old.organization_id AND item_id = old.id;
    END",
    "CREATE TRIGGER marketplace_items_fts_refused BEFORE UPDATE OF name, description, tags, readme
        ON marketplace_items BEGIN
        SELECT RAISE(ABORT, 'a marketplace item is not edited: publish a new version');
    END",
];

const SQLITE_DOWN: [&str; 6] = [
    "DROP TRIGGER marketplace_items_fts_refused",
    "DROP TRIGGER marketplace_items_fts_delete",
    "DROP TRIGGER marketplace_items_fts_insert",
    "DROP TABLE marketplace_fts",
    "DROP VIEW marketplace_fts_source",
    "DROP TABLE marketplace_fts_keys",
];

const POSTGRES_UP: [&str; 2] = [
    "ALTER TABLE marketplace_items ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A')
        || setweight(to_tsvector('english', description), 'B')
        || setweight(to_tsvector('english', tags), 'B')
        || setweight(to_tsvector('english', readme), 'C')
    ) STORED",
    "CREATE INDEX idx_marketplace_items_search ON marketplace_items USING GIN (search_vector)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MarketplaceItems::Table)
                    .col(uuid(MarketplaceItems::OrganizationId))
                    .col(uuid(MarketplaceItems::Id))
                    .col(string_len(MarketplaceItems::Name, 200))
                    .col(string_len(MarketplaceItems::NameKey, 800))
                    .col(
                        integer(MarketplaceItems::Version)
                            .check(Expr::col(MarketplaceItems::Version).gte(1)),
                    )
                    .col(
                        string_len(MarketplaceItems::Kind, 16)
                            .check(Expr::col(MarketplaceItems::Kind).is_in(KINDS)),
                    )
                    .col(text(MarketplaceItems::Description))
                    .col(json_binary(MarketplaceItems::Tags))
                    .col(text(MarketplaceItems::Readme))
                    .col(json_binary(MarketplaceItems::Content))
                    .col(string_len(MarketplaceItems::Publisher, 200))
                    .col(string_len(MarketplaceItems::PublishedBy, 128))
                    .col(timestamp_with_time_zone(MarketplaceItems::PublishedAt))
                    .col(timestamp_with_time_zone_null(
                        MarketplaceItems::UnpublishedAt,
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_marketplace_items")
                            .col(MarketplaceItems::OrganizationId)
                            .col(MarketplaceItems::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_marketplace_items_organization")
                            .from(MarketplaceItems::Table, MarketplaceItems::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A publisher's versions of one name, numbered once each.
        manager
            .create_index(
                Index::create()
                    .name("idx_marketplace_items_organization_name_version")
                    .table(MarketplaceItems::Table)
                    .col(MarketplaceItems::OrganizationId)
                    .col(MarketplaceItems::NameKey)
                    .col(MarketplaceItems::Version)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Browsing every organization's items by publication (ids are time-ordered), and
        // reading one by id: the deliberate reads across organizations.
        manager
            .create_index(
                Index::create()
                    .name("idx_marketplace_items_id")
                    .table(MarketplaceItems::Table)
                    .col(MarketplaceItems::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MarketplaceInstalls::Table)
                    .col(uuid(MarketplaceInstalls::OrganizationId))
                    .col(uuid(MarketplaceInstalls::Id))
                    .col(uuid(MarketplaceInstalls::ItemId))
                    .col(string_len(MarketplaceInstalls::ItemName, 200))
                    .col(integer(MarketplaceInstalls::ItemVersion))
                    .col(
                        string_len(MarketplaceInstalls::Kind, 16)
                            .check(Expr::col(MarketplaceInstalls::Kind).is_in(KINDS)),
                    )
                    .col(uuid_null(MarketplaceInstalls::WorkflowId))
                    .col(uuid_null(MarketplaceInstalls::TemplateId))
                    .col(string_len(MarketplaceInstalls::InstalledBy, 128))
                    .col(timestamp_with_time_zone(MarketplaceInstalls::CreatedAt))
                    .check((
                        Alias::new("ck_marketplace_installs_one_copy"),
                        Expr::col(MarketplaceInstalls::WorkflowId)
                            .is_not_null()
                            .and(Expr::col(MarketplaceInstalls::TemplateId).is_null())
                            .or(Expr::col(MarketplaceInstalls::WorkflowId)
                                .is_null()
                                .and(Expr::col(MarketplaceInstalls::TemplateId).is_not_null())),
                    ))
                    .primary_key(
                        Index::create()
                            .name("pk_marketplace_installs")
                            .col(MarketplaceInstalls::OrganizationId)
                            .col(MarketplaceInstalls::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_marketplace_installs_organization")
                            .from(
                                MarketplaceInstalls::Table,
                                MarketplaceInstalls::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_marketplace_installs_workflow")
                            .from(
                                MarketplaceInstalls::Table,
                                (
                                    MarketplaceInstalls::OrganizationId,
                                    MarketplaceInstalls::WorkflowId,
                                ),
                            )
                            .to(Copies::Workflows, (Copies::OrganizationId, Copies::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_marketplace_installs_template")
                            .from(
                                MarketplaceInstalls::Table,
                                (
                                    MarketplaceInstalls::OrganizationId,
                                    MarketplaceInstalls::TemplateId,
                                ),
                            )
                            .to(Copies::Templates, (Copies::OrganizationId, Copies::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "idx_marketplace_installs_organization_workflow",
                MarketplaceInstalls::WorkflowId,
            ),
            (
                "idx_marketplace_installs_organization_template",
                MarketplaceInstalls::TemplateId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(MarketplaceInstalls::Table)
                        .col(MarketplaceInstalls::OrganizationId)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }

        let statements: &[&str] = match manager.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => &POSTGRES_UP,
            _ => &SQLITE_UP,
        };
        for statement in statements {
            manager
                .get_connection()
                .execute_unprepared(statement)
                .await?;
        }
        grants::grant(manager, &GRANTS).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        grants::revoke(manager, &GRANTS).await?;
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            for statement in SQLITE_DOWN {
                manager
                    .get_connection()
                    .execute_unprepared(statement)
                    .await?;
            }
        }
        manager
            .drop_table(Table::drop().table(MarketplaceInstalls::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(MarketplaceItems::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum MarketplaceItems {
    Table,
    OrganizationId,
    Id,
    Name,
    NameKey,
    Version,
    Kind,
    Description,
    Tags,
    Readme,
    Content,
    Publisher,
    PublishedBy,
    PublishedAt,
    UnpublishedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MarketplaceInstalls {
    Table,
    OrganizationId,
    Id,
    ItemId,
    ItemName,
    ItemVersion,
    Kind,
    WorkflowId,
    TemplateId,
    InstalledBy,
    CreatedAt,
}

/// The tables an installation's copy is in, each keyed by `(organization_id, id)`.
#[derive(DeriveIden)]
enum Copies {
    Workflows,
    Templates,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
