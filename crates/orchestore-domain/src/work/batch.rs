//! Enqueueing tasks by the batch: the tasks of one call, the earlier tasks of the same batch
//! each may wait for, and what a call answers for each task.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::task::{NewTask, Task};
use crate::DomainError;

/// One task of a batch: a [`NewTask`], and the earlier tasks of the same batch it waits for
/// beside the existing tasks of its `depends_on`.
#[derive(Debug, Clone)]
pub struct BatchTask {
    pub task: NewTask,
    /// Positions (counted from 0) of tasks listed before this one in the same batch; the task
    /// starts `blocked` while one of them has not succeeded.
    pub depends_on_batch: BTreeSet<usize>,
}

impl From<NewTask> for BatchTask {
    fn from(task: NewTask) -> Self {
        Self {
            task,
            depends_on_batch: BTreeSet::new(),
        }
    }
}

impl BatchTask {
    /// The most tasks one batch holds.
    pub const MAX_TASKS: usize = 10_000;
    /// The most dependencies (edges, `depends_on` and `depends_on_batch` together) of all the
    /// tasks of one batch.
    pub const MAX_DEPENDENCIES: usize = 100_000;

    /// Checks the size of a batch of `count` tasks: 1 to [`BatchTask::MAX_TASKS`], an error on
    /// `tasks` otherwise.
    pub fn check_count(count: usize) -> Result<(), DomainError> {
        if count == 0 || count > Self::MAX_TASKS {
            return Err(DomainError::invalid(
                "tasks",
                format!("must hold 1 to {} tasks, got {count}", Self::MAX_TASKS),
            ));
        }
        Ok(())
    }

    /// Every fault of `tasks` as one batch, in order: not 1 to [`BatchTask::MAX_TASKS`] tasks
    /// (on no task), more than [`BatchTask::MAX_DEPENDENCIES`] dependencies in all (on no
    /// task), and on the task at fault: a `depends_on_batch` position that is not an earlier
    /// task of the batch, more than [`NewTask::MAX_DEPENDS_ON`] dependencies, an
    /// `idempotency_key` an earlier task of the batch has too. Empty when the batch is fine.
    ///
    /// Listing each dependency before its dependents keeps the batch free of cycles: a new task
    /// waits only for tasks that exist or come before it.
    pub fn check_batch(tasks: &[BatchTask]) -> Vec<BatchFault> {
        let mut faults = Vec::new();
        if let Err(error) = Self::check_count(tasks.len()) {
            faults.push(BatchFault::batch(error));
            return faults;
        }
        let edges: usize = tasks
            .iter()
            .map(|t| t.task.depends_on.len() + t.depends_on_batch.len())
            .sum();
        if edges > Self::MAX_DEPENDENCIES {
            faults.push(BatchFault::batch(DomainError::invalid(
                "tasks",
                format!(
                    "at most {} dependencies in one batch, got {edges}",
                    Self::MAX_DEPENDENCIES
                ),
            )));
        }
        let mut keys: HashMap<&str, usize> = HashMap::new();
        for (index, item) in tasks.iter().enumerate() {
            if let Some(&later) = item.depends_on_batch.range(index..).next() {
                faults.push(BatchFault::at(
                    index,
                    DomainError::invalid(
                        "depends_on_batch",
                        format!(
                            "{later} is not the position of an earlier task of the batch: a task \
                             waits only for tasks listed before it"
                        ),
                    ),
                ));
            }
            let dependencies = item.task.depends_on.len() + item.depends_on_batch.len();
            if dependencies > NewTask::MAX_DEPENDS_ON {
                faults.push(BatchFault::at(
                    index,
                    DomainError::invalid(
                        "depends_on",
                        format!(
                            "at most {} tasks with depends_on_batch, got {dependencies}",
                            NewTask::MAX_DEPENDS_ON
                        ),
                    ),
                ));
            }
            if let Some(key) = &item.task.idempotency_key {
                if let Some(first) = keys.get(key.as_str()) {
                    faults.push(BatchFault::at(
                        index,
                        DomainError::invalid(
                            "idempotency_key",
                            format!("task {first} of the batch has this key too"),
                        ),
                    ));
                } else {
                    keys.insert(key.as_str(), index);
                }
            }
        }
        faults
    }
}

/// What is wrong with a batch: with the position of the task at fault, or with the batch as a
/// whole (`index` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFault {
    pub index: Option<usize>,
    pub error: DomainError,
}

impl BatchFault {
    pub fn at(index: usize, error: DomainError) -> Self {
        Self {
            index: Some(index),
            error,
        }
    }

    pub fn batch(error: DomainError) -> Self {
        Self { index: None, error }
    }
}

impl fmt::Display for BatchFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(index) => write!(f, "task {index} of the batch: {}", self.error),
            None => self.error.fmt(f),
        }
    }
}

/// A task as an enqueue answers it: created by this call, or found by its idempotency key
/// (`created` is `false`: the first task with that key, as it is now, with nothing written).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Enqueued {
    #[serde(flatten)]
    pub task: Task,
    pub created: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IdempotencyKey, ProjectId, TaskId, Title};

    fn item(key: Option<&str>, after: &[usize]) -> BatchTask {
        let mut task = NewTask::titled(ProjectId::new(), Title::parse("t").expect("title"));
        task.idempotency_key = key.map(|k| IdempotencyKey::parse(k).expect("key"));
        BatchTask {
            task,
            depends_on_batch: after.iter().copied().collect(),
        }
    }

    fn fields(faults: &[BatchFault]) -> Vec<(Option<usize>, Option<&'static str>)> {
        faults.iter().map(|f| (f.index, f.error.field())).collect()
    }

    #[test]
    fn a_good_batch_has_no_fault() {
        let batch = [
            item(Some("a"), &[]),
            item(None, &[0]),
            item(Some("b"), &[0, 1]),
        ];
        assert!(BatchTask::check_batch(&batch).is_empty());
    }

    #[test]
    fn a_batch_holds_one_to_the_most_tasks() {
        assert_eq!(
            fields(&BatchTask::check_batch(&[])),
            vec![(None, Some("tasks"))]
        );
        let many = vec![item(None, &[]); BatchTask::MAX_TASKS + 1];
        let faults = BatchTask::check_batch(&many);
        assert_eq!(fields(&faults), vec![(None, Some("tasks"))]);
        assert!(
            faults[0].error.to_string().contains("10000"),
            "{}",
            faults[0]
        );
    }

    #[test]
    fn each_fault_names_its_task() {
        let batch = [
            item(Some("a"), &[]),
            item(Some("a"), &[1]),
            item(None, &[0, 5]),
            item(Some("b"), &[0]),
        ];
        assert_eq!(
            fields(&BatchTask::check_batch(&batch)),
            vec![
                (Some(1), Some("depends_on_batch")),
                (Some(1), Some("idempotency_key")),
                (Some(2), Some("depends_on_batch")),
            ]
        );
        let fault = &BatchTask::check_batch(&batch)[1];
        assert_eq!(
            fault.to_string(),
            "task 1 of the batch: idempotency_key: task 0 of the batch has this key too"
        );
    }

    #[test]
    fn dependencies_are_bounded_per_task_and_per_batch() {
        let mut wide = item(None, &[0]);
        wide.task.depends_on = (0..NewTask::MAX_DEPENDS_ON)
            .map(|_| TaskId::new())
            .collect();
        let faults = BatchTask::check_batch(&[item(None, &[]), wide]);
        assert_eq!(fields(&faults), vec![(Some(1), Some("depends_on"))]);

        let mut batch = vec![item(None, &[])];
        let per_task: BTreeSet<TaskId> = (0..NewTask::MAX_DEPENDS_ON)
            .map(|_| TaskId::new())
            .collect();
        for _ in 0..=(BatchTask::MAX_DEPENDENCIES / NewTask::MAX_DEPENDS_ON) {
            let mut next = item(None, &[]);
            next.task.depends_on = per_task.clone();
            batch.push(next);
        }
        assert_eq!(
            fields(&BatchTask::check_batch(&batch)),
            vec![(None, Some("tasks"))]
        );
    }
}
