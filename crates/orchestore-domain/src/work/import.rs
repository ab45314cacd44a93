//! Importing a task list kept outside Orchestore (a Taskmaster `tasks.json`, …) into one
//! project: each task known by a stable key of its source, so that importing the same list
//! again updates the tasks in place instead of adding new ones.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{
    Description, DomainError, Metadata, Name, Priority, ProjectId, Tags, TaskId, TaskStatus, Title,
    find_cycle,
};

/// A task's name in the list it comes from (`taskmaster:master:3.1`): 1 to 200 characters
/// without control characters, unique within one import. The store keeps it, prefixed by the
/// project's id, as the task's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct ExternalKey(String);

deserialize_by_parse!(ExternalKey, String, |raw| ExternalKey::parse(&raw));

impl ExternalKey {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let chars = raw.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "external_key",
                format!("must be 1 to {} characters, got {chars}", Self::MAX_CHARS),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "external_key",
                "must not contain control characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the key starts with `prefix`.
    pub fn starts_with(&self, prefix: &str) -> bool {
        self.0.starts_with(prefix)
    }
}

impl fmt::Display for ExternalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

/// The status an imported task is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportedStatus {
    /// To be done: `queued` when every task it depends on has succeeded, `blocked` otherwise.
    Open,
    /// Held back (deferred, or a status Orchestore does not know): `blocked`, so that no
    /// agent claims it until someone queues it.
    Held,
    Succeeded,
    Cancelled,
}

/// One task of an import. `parent` and `depends_on` are positions (from 0) of other tasks of
/// the same import.
#[derive(Debug, Clone)]
pub struct ImportedTask {
    pub key: ExternalKey,
    pub title: Title,
    pub description: Description,
    pub status: ImportedStatus,
    pub priority: Priority,
    pub metadata: Metadata,
    pub tags: Tags,
    /// The task this one is a subtask of: an earlier task of the import.
    pub parent: Option<usize>,
    pub depends_on: BTreeSet<usize>,
}

/// A task list to write into the project named `project`, in one transaction.
#[derive(Debug, Clone)]
pub struct TaskImport {
    /// Where the tasks come from, in words (`taskmaster`): the reason of their history events
    /// is `imported from <source>`.
    pub source: String,
    /// The project, found by name (names compare ignoring case) or created.
    pub project: Name,
    /// Merged into the project's settings: objects key by key, recursively; any other value
    /// replaces the project's.
    pub settings: Metadata,
    pub tasks: Vec<ImportedTask>,
    /// Key prefixes this import covers (`taskmaster:master:`): a task the project got from an
    /// earlier import under one of them that this import does not list is reported missing
    /// (and left as it is).
    pub scopes: Vec<String>,
    /// Work out and report what the import would do, and write nothing.
    pub dry_run: bool,
}

impl TaskImport {
    /// The most tasks one import holds.
    pub const MAX_TASKS: usize = 10_000;

    /// Checks the import as a whole: 1 to [`TaskImport::MAX_TASKS`] tasks, distinct keys, a
    /// parent that is an earlier task, dependencies on other tasks of the import, and no
    /// dependency cycle (named by the keys of its tasks).
    pub fn check(&self) -> Result<(), DomainError> {
        let count = self.tasks.len();
        if count == 0 || count > Self::MAX_TASKS {
            return Err(DomainError::invalid(
                "tasks",
                format!("must hold 1 to {} tasks, got {count}", Self::MAX_TASKS),
            ));
        }
        let mut keys = HashSet::with_capacity(count);
        for (index, task) in self.tasks.iter().enumerate() {
            if !keys.insert(task.key.as_str()) {
                return Err(DomainError::invalid(
                    "external_key",
                    format!("{} is listed twice", task.key),
                ));
            }
            if let Some(parent) = task.parent
                && parent >= index
            {
                return Err(DomainError::invalid(
                    "parent",
                    format!("{}: a parent is listed before its subtasks", task.key),
                ));
            }
            if let Some(&beyond) = task.depends_on.range(count..).next() {
                return Err(DomainError::invalid(
                    "depends_on",
                    format!("{}: there is no task {beyond} in the import", task.key),
                ));
            }
        }
        let edges = self
            .tasks
            .iter()
            .flat_map(|t| t.depends_on.iter().map(move |&d| (t.key.clone(), d)))
            .map(|(from, to)| (from, self.tasks[to].key.clone()));
        match find_cycle(self.tasks.iter().map(|t| t.key.clone()), edges) {
            Some(cycle) => Err(DomainError::cycle("depends_on", &cycle)),
            None => Ok(()),
        }
    }
}

/// What an import did (or, on a dry run, would do) with one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ImportAction {
    Created,
    Updated,
    /// Already as the list says.
    Unchanged,
    /// Left as it is, for `reason`: it is running, or it has finished in Orchestore.
    Skipped {
        reason: String,
    },
}

/// One task of the import and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportOutcome {
    pub key: ExternalKey,
    /// The task (on a dry run, a new task's id is the one it would have been given).
    pub task_id: TaskId,
    /// Its status after the import.
    pub status: TaskStatus,
    #[serde(flatten)]
    pub action: ImportAction,
}

/// A task an earlier import under one of the scopes created that this one does not list: it is
/// reported, not deleted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MissingTask {
    pub key: ExternalKey,
    pub task_id: TaskId,
    pub status: TaskStatus,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub project_id: ProjectId,
    /// Whether the project was created by this import.
    pub project_created: bool,
    /// Whether the project's settings changed.
    pub settings_updated: bool,
    /// Each task of the import, in its order.
    pub tasks: Vec<ImportOutcome>,
    pub missing: Vec<MissingTask>,
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(key: &str, depends_on: &[usize]) -> ImportedTask {
        ImportedTask {
            key: ExternalKey::parse(key).expect("key"),
            title: Title::parse(key).expect("title"),
            description: Description::empty(),
            status: ImportedStatus::Open,
            priority: Priority::default(),
            metadata: Metadata::default(),
            tags: Tags::default(),
            parent: None,
            depends_on: depends_on.iter().copied().collect(),
        }
    }

    fn import(tasks: Vec<ImportedTask>) -> TaskImport {
        TaskImport {
            source: "test".into(),
            project: Name::parse("name", "p").expect("name"),
            settings: Metadata::default(),
            tasks,
            scopes: Vec::new(),
            dry_run: false,
        }
    }

    #[test]
    fn a_sound_import_passes() {
        let mut child = task("b", &[0]);
        child.parent = Some(0);
        assert_eq!(import(vec![task("a", &[]), child]).check(), Ok(()));
    }

    #[test]
    fn faults_are_named() {
        assert_eq!(import(vec![]).check().unwrap_err().field(), Some("tasks"));
        let twice = import(vec![task("a", &[]), task("a", &[])]).check();
        assert_eq!(twice.unwrap_err().field(), Some("external_key"));
        let mut late = task("a", &[]);
        late.parent = Some(1);
        let parent = import(vec![late, task("b", &[])]).check();
        assert_eq!(parent.unwrap_err().field(), Some("parent"));
        let nowhere = import(vec![task("a", &[5])]).check();
        assert_eq!(nowhere.unwrap_err().field(), Some("depends_on"));
    }

    #[test]
    fn a_cycle_names_its_keys() {
        let err = import(vec![task("a", &[1]), task("b", &[0])])
            .check()
            .unwrap_err();
        assert_eq!(
            err,
            DomainError::Cycle {
                field: "depends_on",
                path: vec!["a".into(), "b".into(), "a".into()]
            }
        );
    }

    #[test]
    fn keys_are_bounded() {
        assert!(ExternalKey::parse("").is_err());
        assert!(ExternalKey::parse(&"k".repeat(201)).is_err());
        assert!(ExternalKey::parse("a\nb").is_err());
        assert!(ExternalKey::parse("taskmaster:master:1.2").is_ok());
    }
}
