//! The knowledge base: entries (`knowledge_entries`), collections of vectors of one dimension
//! (`knowledge_collections`) and the vectors (`knowledge_embeddings`, one per entry and
//! collection, as little-endian `f32` bytes), with the full-text index of each backend and the
//! `knowledge:*` permissions.
//!
//! Full text: on PostgreSQL a generated `search_vector` (`english`; the title weighted A, the
//! content B) with a GIN index. On SQLite an FTS5 table (Porter stemmer over `unicode61`,
//! diacritics kept as PostgreSQL's `english` keeps them) whose content is the view
//! `knowledge_fts_source`: FTS5 addresses rows by an integer id, which `knowledge_entries`
//! (keyed by organization and UUID) does not have, and a table's implicit rowid may change on
//! `VACUUM`, so `knowledge_fts_keys` gives each entry a stable integer. Triggers keep the keys
//! and the index in step with every insert, update of the title or content, and delete
//! (cascades included), in the writing transaction.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

const GRANTS: [(&str, &[&str]); 5] = [
    ("owner", &["knowledge:read", "knowledge:write"]),
    ("admin", &["knowledge:read", "knowledge:write"]),
    ("developer", &["knowledge:read", "knowledge:write"]),
    ("viewer", &["knowledge:read"]),
    // Agents search what others learned and write down what they learn.
    ("agent", &["knowledge:read", "knowledge:write"]),
];

const SQLITE_UP: [&str; 6] = [
    "CREATE TABLE knowledge_fts_keys (
        rowid INTEGER PRIMARY KEY,
        organization_id BLOB NOT NULL,
        entry_id BLOB NOT NULL,
        UNIQUE (organization_id, entry_id)
    )",
    "CREATE VIEW knowledge_fts_source AS
        SELECT k.rowid AS rowid, e.title AS title, e.content AS content
        FROM knowledge_fts_keys k
        JOIN knowledge_entries e ON e.organization_id = k.organization_id AND e.id = k.entry_id",
    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(
        title, content,
        content = 'knowledge_fts_source', content_rowid = 'rowid',
        tokenize = 'porter unicode61 remove_diacritics 0'
    )",
    "CREATE TRIGGER knowledge_entries_fts_insert AFTER INSERT ON knowledge_entries BEGIN
        INSERT INTO knowledge_fts_keys (organization_id, entry_id)
            VALUES (new.organization_id, new.id);
        INSERT INTO knowledge_fts (rowid, title, content) VALUES (
            (SELECT rowid FROM knowledge_fts_keys
             WHERE organization_id = new.organization_id AND entry_id = new.id),
            new.title, new.content);
    END",
    "CREATE TRIGGER knowledge_entries_fts_update AFTER UPDATE OF title, content
        ON knowledge_entries BEGIN
        INSERT INTO knowledge_fts (knowledge_fts, rowid, title, content) VALUES ('delete',
            (SELECT rowid FROM knowledge_fts_keys
             WHERE organization_id = old.organization_id AND entry_id = old.id),
            old.title, old.content);
        INSERT INTO knowledge_fts (rowid, title, content) VALUES (
            (SELECT rowid FROM knowledge_fts_keys
             WHERE organization_id = new.organization_id AND entry_id = new.id),
            new.title, new.content);
    END",
    "CREATE TRIGGER knowledge_entries_fts_delete AFTER DELETE ON knowledge_entries BEGIN
        INSERT INTO knowledge_fts (knowledge_fts, rowid, title, content) VALUES ('delete',
            (SELECT rowid FROM knowledge_fts_keys
             WHERE organization_id = old.organization_id AND entry_id = old.id),
            old.title, old.content);
        DELETE FROM knowledge_fts_keys
            WHERE organization_id = old.organization_id AND entry_id = old.id;
    END",
];

const SQLITE_DOWN: [&str; 6] = [
    "DROP TRIGGER knowledge_entries_fts_delete",
    "DROP TRIGGER knowledge_entries_fts_update",
    "DROP TRIGGER knowledge_entries_fts_insert",
    "DROP TABLE knowledge_fts",
    "DROP VIEW knowledge_fts_source",
    "DROP TABLE knowledge_fts_keys",
];

const POSTGRES_UP: [&str; 2] = [
    "ALTER TABLE knowledge_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', content), 'B')
    ) STORED",
    "CREATE INDEX idx_knowledge_entries_search ON knowledge_entries USING GIN (search_vector)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnowledgeCollections::Table)
                    .col(uuid(KnowledgeCollections::OrganizationId))
                    .col(uuid(KnowledgeCollections::Id))
                    .col(string_len(KnowledgeCollections::Name, 64))
                    .col(
                        integer(KnowledgeCollections::Dimension).check(
                            Expr::col(KnowledgeCollections::Dimension)
                                .gte(1)
                                .and(Expr::col(KnowledgeCollections::Dimension).lte(4096)),
                        ),
                    )
                    .col(timestamp_with_time_zone(KnowledgeCollections::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_knowledge_collections")
                            .col(KnowledgeCollections::OrganizationId)
                            .col(KnowledgeCollections::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_collections_organization")
                            .from(
                                KnowledgeCollections::Table,
                                KnowledgeCollections::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_knowledge_collections_organization_name")
                    .table(KnowledgeCollections::Table)
                    .col(KnowledgeCollections::OrganizationId)
                    .col(KnowledgeCollections::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(KnowledgeEntries::Table)
                    .col(uuid(KnowledgeEntries::OrganizationId))
                    .col(uuid(KnowledgeEntries::Id))
                    .col(string_len(KnowledgeEntries::Title, 500))
                    .col(text(KnowledgeEntries::Content))
                    .col(json_binary(KnowledgeEntries::Tags))
                    .col(string_len_null(KnowledgeEntries::Source, 500))
                    .col(uuid_null(KnowledgeEntries::ProjectId))
                    .col(json_binary(KnowledgeEntries::Metadata))
                    .col(string_len(KnowledgeEntries::CreatedBy, 128))
                    .col(timestamp_with_time_zone(KnowledgeEntries::CreatedAt))
                    .col(timestamp_with_time_zone(KnowledgeEntries::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .name("pk_knowledge_entries")
                            .col(KnowledgeEntries::OrganizationId)
                            .col(KnowledgeEntries::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_entries_organization")
                            .from(KnowledgeEntries::Table, KnowledgeEntries::OrganizationId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // A composite key cannot SET NULL portably (it would null the
                    // organization too): an entry goes with its project.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_entries_project")
                            .from(
                                KnowledgeEntries::Table,
                                (
                                    KnowledgeEntries::OrganizationId,
                                    KnowledgeEntries::ProjectId,
                                ),
                            )
                            .to(Projects::Table, (Projects::OrganizationId, Projects::Id))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "idx_knowledge_entries_organization_project",
                KnowledgeEntries::ProjectId,
            ),
            (
                "idx_knowledge_entries_organization_source",
                KnowledgeEntries::Source,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(KnowledgeEntries::Table)
                        .col(KnowledgeEntries::OrganizationId)
                        .col(column)
                        .col(KnowledgeEntries::Id)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(KnowledgeEmbeddings::Table)
                    .col(uuid(KnowledgeEmbeddings::OrganizationId))
                    .col(uuid(KnowledgeEmbeddings::CollectionId))
                    .col(uuid(KnowledgeEmbeddings::EntryId))
                    .col(blob(KnowledgeEmbeddings::Vector))
                    // A collection's vectors are scanned in entry order: the key serves it.
                    .primary_key(
                        Index::create()
                            .name("pk_knowledge_embeddings")
                            .col(KnowledgeEmbeddings::OrganizationId)
                            .col(KnowledgeEmbeddings::CollectionId)
                            .col(KnowledgeEmbeddings::EntryId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_embeddings_organization")
                            .from(
                                KnowledgeEmbeddings::Table,
                                KnowledgeEmbeddings::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_embeddings_collection")
                            .from(
                                KnowledgeEmbeddings::Table,
                                (
                                    KnowledgeEmbeddings::OrganizationId,
                                    KnowledgeEmbeddings::CollectionId,
                                ),
                            )
                            .to(
                                KnowledgeCollections::Table,
                                (
                                    KnowledgeCollections::OrganizationId,
                                    KnowledgeCollections::Id,
                                ),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_embeddings_entry")
                            .from(
                                KnowledgeEmbeddings::Table,
                                (
                                    KnowledgeEmbeddings::OrganizationId,
                                    KnowledgeEmbeddings::EntryId,
                                ),
                            )
                            .to(
                                KnowledgeEntries::Table,
                                (KnowledgeEntries::OrganizationId, KnowledgeEntries::Id),
                            )
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // An entry's vectors: read with it, and deleted with it.
        manager
            .create_index(
                Index::create()
                    .name("idx_knowledge_embeddings_organization_entry")
                    .table(KnowledgeEmbeddings::Table)
                    .col(KnowledgeEmbeddings::OrganizationId)
                    .col(KnowledgeEmbeddings::EntryId)
                    .to_owned(),
            )
            .await?;

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
        // The generated column and its index go with their table.
        manager
            .drop_table(Table::drop().table(KnowledgeEmbeddings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(KnowledgeEntries::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(KnowledgeCollections::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum KnowledgeCollections {
    Table,
    OrganizationId,
    Id,
    Name,
    Dimension,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum KnowledgeEntries {
    Table,
    OrganizationId,
    Id,
    Title,
    Content,
    Tags,
    Source,
    ProjectId,
    Metadata,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum KnowledgeEmbeddings {
    Table,
    OrganizationId,
    CollectionId,
    EntryId,
    Vector,
}

#[derive(DeriveIden)]
enum Projects {
    Table,
    OrganizationId,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}
