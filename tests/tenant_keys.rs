//! The schema is ready to distribute by organization: on a freshly migrated PostgreSQL
//! database, every table with an `organization_id` (but the declared reference tables) has it
//! in its primary key, in each of its unique keys and in each foreign key to another such
//! table, and refers to a reference table that holds organizations' rows (`roles`) by its
//! scope; and the declared table lists (`migration::distribution`) match the schema, so that
//! a new table cannot be forgotten. PostgreSQL only: it reads `pg_catalog`.

use std::collections::BTreeSet;

use migration::distribution::{
    DISTRIBUTED_TABLES, DISTRIBUTION_COLUMN, REFERENCE_TABLES, SCOPE_COLUMN,
};
use orchestore_testkit::TestDb;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

async fn lines(db: &DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .iter()
        .map(|row| {
            let line: String = row.try_get_by_index(0).expect("a text column");
            line.split('|').map(str::to_owned).collect()
        })
        .collect()
}

async fn tables(db: &DatabaseConnection) -> BTreeSet<String> {
    lines(
        db,
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()",
    )
    .await
    .into_iter()
    .map(|mut line| line.remove(0))
    .collect()
}

async fn tables_with_organization(db: &DatabaseConnection) -> BTreeSet<String> {
    lines(
        db,
        &format!(
            "SELECT c.table_name::text FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
               AND c.column_name = '{DISTRIBUTION_COLUMN}'"
        ),
    )
    .await
    .into_iter()
    .map(|mut line| line.remove(0))
    .collect()
}

/// `columns` of an `int2[]`-like key of `relation`, in key order, as `a,b,c`.
fn key_columns(key: &str, relation: &str) -> String {
    format!(
        "array_to_string(ARRAY(SELECT a.attname::text FROM unnest({key}) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = {relation} AND a.attnum = k.attnum ORDER BY k.ord), ',')"
    )
}

/// Every breach of the tenant-key rule among the tables that have an `organization_id` and
/// are not declared reference tables, each naming its table and constraint or index.
async fn tenant_key_violations(db: &DatabaseConnection) -> Vec<String> {
    let (shared, tenant): (BTreeSet<String>, BTreeSet<String>) = tables_with_organization(db)
        .await
        .into_iter()
        .partition(|table| REFERENCE_TABLES.contains(&table.as_str()));
    let has_organization = |columns: &str| columns.split(',').any(|c| c == DISTRIBUTION_COLUMN);
    let mut violations = Vec::new();

    // Primary keys, unique constraints and unique indexes alike: each is a unique index.
    let unique = lines(
        db,
        &format!(
            "SELECT concat_ws('|', c.relname, i.relname,
                    CASE WHEN ix.indisprimary THEN 'primary key' ELSE 'unique index' END, {})
             FROM pg_index ix
             JOIN pg_class c ON c.oid = ix.indrelid
             JOIN pg_class i ON i.oid = ix.indexrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND ix.indisunique",
            key_columns("ix.indkey::int2[]", "ix.indrelid")
        ),
    )
    .await;
    for table in &tenant {
        if !unique
            .iter()
            .any(|line| &line[0] == table && line[2] == "primary key")
        {
            violations.push(format!("{table}: no primary key"));
        }
    }
    for line in &unique {
        let (table, name, kind, columns) = (&line[0], &line[1], &line[2], &line[3]);
        if tenant.contains(table) && !has_organization(columns) {
            violations.push(format!(
                "{table}: {kind} {name} ({columns}) lacks {DISTRIBUTION_COLUMN}"
            ));
        }
    }

    let foreign = lines(
        db,
        &format!(
            "SELECT concat_ws('|', c.relname, con.conname, f.relname, {}, {})
             FROM pg_constraint con
             JOIN pg_class c ON c.oid = con.conrelid
             JOIN pg_class f ON f.oid = con.confrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND con.contype = 'f'",
            key_columns("con.conkey", "con.conrelid"),
            key_columns("con.confkey", "con.confrelid"),
        ),
    )
    .await;
    for line in &foreign {
        let (table, name, parent, columns, parent_columns) =
            (&line[0], &line[1], &line[2], &line[3], &line[4]);
        if !tenant.contains(table) {
            continue;
        }
        // A reference table holding organizations' rows: only its scope says whose a row is.
        if shared.contains(parent) {
            if !parent_columns.split(',').any(|c| c == SCOPE_COLUMN) {
                violations.push(format!(
                    "{table}: foreign key {name} ({columns}) -> {parent} ({parent_columns}) does \
                     not refer to {parent}.{SCOPE_COLUMN}"
                ));
            }
            continue;
        }
        if !tenant.contains(parent) {
            continue;
        }
        // organization_id must meet organization_id: the same position on both sides.
        let paired = columns
            .split(',')
            .zip(parent_columns.split(','))
            .any(|(from, to)| from == DISTRIBUTION_COLUMN && to == DISTRIBUTION_COLUMN);
        if !paired {
            violations.push(format!(
                "{table}: foreign key {name} ({columns}) -> {parent} ({parent_columns}) does not \
                 match {DISTRIBUTION_COLUMN} with {DISTRIBUTION_COLUMN}"
            ));
        }
    }
    violations.sort();
    violations
}

async fn open(test_db: &TestDb) -> DatabaseConnection {
    Database::connect(test_db.url())
        .await
        .expect("connect to the test database")
}

#[tokio::test]
async fn every_tenant_key_leads_with_the_organization() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let db = open(&test_db).await;

    let violations = tenant_key_violations(&db).await;
    assert!(
        violations.is_empty(),
        "tables that would not distribute by {DISTRIBUTION_COLUMN}:\n  {}",
        violations.join("\n  ")
    );
    db.close().await.ok();
}

#[tokio::test]
async fn the_declared_table_lists_match_the_schema() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let db = open(&test_db).await;
    let declared_reference: BTreeSet<String> =
        REFERENCE_TABLES.iter().map(|t| (*t).to_owned()).collect();
    let declared_distributed: BTreeSet<String> =
        DISTRIBUTED_TABLES.iter().map(|t| (*t).to_owned()).collect();

    let with_organization = tables_with_organization(&db).await;
    let expected_distributed: BTreeSet<String> = with_organization
        .difference(&declared_reference)
        .cloned()
        .collect();
    assert_eq!(
        declared_distributed, expected_distributed,
        "migration::distribution::DISTRIBUTED_TABLES must list every table with \
         {DISTRIBUTION_COLUMN} that is not a reference table"
    );
    assert!(declared_reference.is_disjoint(&declared_distributed));
    let declared: BTreeSet<String> = declared_reference
        .union(&declared_distributed)
        .cloned()
        .collect();
    assert_eq!(
        tables(&db).await,
        declared,
        "every table is declared in migration::distribution, as reference or distributed"
    );
    db.close().await.ok();
}

/// The check itself catches what it is for: a table whose keys ignore the organization.
#[tokio::test]
async fn a_table_without_tenant_keys_is_named() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let db = open(&test_db).await;
    db.execute_unprepared(
        "CREATE TABLE canary_parents (id uuid PRIMARY KEY, organization_id uuid NOT NULL,
             email text NOT NULL UNIQUE);
         CREATE TABLE canary_children (organization_id uuid NOT NULL, id uuid NOT NULL,
             parent_id uuid NOT NULL REFERENCES canary_parents (id),
             role_id uuid REFERENCES roles (id),
             PRIMARY KEY (organization_id, id));
         CREATE UNIQUE INDEX idx_canary_children_parent ON canary_children (parent_id, id);",
    )
    .await
    .expect("create the canary tables");

    let violations = tenant_key_violations(&db).await;
    assert_eq!(
        violations,
        vec![
            "canary_children: foreign key canary_children_parent_id_fkey (parent_id) -> \
             canary_parents (id) does not match organization_id with organization_id",
            "canary_children: foreign key canary_children_role_id_fkey (role_id) -> roles (id) \
             does not refer to roles.scope",
            "canary_children: unique index idx_canary_children_parent (parent_id,id) lacks \
             organization_id",
            "canary_parents: primary key canary_parents_pkey (id) lacks organization_id",
            "canary_parents: unique index canary_parents_email_key (email) lacks organization_id",
        ]
    );
    db.close().await.ok();
}

/// `docs/distribution.md` shows the statements these lists produce, verbatim.
#[test]
fn the_docs_show_the_distribution_statements() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/distribution.md");
    let docs = std::fs::read_to_string(path).expect("docs/distribution.md");
    let sql = migration::distribution::citus_sql();
    assert!(
        docs.contains(&format!("```sql\n{sql}```")),
        "docs/distribution.md must show, in a ```sql block, exactly:\n{sql}"
    );
}
