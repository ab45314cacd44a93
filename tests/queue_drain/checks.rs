//! The checks on the stored history: every task's in SQL, and one task's event by event
//! through `list_task_events` against the steps the workers took.

use orchestore_domain::{AgentId, TaskId, TaskStatus};
use orchestore_repo::{Ctx, Limit, PageRequest, Store};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use uuid::Uuid;

use crate::MAX_ATTEMPTS;
use crate::tracker::{Step, TaskLog};

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    db.query_one_raw(statement)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn task_ids(db: &DatabaseConnection, sql: &str) -> Vec<TaskId> {
    let statement = Statement::from_string(db.get_database_backend(), sql.to_owned());
    db.query_all_raw(statement)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| TaskId::from_uuid(row.try_get_by_index::<Uuid>(0).expect("a task id")))
        .collect()
}

/// Every task's history checked in SQL, in the order `list_task_events` lists it (by id):
/// what is wrong, and some of the tasks it is wrong about.
pub(crate) async fn check_histories_in_sql(
    db: &DatabaseConnection,
    total: usize,
    expected_events: i64,
) -> (Vec<String>, Vec<TaskId>) {
    let checks = [
        (
            "tasks that are not succeeded or failed, or keep a lease",
            "SELECT id FROM tasks WHERE status NOT IN ('succeeded', 'failed')
                 OR lease_token IS NOT NULL OR lease_expires_at IS NOT NULL",
        ),
        (
            "failed tasks with attempts left",
            "SELECT id FROM tasks WHERE status = 'failed' AND attempts <> max_attempts",
        ),
        (
            "histories that do not start with the creation or whose events do not chain",
            "SELECT DISTINCT task_id FROM (
                 SELECT task_id, from_status, to_status,
                     LAG(to_status) OVER (PARTITION BY organization_id, task_id ORDER BY id)
                         AS previous,
                     ROW_NUMBER() OVER (PARTITION BY organization_id, task_id ORDER BY id) AS n
                 FROM task_events) h
             WHERE (n = 1 AND (from_status IS NOT NULL OR to_status <> 'queued'))
                OR (n > 1 AND (from_status IS NULL OR from_status <> previous))",
        ),
        (
            "tasks whose history does not end in their status",
            "SELECT t.id FROM tasks t WHERE t.status <> COALESCE((
                 SELECT e.to_status FROM task_events e
                 WHERE e.organization_id = t.organization_id AND e.task_id = t.id
                 ORDER BY e.id DESC LIMIT 1), '')",
        ),
        (
            "tasks whose attempts are not their claims less their releases",
            "SELECT t.id FROM tasks t WHERE t.attempts <> (
                 SELECT COUNT(*) FROM task_events e
                 WHERE e.organization_id = t.organization_id AND e.task_id = t.id
                   AND e.from_status = 'queued' AND e.to_status = 'running')
               - (SELECT COUNT(*) FROM task_events e
                 WHERE e.organization_id = t.organization_id AND e.task_id = t.id
                   AND e.from_status = 'running' AND e.to_status = 'queued'
                   AND e.reason LIKE 'released%')",
        ),
    ];
    let mut problems = Vec::new();
    let mut examples = Vec::new();
    for (what, sql) in checks {
        let found = task_ids(db, sql).await;
        if !found.is_empty() {
            problems.push(format!("{} {what}", found.len()));
            examples.extend(found.into_iter().take(5));
        }
    }
    let tasks = count(db, "SELECT COUNT(*) FROM tasks").await;
    if tasks != total as i64 {
        problems.push(format!("{tasks} tasks stored, not {total}"));
    }
    let events = count(db, "SELECT COUNT(*) FROM task_events").await;
    if events != expected_events {
        problems.push(format!(
            "{events} events, not one per creation, claim and end of run: {expected_events}"
        ));
    }
    (problems, examples)
}

/// The history of one task, event by event, against the steps the workers took.
pub(crate) async fn check_history(
    store: &dyn Store,
    ctx: &Ctx,
    id: TaskId,
    log: &TaskLog,
    agents: &[AgentId],
) -> Vec<String> {
    let events = store
        .list_task_events(
            ctx,
            id,
            PageRequest::first(Limit::parse(200).expect("limit")),
        )
        .await
        .expect("history")
        .items;
    let n = log.n;
    let mut problems = Vec::new();
    if events.len() != 1 + log.steps.len() {
        problems.push(format!(
            "task {n}: {} events for {} steps: {:?}",
            events.len(),
            log.steps.len(),
            events.iter().map(|e| &e.reason).collect::<Vec<_>>()
        ));
        return problems;
    }
    let created = &events[0];
    if (created.from_status, created.to_status) != (None, TaskStatus::Queued) {
        problems.push(format!("task {n} starts with {created:?}"));
    }
    let mut attempts = 0;
    for (event, step) in events[1..].iter().zip(&log.steps) {
        let moved = (event.from_status, event.to_status);
        let reason = event.reason.as_str();
        let matches = match *step {
            Step::Claimed { worker } => {
                attempts += 1;
                moved == (Some(TaskStatus::Queued), TaskStatus::Running)
                    && reason == format!("claimed by agent {}", agents[worker])
            }
            Step::Completed => {
                moved == (Some(TaskStatus::Running), TaskStatus::Succeeded)
                    && reason.starts_with("completed by agent")
            }
            Step::Failed if attempts >= MAX_ATTEMPTS => {
                moved == (Some(TaskStatus::Running), TaskStatus::Failed)
                    && reason
                        == format!("attempt {attempts} of {MAX_ATTEMPTS} failed: no attempts left")
            }
            Step::Failed => {
                moved == (Some(TaskStatus::Running), TaskStatus::Queued)
                    && reason.starts_with(&format!(
                        "attempt {attempts} of {MAX_ATTEMPTS} failed: retried after"
                    ))
            }
            Step::Released => {
                attempts -= 1;
                moved == (Some(TaskStatus::Running), TaskStatus::Queued)
                    && reason.starts_with("released by its worker")
            }
        };
        if !matches {
            problems.push(format!(
                "task {n}: step {step:?} recorded as {:?} → {} ({reason})",
                event.from_status, event.to_status
            ));
        }
    }
    for pair in events.windows(2) {
        if pair[1].from_status != Some(pair[0].to_status) {
            problems.push(format!(
                "task {n}: {} then {:?} → {}: the history does not chain",
                pair[0].to_status, pair[1].from_status, pair[1].to_status
            ));
        }
    }
    if !problems.is_empty() {
        let listed: Vec<String> = events
            .iter()
            .map(|e| {
                let from = e.from_status.map_or("-", |s| s.as_str());
                format!("{} {from} → {}: {}", e.created_at, e.to_status, e.reason)
            })
            .collect();
        problems.push(format!(
            "task {n}: its history: {listed:#?}; the steps: {:?}",
            log.steps
        ));
    }
    problems
}
