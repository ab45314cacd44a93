//! `orchestore status [--json]`: whether the database answers and how fast, its backend and
//! version, the migrations applied and pending, the database's connections, the rows of the
//! main tables, the depth of the queue and the audit rows waiting for the sealer — as text for
//! people, or as one JSON object.

use std::fmt::Write as _;
use std::time::Duration;

use orchestore_domain::QueueDepth;
use orchestore_repo::{
    AuditBacklog, AuditRepo as _, Backend, QueueRepo as _, RepoError, Store as _,
};
use orchestore_sea::{DbConfig, SeaStore, TableRows};
use serde::Serialize;

use crate::config::Settings;

/// The longest `status` waits for the database's first connection, whatever
/// `database.connect_timeout` says: an unreachable database is reported quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The tables whose rows `status` reports, in this order.
const MAIN_TABLES: [&str; 16] = [
    "organizations",
    "users",
    "agents",
    "projects",
    "tasks",
    "task_events",
    "messages",
    "workflows",
    "workflow_executions",
    "templates",
    "knowledge_entries",
    "events",
    "metrics",
    "alerts",
    "sessions",
    "audit_logs",
];

#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    #[error("the database is unreachable: {0}")]
    Unreachable(RepoError),
    #[error("database: {0}")]
    Database(#[from] RepoError),
    #[error("writing the report: {0}")]
    Output(String),
}

/// What `status` reports; `--json` prints it as is (see the operations guide for its fields).
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// This build's version.
    pub orchestore_version: &'static str,
    pub database: DatabaseReport,
    pub migrations: MigrationsReport,
    /// `None` on SQLite: there is no database server to ask, and each process holds its own
    /// connections.
    pub connections: Option<ConnectionsReport>,
    /// The main tables that exist, with their rows.
    pub tables: Vec<TableRows>,
    /// `None` while migrations are pending: the queue's tables may not have their columns yet.
    pub queue: Option<QueueDepth>,
    /// The audit rows of every organization not sealed yet; `None` while migrations are
    /// pending.
    pub audit: Option<AuditBacklog>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseReport {
    /// The connection string, its secrets redacted.
    pub url: String,
    pub backend: Backend,
    pub server_version: String,
    pub round_trip_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MigrationsReport {
    pub applied: usize,
    /// The names of the migrations this build knows that the database has not applied, in
    /// the order they apply.
    pub pending: Vec<String>,
}

/// The database's client connections (PostgreSQL's `pg_stat_activity`): what every server's
/// pool holds, and this command's own connection.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionsReport {
    /// Every state but `idle`.
    pub in_use: u64,
    pub idle: u64,
    /// Each `pg_stat_activity.state` seen, with its count.
    pub by_state: Vec<orchestore_sea::ConnectionCount>,
}

/// Connects to `settings.database` (one connection, at most [`CONNECT_TIMEOUT`] to open it)
/// and reads the report.
pub async fn read_status(settings: &Settings) -> Result<StatusReport, StatusError> {
    let config = DbConfig {
        max_connections: 1,
        min_connections: 1,
        connect_timeout: settings.database.connect_timeout.min(CONNECT_TIMEOUT),
        ..settings.database.clone()
    };
    let store = SeaStore::connect(&config)
        .await
        .map_err(StatusError::Unreachable)?;
    let migrations = store.migration_status().await?;
    let pending: Vec<String> = migrations
        .iter()
        .filter(|m| !m.applied)
        .map(|m| m.name.clone())
        .collect();
    let overview = store.database_overview(&MAIN_TABLES).await?;
    let (queue, audit) = if pending.is_empty() {
        (
            Some(store.queue_depth().await?),
            Some(store.audit_backlog().await?),
        )
    } else {
        (None, None)
    };
    let connections = overview.connections.map(|by_state| {
        let idle = by_state
            .iter()
            .filter(|c| c.state == "idle")
            .map(|c| c.count)
            .sum();
        let all: u64 = by_state.iter().map(|c| c.count).sum();
        ConnectionsReport {
            in_use: all - idle,
            idle,
            by_state,
        }
    });
    Ok(StatusReport {
        orchestore_version: env!("CARGO_PKG_VERSION"),
        database: DatabaseReport {
            url: settings.database.url.to_string(),
            backend: store.backend(),
            server_version: overview.server_version,
            round_trip_ms: overview.round_trip.as_secs_f64() * 1000.0,
        },
        migrations: MigrationsReport {
            applied: migrations.len() - pending.len(),
            pending,
        },
        connections,
        tables: overview.tables,
        queue,
        audit,
    })
}

/// The report as one pretty-printed JSON object and a newline.
pub fn render_json(report: &StatusReport) -> Result<String, StatusError> {
    serde_json::to_string_pretty(report)
        .map(|json| json + "\n")
        .map_err(|e| StatusError::Output(e.to_string()))
}

/// The report as text, a section per line group.
pub fn render_text(report: &StatusReport) -> String {
    let mut out = String::new();
    let db = &report.database;
    let backend = match db.backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    // Writing to a String does not fail.
    let _ = writeln!(out, "orchestore {}", report.orchestore_version);
    let _ = writeln!(
        out,
        "database     reachable, round trip {:.2} ms",
        db.round_trip_ms
    );
    let _ = writeln!(out, "             {}", db.url);
    let _ = writeln!(out, "backend      {backend} {}", db.server_version);
    let migrations = &report.migrations;
    let _ = writeln!(
        out,
        "migrations   {} applied, {} pending",
        migrations.applied,
        migrations.pending.len()
    );
    for name in &migrations.pending {
        let _ = writeln!(out, "             pending {name}");
    }
    match &report.connections {
        Some(connections) => {
            let _ = writeln!(
                out,
                "connections  {} in use, {} idle (the database's client connections: every \
                 server's pool, and this command's own)",
                connections.in_use, connections.idle
            );
            for state in &connections.by_state {
                let _ = writeln!(out, "             {:<28}{}", state.state, state.count);
            }
        }
        None => {
            let _ = writeln!(
                out,
                "connections  not applicable (SQLite: each process holds its own connections)"
            );
        }
    }
    let estimated = report.tables.iter().any(|t| t.estimated);
    let _ = writeln!(out, "rows{}", if estimated { " (estimates)" } else { "" });
    for table in &report.tables {
        let _ = writeln!(out, "  {:<22}{:>12}", table.table, table.rows);
    }
    match &report.queue {
        Some(queue) => {
            let _ = writeln!(out, "queue (every organization)");
            for (state, n) in [
                ("blocked", queue.blocked),
                ("queued", queue.queued),
                ("scheduled", queue.scheduled),
                ("running", queue.running),
                ("expired leases", queue.expired_leases),
            ] {
                let _ = writeln!(out, "  {state:<22}{n:>12}");
            }
        }
        None => {
            let _ = writeln!(
                out,
                "queue        unknown until the pending migrations are applied"
            );
        }
    }
    match &report.audit {
        Some(audit) => {
            let rows = if audit.unsealed == 1 { "row" } else { "rows" };
            let oldest = audit
                .oldest_unsealed_at
                .map(|at| {
                    format!(
                        ", the oldest written {}",
                        at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "audit        {} {rows} unsealed{oldest}",
                audit.unsealed
            );
        }
        None => {
            let _ = writeln!(
                out,
                "audit        unknown until the pending migrations are applied"
            );
        }
    }
    out
}
