//! The tables to move, read from the live schema of a database: their columns and kinds, keys
//! and foreign keys, in an order where every table comes after the tables it refers to.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::TransferError;
use super::value::Kind;

/// Tables the migration runner keeps for itself: never moved (the versions are compared).
pub(crate) const RUNNER_TABLES: [&str; 1] = ["seaql_migrations"];

/// The column that makes a table, or a row of it, an organization's.
pub(crate) const TENANT_COLUMN: &str = "organization_id";
/// The tenants' own table, which has no tenant column.
pub(crate) const ORGANIZATIONS: &str = "organizations";

#[derive(Debug)]
pub(crate) struct Column {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) nullable: bool,
}

#[derive(Debug)]
pub(crate) struct ForeignKey {
    pub(crate) columns: Vec<String>,
    pub(crate) parent: String,
    pub(crate) parent_columns: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) columns: Vec<Column>,
    /// Column indexes of the primary key.
    pub(crate) primary_key: Vec<usize>,
    /// Column indexes of each unique key other than the primary key.
    pub(crate) unique_keys: Vec<Vec<usize>>,
    pub(crate) foreign_keys: Vec<ForeignKey>,
}

impl Table {
    pub(crate) fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub(crate) fn is_tenant_owned(&self) -> bool {
        self.column(TENANT_COLUMN).is_some()
    }

    /// Nullable columns of a foreign key to the table itself (`tasks.parent_id`): written NULL
    /// first and set once every row of the table is in, since a row may come before the row it
    /// names.
    pub(crate) fn deferred_columns(&self) -> Vec<usize> {
        let mut deferred = BTreeSet::new();
        for fk in self.foreign_keys.iter().filter(|fk| fk.parent == self.name) {
            for name in &fk.columns {
                if let Some(i) = self.column(name)
                    && self.columns[i].nullable
                    && !self.primary_key.contains(&i)
                {
                    deferred.insert(i);
                }
            }
        }
        deferred.into_iter().collect()
    }
}

/// The movable tables of one database, parents before children.
#[derive(Debug)]
pub(crate) struct Schema {
    pub(crate) tables: Vec<Table>,
}

impl Schema {
    pub(crate) fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub(crate) async fn read(db: &impl ConnectionTrait) -> Result<Self, TransferError> {
        let backend = db.get_database_backend();
        let (names, derived) = match backend {
            DbBackend::Postgres => postgres_tables(db).await?,
            _ => sqlite_tables(db).await?,
        };
        let mut tables = Vec::new();
        for name in names {
            if RUNNER_TABLES.contains(&name.as_str()) || derived.contains(&name) {
                continue;
            }
            let table = match backend {
                DbBackend::Postgres => postgres_table(db, name).await?,
                _ => sqlite_table(db, name).await?,
            };
            tables.push(table);
        }
        Ok(Self {
            tables: order_by_references(tables)?,
        })
    }
}

/// Parents before children (Kahn's algorithm, ties by name); a reference of a table to itself
/// is handled by [`Table::deferred_columns`].
fn order_by_references(tables: Vec<Table>) -> Result<Vec<Table>, TransferError> {
    let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut waiting: BTreeMap<String, (Table, BTreeSet<String>)> = tables
        .into_iter()
        .map(|t| {
            let parents = t
                .foreign_keys
                .iter()
                .filter(|fk| fk.parent != t.name && names.contains(&fk.parent))
                .map(|fk| fk.parent.clone())
                .collect();
            (t.name.clone(), (t, parents))
        })
        .collect();
    let mut ordered = Vec::new();
    while !waiting.is_empty() {
        let Some(ready) = waiting
            .iter()
            .find(|(_, (_, parents))| parents.is_empty())
            .map(|(name, _)| name.clone())
        else {
            let cycle: Vec<String> = waiting.keys().cloned().collect();
            return Err(TransferError::Schema(format!(
                "the tables {} refer to each other in a cycle",
                cycle.join(", ")
            )));
        };
        if let Some((table, _)) = waiting.remove(&ready) {
            for (_, parents) in waiting.values_mut() {
                parents.remove(&ready);
            }
            ordered.push(table);
        }
    }
    Ok(ordered)
}

async fn rows(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<sea_orm::QueryResult>, TransferError> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map_err(|e| TransferError::database("reading the schema", e))
}

fn text(row: &sea_orm::QueryResult, index: usize) -> Result<String, TransferError> {
    row.try_get_by_index::<String>(index)
        .map_err(|e| TransferError::database("reading the schema", e))
}

/// The tables a trigger writes into (`INSERT INTO name`): derived data (full-text keys) that
/// the target's own triggers rebuild, so moving them would write each row twice.
fn inserted_by_triggers(sources: &[String]) -> BTreeSet<String> {
    let mut tables = BTreeSet::new();
    for source in sources {
        let words: Vec<String> = source
            .split_whitespace()
            .map(|w| w.to_ascii_lowercase())
            .collect();
        for pair in words.windows(3) {
            if pair[0] == "insert" && pair[1] == "into" {
                let name = pair[2]
                    .split('(')
                    .next()
                    .unwrap_or("")
                    .trim_matches('"')
                    .trim_start_matches("public.")
                    .to_owned();
                tables.insert(name);
            }
        }
    }
    tables
}

async fn sqlite_tables(
    db: &impl ConnectionTrait,
) -> Result<(Vec<String>, BTreeSet<String>), TransferError> {
    let all = rows(
        db,
        "SELECT name, COALESCE(sql, '') FROM sqlite_master \
         WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        vec![],
    )
    .await?;
    let mut names = Vec::new();
    let mut virtual_tables = Vec::new();
    for row in &all {
        let (name, sql) = (text(row, 0)?, text(row, 1)?);
        if sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL TABLE") {
            virtual_tables.push(name.clone());
        }
        names.push(name);
    }
    let triggers = rows(
        db,
        "SELECT COALESCE(sql, '') FROM sqlite_master WHERE type = 'trigger'",
        vec![],
    )
    .await?
    .iter()
    .map(|row| text(row, 0))
    .collect::<Result<Vec<_>, _>>()?;
    let mut derived = inserted_by_triggers(&triggers);
    // A virtual table (full-text index) and its shadow tables `<name>_data`, `<name>_idx`, ….
    for name in &names {
        if virtual_tables
            .iter()
            .any(|v| name == v || name.starts_with(&format!("{v}_")))
        {
            derived.insert(name.clone());
        }
    }
    Ok((names, derived))
}

async fn sqlite_table(db: &impl ConnectionTrait, name: String) -> Result<Table, TransferError> {
    let info = rows(
        db,
        "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?) ORDER BY cid",
        vec![name.clone().into()],
    )
    .await?;
    let mut columns = Vec::new();
    let mut key_positions = Vec::new();
    for (i, row) in info.iter().enumerate() {
        let column = text(row, 0)?;
        let declared = text(row, 1)?;
        let not_null: i64 = row
            .try_get_by_index(2)
            .map_err(|e| TransferError::database("reading the schema", e))?;
        let pk: i64 = row
            .try_get_by_index(3)
            .map_err(|e| TransferError::database("reading the schema", e))?;
        let kind = Kind::from_sqlite(&declared).ok_or_else(|| TransferError::UnknownType {
            table: name.clone(),
            column: column.clone(),
            declared: declared.clone(),
        })?;
        if pk > 0 {
            key_positions.push((pk, i));
        }
        columns.push(Column {
            name: column,
            kind,
            nullable: not_null == 0 && pk == 0,
        });
    }
    key_positions.sort();
    let primary_key = key_positions.into_iter().map(|(_, i)| i).collect();

    let mut unique_keys = Vec::new();
    let indexes = rows(
        db,
        "SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1 AND partial = 0 \
         AND origin <> 'pk' ORDER BY name",
        vec![name.clone().into()],
    )
    .await?;
    for index in &indexes {
        let index = text(index, 0)?;
        let parts = rows(
            db,
            "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
            vec![index.into()],
        )
        .await?;
        let mut key = Vec::new();
        for part in &parts {
            // An expression has no column name: such an index is no plain key.
            match part.try_get_by_index::<Option<String>>(0).ok().flatten() {
                Some(col) => key.extend(columns.iter().position(|c| c.name == col)),
                None => key.clear(),
            }
        }
        if key.len() == parts.len() && !key.is_empty() {
            unique_keys.push(key);
        }
    }

    let fk_rows = rows(
        db,
        "SELECT id, \"table\", \"from\", COALESCE(\"to\", '') FROM pragma_foreign_key_list(?) \
         ORDER BY id, seq",
        vec![name.clone().into()],
    )
    .await?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    for row in &fk_rows {
        let id: i64 = row
            .try_get_by_index(0)
            .map_err(|e| TransferError::database("reading the schema", e))?;
        let (parent, from, to) = (text(row, 1)?, text(row, 2)?, text(row, 3)?);
        match foreign_keys.last_mut() {
            Some((last, fk)) if *last == id => {
                fk.columns.push(from);
                fk.parent_columns.push(to);
            }
            _ => foreign_keys.push((
                id,
                ForeignKey {
                    columns: vec![from],
                    parent,
                    parent_columns: vec![to],
                },
            )),
        }
    }
    Ok(Table {
        name,
        columns,
        primary_key,
        unique_keys,
        foreign_keys: foreign_keys.into_iter().map(|(_, fk)| fk).collect(),
    })
}

async fn postgres_tables(
    db: &impl ConnectionTrait,
) -> Result<(Vec<String>, BTreeSet<String>), TransferError> {
    let names = rows(
        db,
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
         ORDER BY 1",
        vec![],
    )
    .await?
    .iter()
    .map(|row| text(row, 0))
    .collect::<Result<Vec<_>, _>>()?;
    let triggers = rows(
        db,
        "SELECT p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid \
         JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND n.nspname = current_schema()",
        vec![],
    )
    .await?
    .iter()
    .map(|row| text(row, 0))
    .collect::<Result<Vec<_>, _>>()?;
    Ok((names, inserted_by_triggers(&triggers)))
}

const PG_RELATION: &str = "JOIN pg_namespace n ON n.oid = c.relnamespace \
                           WHERE n.nspname = current_schema() AND c.relname = $1";

async fn postgres_table(db: &impl ConnectionTrait, name: String) -> Result<Table, TransferError> {
    // Generated columns (`search_vector`) are computed by the target itself.
    let info = rows(
        db,
        &format!(
            "SELECT a.attname::text, t.typname::text, a.attnotnull \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_type t ON t.oid = a.atttypid {PG_RELATION} \
             AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' \
             ORDER BY a.attnum"
        ),
        vec![name.clone().into()],
    )
    .await?;
    let mut columns = Vec::new();
    for row in &info {
        let (column, type_name) = (text(row, 0)?, text(row, 1)?);
        let not_null: bool = row
            .try_get_by_index(2)
            .map_err(|e| TransferError::database("reading the schema", e))?;
        let kind = Kind::from_postgres(&type_name).ok_or_else(|| TransferError::UnknownType {
            table: name.clone(),
            column: column.clone(),
            declared: type_name.clone(),
        })?;
        columns.push(Column {
            name: column,
            kind,
            nullable: !not_null,
        });
    }

    let key_rows = rows(
        db,
        &format!(
            "SELECT ic.relname::text, i.indisprimary, a.attname::text \
             FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum \
             {PG_RELATION} AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL \
             ORDER BY ic.relname, k.ord"
        ),
        vec![name.clone().into()],
    )
    .await?;
    let mut primary_key = Vec::new();
    let mut unique_keys: Vec<(String, Vec<usize>)> = Vec::new();
    for row in &key_rows {
        let index = text(row, 0)?;
        let primary: bool = row
            .try_get_by_index(1)
            .map_err(|e| TransferError::database("reading the schema", e))?;
        let Some(col) = columns
            .iter()
            .position(|c| c.name == text(row, 2).unwrap_or_default())
        else {
            continue;
        };
        if primary {
            primary_key.push(col);
        } else {
            match unique_keys.last_mut() {
                Some((last, key)) if *last == index => key.push(col),
                _ => unique_keys.push((index, vec![col])),
            }
        }
    }

    let fk_rows = rows(
        db,
        &format!(
            "SELECT con.conname::text, a.attname::text, pc.relname::text, pa.attname::text \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
             JOIN pg_class pc ON pc.oid = con.confrelid \
             CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(att, patt, ord) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.att \
             JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.patt \
             {PG_RELATION} AND con.contype = 'f' ORDER BY con.conname, k.ord"
        ),
        vec![name.clone().into()],
    )
    .await?;
    let mut foreign_keys: Vec<(String, ForeignKey)> = Vec::new();
    for row in &fk_rows {
        let (constraint, from, parent, to) =
            (text(row, 0)?, text(row, 1)?, text(row, 2)?, text(row, 3)?);
        match foreign_keys.last_mut() {
            Some((last, fk)) if *last == constraint => {
                fk.columns.push(from);
                fk.parent_columns.push(to);
            }
            _ => foreign_keys.push((
                constraint,
                ForeignKey {
                    columns: vec![from],
                    parent,
                    parent_columns: vec![to],
                },
            )),
        }
    }
    Ok(Table {
        name,
        columns,
        primary_key,
        unique_keys: unique_keys.into_iter().map(|(_, key)| key).collect(),
        foreign_keys: foreign_keys.into_iter().map(|(_, fk)| fk).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::inserted_by_triggers;

    #[test]
    fn tables_filled_by_triggers_are_found() {
        let found = inserted_by_triggers(&[
            "CREATE TRIGGER t AFTER INSERT ON knowledge_entries BEGIN\n INSERT INTO \
             knowledge_fts_keys (organization_id) VALUES (new.organization_id); \
             INSERT INTO knowledge_fts(rowid) VALUES (1); END"
                .to_owned(),
        ]);
        assert_eq!(
            found.into_iter().collect::<Vec<_>>(),
            ["knowledge_fts", "knowledge_fts_keys"]
        );
    }
}
