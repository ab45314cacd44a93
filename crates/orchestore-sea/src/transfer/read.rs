//! Reading a table a page at a time, in primary-key order, optionally only one organization's
//! rows.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use super::TransferError;
use super::schema::{ORGANIZATIONS, Schema, TENANT_COLUMN, Table};
use super::value::{Datum, Tally};

/// Rows per page read.
const PAGE_ROWS: u64 = 500;

/// Which rows move.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope {
    Everything,
    /// The organization's row, and the rows of tables that belong to organizations.
    Organization(Uuid),
}

/// A statement under construction: its text and its parameters, numbered for the backend.
pub(crate) struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub(crate) fn new(backend: DbBackend, text: &str) -> Self {
        Self {
            backend,
            text: text.to_owned(),
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub(crate) fn bind(&mut self, value: Value) -> &mut Self {
        self.values.push(value);
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    /// `IS` a value, NULL included.
    pub(crate) fn null_safe_equals(&mut self) -> &mut Self {
        match self.backend {
            DbBackend::Postgres => self.push(" IS NOT DISTINCT FROM "),
            _ => self.push(" IS "),
        }
    }

    pub(crate) fn statement(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether any row of `table` is in `scope`: with one organization, its row, the tables that
/// have `organization_id` (its rows, and those with none: the system roles), and the tables
/// that refer to one of those (`role_permissions` of its custom roles); not the global tables
/// the migrations fill.
pub(crate) fn in_scope(schema: &Schema, table: &Table, scope: Scope) -> bool {
    match scope {
        Scope::Everything => true,
        Scope::Organization(_) => {
            table.name == ORGANIZATIONS
                || table.is_tenant_owned()
                || tenant_parent(schema, table).is_some()
        }
    }
}

fn tenant_parent<'a>(
    schema: &'a Schema,
    table: &'a Table,
) -> Option<(&'a super::schema::ForeignKey, &'a Table)> {
    table.foreign_keys.iter().find_map(|fk| {
        schema
            .table(&fk.parent)
            .filter(|parent| parent.name != table.name && parent.is_tenant_owned())
            .map(|parent| (fk, parent))
    })
}

/// Appends ` AND <the scope's condition>`.
fn push_scope(sql: &mut Sql, schema: &Schema, table: &Table, scope: Scope) {
    let Scope::Organization(org) = scope else {
        return;
    };
    if table.name == ORGANIZATIONS {
        sql.push(" AND \"id\" = ").bind(org.into());
    } else if table.is_tenant_owned() {
        // A row with no organization (a system role) is every organization's: it goes along,
        // so that the target can match it with its own and translate the references to it.
        sql.push(&format!(
            " AND ({0} IS NULL OR {0} = ",
            quote(TENANT_COLUMN)
        ))
        .bind(org.into())
        .push(")");
    } else if let Some((fk, parent)) = tenant_parent(schema, table) {
        let list = |cols: &[String]| cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        sql.push(&format!(
            " AND ({}) IN (SELECT {} FROM {} WHERE {} = ",
            list(&fk.columns),
            list(&fk.parent_columns),
            quote(&parent.name),
            quote(TENANT_COLUMN)
        ))
        .bind(org.into())
        .push(")");
    }
}

pub(crate) async fn count(
    db: &impl ConnectionTrait,
    schema: &Schema,
    table: &Table,
    scope: Scope,
) -> Result<u64, TransferError> {
    let backend = db.get_database_backend();
    let mut sql = Sql::new(
        backend,
        &format!("SELECT COUNT(*) FROM {} WHERE 1 = 1", quote(&table.name)),
    );
    push_scope(&mut sql, schema, table, scope);
    let row = db
        .query_one_raw(sql.statement())
        .await
        .map_err(|e| TransferError::database(format!("counting {}", table.name), e))?;
    let n: i64 = row
        .map(|r| r.try_get_by_index(0))
        .transpose()
        .map_err(|e| TransferError::database(format!("counting {}", table.name), e))?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Walks a table in primary-key order, a page at a time (bounded memory).
pub(crate) struct Pager<'a> {
    schema: &'a Schema,
    table: &'a Table,
    scope: Scope,
    after: Option<Vec<Datum>>,
    done: bool,
}

impl<'a> Pager<'a> {
    pub(crate) fn new(
        schema: &'a Schema,
        table: &'a Table,
        scope: Scope,
    ) -> Result<Self, TransferError> {
        if table.primary_key.is_empty() {
            return Err(TransferError::Schema(format!(
                "table {} has no primary key to read it in order by",
                table.name
            )));
        }
        Ok(Self {
            schema,
            table,
            scope,
            after: None,
            done: false,
        })
    }

    /// The next page of rows, each its columns in the table's order; empty at the end.
    pub(crate) async fn next(
        &mut self,
        db: &impl ConnectionTrait,
    ) -> Result<Vec<Vec<Datum>>, TransferError> {
        if self.done {
            return Ok(Vec::new());
        }
        let backend = db.get_database_backend();
        let table = self.table;
        let key: Vec<String> = table
            .primary_key
            .iter()
            .map(|&i| quote(&table.columns[i].name))
            .collect();
        let mut sql = Sql::new(
            backend,
            &format!(
                "SELECT {} FROM {} WHERE 1 = 1",
                column_list(table),
                quote(&table.name)
            ),
        );
        push_scope(&mut sql, self.schema, table, self.scope);
        if let Some(after) = &self.after {
            sql.push(&format!(" AND ({}) > (", key.join(", ")));
            for (n, (&i, datum)) in table.primary_key.iter().zip(after).enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.bind(datum.bind(table.columns[i].kind));
            }
            sql.push(")");
        }
        sql.push(&format!(" ORDER BY {} LIMIT {PAGE_ROWS}", key.join(", ")));
        let rows = db
            .query_all_raw(sql.statement())
            .await
            .map_err(|e| TransferError::database(format!("reading {}", table.name), e))?;
        let mut page = Vec::with_capacity(rows.len());
        for row in &rows {
            page.push(decode_row(table, row, backend)?);
        }
        self.done = (page.len() as u64) < PAGE_ROWS;
        self.after = page
            .last()
            .map(|row: &Vec<Datum>| table.primary_key.iter().map(|&i| row[i].clone()).collect());
        Ok(page)
    }
}

pub(crate) fn decode_row(
    table: &Table,
    row: &sea_orm::QueryResult,
    backend: DbBackend,
) -> Result<Vec<Datum>, TransferError> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            Datum::read(row, i, column.kind, backend).map_err(|message| TransferError::Value {
                table: table.name.clone(),
                column: column.name.clone(),
                message,
            })
        })
        .collect()
}

/// A row's dump form: each column's name and value.
pub(crate) fn encode_row(
    table: &Table,
    row: &[Datum],
) -> Result<serde_json::Map<String, serde_json::Value>, TransferError> {
    let mut map = serde_json::Map::new();
    for (column, datum) in table.columns.iter().zip(row) {
        let value = datum.encode().map_err(|message| TransferError::Value {
            table: table.name.clone(),
            column: column.name.clone(),
            message,
        })?;
        map.insert(column.name.clone(), value);
    }
    Ok(map)
}

/// The count and checksum of every row of `table` in `scope`.
pub(crate) async fn tally(
    db: &impl ConnectionTrait,
    schema: &Schema,
    table: &Table,
    scope: Scope,
) -> Result<Tally, TransferError> {
    let mut tally = Tally::default();
    let mut pager = Pager::new(schema, table, scope)?;
    loop {
        let page = pager.next(db).await?;
        if page.is_empty() {
            return Ok(tally);
        }
        for row in &page {
            let encoded = encode_row(table, row)?;
            tally.add(encoded.iter().map(|(k, v)| (k.as_str(), v)));
        }
    }
}
