//! Cancellation that reaches every descendant, inside the mutation that cancels a task or an
//! execution: the subtasks of a cancelled task (`parent_id`), the tasks waiting for it, the
//! workflow executions started from it with their tasks (`crate::workflows`), and theirs in
//! turn. The walk goes through tasks that have not ended and stops at one that has (succeeded
//! or cancelled): what it finished stands.
//!
//! Set-based: one recursive query finds every open task below the cancelled ones (through
//! subtasks and dependencies together), and rows change in `IN` lists of at most [`CHUNK`]
//! ids; each generation of child executions costs one more round.
//!
//! No cancellation is lost to a concurrent change: the tasks found are locked (PostgreSQL
//! `FOR UPDATE`, those not blocked before the blocked ones, each in id order, as every change
//! takes them) and their status read again under the lock — one that a worker claimed
//! meanwhile is cancelled running, its lease ended, and one that ended is left alone. The
//! child executions of a task are looked for after it is locked, and starting one locks its
//! parent and refuses an ended one, so either the cancellation sees the child or the child
//! sees the cancellation. SQLite's write transactions run one at a time.

use std::collections::{BTreeMap, BTreeSet};

use orchestore_domain::TaskStatus;
use orchestore_repo::RepoResult;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::entity::tasks;
use super::transitions::{AUDITED_IDS, CHUNK, Followed};
use crate::SeaStore;
use crate::error::{corrupt, db_err};
use crate::mutation::Mutation;
use crate::scoped::scoped;

/// How a task hangs from the one whose cancellation reaches it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Link {
    Subtask = 1,
    Dependent = 2,
}

/// The open tasks hanging from a task, as `child, parent, link, status` (a subquery whose
/// parameter `$1` is the organization).
fn edges(statuses_ended: &str) -> String {
    format!(
        "SELECT t.id AS child, t.parent_id AS parent, {subtask} AS link, t.status AS status \
         FROM tasks t \
         WHERE t.organization_id = {{org}} AND t.parent_id IS NOT NULL \
           AND t.status NOT IN ({statuses_ended}) \
         UNION ALL \
         SELECT d.task_id, d.depends_on_id, {dependent}, t.status \
         FROM task_dependencies d \
         JOIN tasks t ON t.organization_id = d.organization_id AND t.id = d.task_id \
         WHERE d.organization_id = {{org}} AND t.status NOT IN ({statuses_ended})",
        subtask = Link::Subtask as i32,
        dependent = Link::Dependent as i32,
    )
}

/// `WITH RECURSIVE walk(id, cause, link, status) AS (the open tasks hanging from the roots
/// UNION the open tasks hanging from walk) SELECT * FROM walk`: every open task below `roots`,
/// with each task it hangs from on the way. The edges are one `UNION ALL` joined once, as
/// PostgreSQL takes one recursive reference only.
fn walk_statement(backend: DbBackend, org: Uuid, roots: &[Uuid]) -> Statement {
    let placeholder = |n: usize| match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    };
    let ended = [TaskStatus::Succeeded, TaskStatus::Cancelled]
        .map(|status| format!("'{}'", status.as_str()))
        .join(", ");
    let edges = edges(&ended).replace("{org}", &placeholder(1));
    let roots_list = (0..roots.len())
        .map(|i| placeholder(i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH RECURSIVE walk(id, cause, link, status) AS ( \
         SELECT e.child, e.parent, e.link, e.status FROM ({edges}) e \
         WHERE e.parent IN ({roots_list}) \
         UNION \
         SELECT e.child, e.parent, e.link, e.status FROM walk w \
         JOIN ({edges}) e ON e.parent = w.id \
         ) SELECT id, cause, link, status FROM walk"
    );
    let mut values: Vec<sea_orm::Value> = vec![org.into()];
    values.extend(roots.iter().map(|&root| sea_orm::Value::from(root)));
    Statement::from_sql_and_values(backend, sql, values)
}

/// The task a descendant was reached from, and how it hangs from it.
struct Reached {
    cause: Uuid,
    link: Link,
    status: TaskStatus,
}

/// What a cascade cancelled besides the tasks it started from.
#[derive(Default)]
pub(crate) struct Cascade {
    pub(crate) tasks: Vec<Uuid>,
    pub(crate) executions: Vec<Uuid>,
}

impl Cascade {
    /// Adds what the cascade cancelled to an audit row's `changes`, counted, the first named.
    pub(crate) fn annotate(&self, changes: &mut Value) {
        Followed {
            released: Vec::new(),
            cancelled: self.tasks.clone(),
        }
        .annotate(changes);
        self.annotate_executions(changes);
    }

    /// Adds the executions the cascade cancelled to an audit row's `changes`.
    pub(crate) fn annotate_executions(&self, changes: &mut Value) {
        if let (Some(object), false) = (changes.as_object_mut(), self.executions.is_empty()) {
            object.insert(
                "cancelled_workflow_executions_count".to_owned(),
                self.executions.len().into(),
            );
            object.insert(
                "cancelled_workflow_executions".to_owned(),
                json!(self.executions.iter().take(AUDITED_IDS).collect::<Vec<_>>()),
            );
        }
    }
}

impl SeaStore {
    /// Cancels every open descendant of `roots` (tasks this mutation cancelled) and the running
    /// executions started from one of `parents` (which include the roots) or from a descendant,
    /// with theirs; `origin` (such as `"cancellation of task …"`) ends each history reason.
    pub(crate) async fn cancel_descendants(
        &self,
        m: &Mutation<'_>,
        roots: &BTreeSet<Uuid>,
        parents: &BTreeSet<Uuid>,
        origin: &str,
    ) -> RepoResult<Cascade> {
        let mut cascade = Cascade::default();
        let mut seen: BTreeSet<Uuid> = roots.clone();
        let mut frontier = roots.clone();
        let mut parents: BTreeSet<Uuid> = parents.union(roots).copied().collect();
        loop {
            let mut reached = self.open_below(m, &frontier).await?;
            reached.retain(|task, _| !seen.contains(task));
            seen.extend(reached.keys().copied());
            let cancelled = self.cancel_reached(m, reached, origin).await?;
            parents.extend(cancelled.iter().copied());
            cascade.tasks.extend(cancelled);
            let children = self.cancel_child_executions(m, &parents, origin).await?;
            if children.executions.is_empty() {
                return Ok(cascade);
            }
            cascade.executions.extend(children.executions);
            seen.extend(children.cancelled_steps.iter().copied());
            cascade
                .tasks
                .extend(children.cancelled_steps.iter().copied());
            frontier = children.cancelled_steps.into_iter().collect();
            parents = children.steps;
        }
    }

    /// Every open task below `roots`, each with the task it was reached from: a root if it
    /// hangs from one, else a subtask's parent before a dependency, else the first.
    async fn open_below(
        &self,
        m: &Mutation<'_>,
        roots: &BTreeSet<Uuid>,
    ) -> RepoResult<BTreeMap<Uuid, Reached>> {
        let backend = m.txn().get_database_backend();
        let org = m.ctx().org().as_uuid();
        let listed: Vec<Uuid> = roots.iter().copied().collect();
        let mut reached: BTreeMap<Uuid, Reached> = BTreeMap::new();
        for chunk in listed.chunks(CHUNK) {
            let rows = m
                .txn()
                .query_all_raw(walk_statement(backend, org, chunk))
                .await
                .map_err(db_err)?;
            for row in rows {
                let task: Uuid = row.try_get("", "id").map_err(db_err)?;
                let cause: Uuid = row.try_get("", "cause").map_err(db_err)?;
                let link = match row.try_get::<i32>("", "link").map_err(db_err)? {
                    1 => Link::Subtask,
                    _ => Link::Dependent,
                };
                let status: String = row.try_get("", "status").map_err(db_err)?;
                let status: TaskStatus = status.parse().map_err(|e| corrupt("task", e))?;
                let rank = |cause: Uuid, link: Link| (!roots.contains(&cause), link, cause);
                let better = reached
                    .get(&task)
                    .is_none_or(|known| rank(cause, link) < rank(known.cause, known.link));
                if better {
                    reached.insert(
                        task,
                        Reached {
                            cause,
                            link,
                            status,
                        },
                    );
                }
            }
        }
        Ok(reached)
    }

    /// Locks the tasks of `reached` and cancels those still open, each with the task it was
    /// reached from as the reason; returns them.
    async fn cancel_reached(
        &self,
        m: &Mutation<'_>,
        reached: BTreeMap<Uuid, Reached>,
        origin: &str,
    ) -> RepoResult<Vec<Uuid>> {
        let seen_as: Vec<(Uuid, TaskStatus)> = reached
            .iter()
            .map(|(task, reached)| (*task, reached.status))
            .collect();
        let open = self.lock_open_tasks(m, &seen_as).await?;
        let reasons = open.into_iter().filter_map(|(task, status)| {
            let reached = reached.get(&task)?;
            let reason = match reached.link {
                Link::Subtask => format!("parent task {} was cancelled ({origin})", reached.cause),
                Link::Dependent => {
                    format!("dependency {} was cancelled ({origin})", reached.cause)
                }
            };
            Some((task, status, reason))
        });
        self.cancel_open_tasks(m, reasons).await
    }

    /// Locks the tasks of `seen` (each with the status it was read in) and returns those that
    /// are open once locked, with that status: those not seen blocked first, then the blocked
    /// ones, each in id order, as a change of one task takes the task before the blocked tasks
    /// waiting for it.
    pub(crate) async fn lock_open_tasks(
        &self,
        m: &Mutation<'_>,
        seen: &[(Uuid, TaskStatus)],
    ) -> RepoResult<Vec<(Uuid, TaskStatus)>> {
        let (blocked, unblocked): (BTreeSet<Uuid>, BTreeSet<Uuid>) = (
            seen.iter()
                .filter(|(_, status)| *status == TaskStatus::Blocked)
                .map(|(task, _)| *task)
                .collect(),
            seen.iter()
                .filter(|(_, status)| *status != TaskStatus::Blocked)
                .map(|(task, _)| *task)
                .collect(),
        );
        let mut open = Vec::new();
        for group in [unblocked, blocked] {
            let ids: Vec<Uuid> = group.into_iter().collect();
            for chunk in ids.chunks(CHUNK) {
                let mut query = scoped::<tasks::Entity>(m.ctx())
                    .select_only()
                    .columns([tasks::Column::Id, tasks::Column::Status])
                    .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                    .order_by_asc(tasks::Column::Id);
                if self.is_postgres() {
                    query = query.lock_exclusive();
                }
                let locked: Vec<(Uuid, String)> =
                    query.into_tuple().all(m.txn()).await.map_err(db_err)?;
                for (task, status) in locked {
                    let status: TaskStatus = status.parse().map_err(|e| corrupt("task", e))?;
                    // It may have ended while this call waited for it.
                    if !status.is_terminal() {
                        open.push((task, status));
                    }
                }
            }
        }
        Ok(open)
    }

    /// Cancels the tasks of `open` (locked, each in its status) each for its reason, a running
    /// one's lease ended; returns them.
    pub(crate) async fn cancel_open_tasks(
        &self,
        m: &Mutation<'_>,
        open: impl IntoIterator<Item = (Uuid, TaskStatus, String)>,
    ) -> RepoResult<Vec<Uuid>> {
        let mut by_status: BTreeMap<TaskStatus, Vec<(Uuid, String)>> = BTreeMap::new();
        let mut cancelled = Vec::new();
        for (task, status, reason) in open {
            by_status.entry(status).or_default().push((task, reason));
            cancelled.push(task);
        }
        for (from, reasons) in by_status {
            self.move_tasks(m, from, TaskStatus::Cancelled, reasons)
                .await?;
        }
        Ok(cancelled)
    }
}
