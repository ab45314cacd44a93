use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RateLimitUses;
use super::concurrency::TaskConcurrency;
use super::fairness_keys::TaskFairness;
use super::values::{Effort, IdempotencyKey, MaxAttempts, Progress};
use crate::{
    AgentId, Capabilities, Description, DomainError, Metadata, OrganizationId, Payload, Priority,
    ProjectId, Revision, Tags, TaskId, Title,
};

/// Where a task is in its life. See DESIGN §3 "Tasks and the queue".
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting on dependencies.
    Blocked,
    /// Claimable.
    Queued,
    /// Leased by one agent.
    Running,
    Succeeded,
    /// Attempts exhausted: the dead letter.
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        Self::Blocked,
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Every allowed status change, and nothing else: `X → X` is not a transition, and
    /// `succeeded` and `cancelled` have no way out.
    ///
    /// | from      | to        | how |
    /// |-----------|-----------|-----|
    /// | blocked   | queued    | its last open dependency succeeded |
    /// | blocked   | cancelled | cancelled, or a dependency failed or was cancelled |
    /// | queued    | running   | an agent claimed it (never a PATCH) |
    /// | queued    | blocked   | a dependency was added (never a PATCH) |
    /// | queued    | cancelled | cancelled |
    /// | running   | queued    | the lease expired, or a failed attempt has attempts left |
    /// | running   | succeeded | the agent completed it |
    /// | running   | failed    | the attempts are exhausted (the dead letter) |
    /// | running   | cancelled | cancelled |
    /// | failed    | queued    | a manual retry |
    /// | failed    | cancelled | cancelled: it will not be retried |
    pub const TRANSITIONS: &'static [(TaskStatus, TaskStatus)] = &[
        (Self::Blocked, Self::Queued),
        (Self::Blocked, Self::Cancelled),
        (Self::Queued, Self::Running),
        (Self::Queued, Self::Blocked),
        (Self::Queued, Self::Cancelled),
        (Self::Running, Self::Queued),
        (Self::Running, Self::Succeeded),
        (Self::Running, Self::Failed),
        (Self::Running, Self::Cancelled),
        (Self::Failed, Self::Queued),
        (Self::Failed, Self::Cancelled),
    ];

    /// Whether [`TaskStatus::TRANSITIONS`] allows going from `self` to `to`. Never true for
    /// `to == self`.
    pub fn can_become(self, to: TaskStatus) -> bool {
        Self::TRANSITIONS.contains(&(self, to))
    }

    /// Whether the task is over for good: succeeded or cancelled. A failed task is not: it may
    /// be fixed and queued again.
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Cancelled)
    }

    /// Whether a task in this status has ended its run, for good or not: `finished_at` is set
    /// on becoming one of these.
    pub const fn ends_a_run(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// Checks a transition against [`TaskStatus::TRANSITIONS`]. Staying in the same status is
    /// not a transition and is refused too: a caller with nothing to change should not ask.
    pub fn check_transition(self, to: TaskStatus) -> Result<(), DomainError> {
        if self.can_become(to) {
            Ok(())
        } else {
            Err(DomainError::InvalidTransition {
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid(
                    "status",
                    format!(
                        "{s:?} is not one of blocked, queued, running, succeeded, failed, cancelled"
                    ),
                )
            })
    }
}

/// A unit of work in a project, possibly a subtask of another (`parent_id`, same project) and
/// possibly depending on others (stored apart, as edges: see the repository's task graph).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub organization_id: OrganizationId,
    pub project_id: ProjectId,
    /// The task this one is a subtask of, in the same project.
    pub parent_id: Option<TaskId>,
    pub title: Title,
    pub description: Description,
    pub status: TaskStatus,
    pub priority: Priority,
    pub payload: Payload,
    pub required_capabilities: Capabilities,
    pub metadata: Metadata,
    /// The agent (of the same organization) the task is meant for, or that runs it.
    pub assigned_agent_id: Option<AgentId>,
    pub estimated_minutes: Option<Effort>,
    pub progress: Progress,
    pub tags: Tags,
    /// How many times the task has started running; kept by the store.
    pub attempts: u32,
    pub max_attempts: MaxAttempts,
    /// Not to be claimed before this time.
    pub run_after: Option<DateTime<Utc>>,
    /// The rate limits each claim of the task consumes.
    pub rate_limits: RateLimitUses,
    /// The client's name for the creation, unique in the organization; set only at creation.
    pub idempotency_key: Option<IdempotencyKey>,
    /// The key that limits how many tasks like this one run at once, as it was enqueued.
    pub concurrency: Option<TaskConcurrency>,
    /// The key under which claims serve this task in turn with the organization's other keys,
    /// with the weight it was enqueued with.
    pub fairness: Option<TaskFairness>,
    /// What the last run produced, and why it failed; written by whoever completes the run.
    pub result: Option<Payload>,
    pub error: Option<Payload>,
    /// Set when this answer leaves the payload out: it is larger than the store's inline limit,
    /// so it is stored apart from the task's row, and lists (and the answers of changes other
    /// than enqueue, claim and complete) do not carry it; `payload` is then `null`. Its size in
    /// bytes of JSON; getting the task by its id answers it whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_bytes: Option<u64>,
    /// The same for the result: `result` is then `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_bytes: Option<u64>,
    /// While running: when its lease ends unless its worker heartbeats. The lease's token
    /// goes only to the worker that claimed it.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// When the task last became running.
    pub started_at: Option<DateTime<Utc>>,
    /// When its last run ended (succeeded, failed or cancelled); cleared when it is queued
    /// again.
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub project_id: ProjectId,
    pub title: Title,
    pub description: Description,
    pub priority: Priority,
    pub payload: Payload,
    pub required_capabilities: Capabilities,
    pub metadata: Metadata,
    pub parent_id: Option<TaskId>,
    pub assigned_agent_id: Option<AgentId>,
    pub estimated_minutes: Option<Effort>,
    pub progress: Progress,
    pub tags: Tags,
    pub max_attempts: MaxAttempts,
    pub run_after: Option<DateTime<Utc>>,
    pub idempotency_key: Option<IdempotencyKey>,
    /// The rate limits each claim of the task consumes: it is claimed only when each of them
    /// holds the units it names (none by default).
    pub rate_limits: RateLimitUses,
    /// Tasks of the same organization this one waits for: it starts `blocked` when any of them
    /// has not succeeded yet, `queued` otherwise.
    pub depends_on: BTreeSet<TaskId>,
    /// The key that limits how many tasks like this one run at once; none unless told.
    pub concurrency: Option<TaskConcurrency>,
    /// The key under which claims serve this task in turn with the organization's other keys
    /// (see `docs/fairness.md`); none unless told.
    pub fairness: Option<TaskFairness>,
}

impl NewTask {
    /// The most dependencies a task may be created with.
    pub const MAX_DEPENDS_ON: usize = 1000;

    /// The set of tasks a new task depends on: duplicates collapse, at most
    /// [`NewTask::MAX_DEPENDS_ON`] of them.
    pub fn parse_depends_on(
        ids: impl IntoIterator<Item = TaskId>,
    ) -> Result<BTreeSet<TaskId>, DomainError> {
        let set: BTreeSet<TaskId> = ids.into_iter().collect();
        if set.len() > Self::MAX_DEPENDS_ON {
            return Err(DomainError::invalid(
                "depends_on",
                format!("at most {} tasks", Self::MAX_DEPENDS_ON),
            ));
        }
        Ok(set)
    }

    /// A task with only a title; the rest takes its defaults.
    pub fn titled(project_id: ProjectId, title: Title) -> Self {
        Self {
            project_id,
            title,
            description: Description::empty(),
            priority: Priority::default(),
            payload: Payload::default(),
            required_capabilities: Capabilities::default(),
            metadata: Metadata::default(),
            parent_id: None,
            assigned_agent_id: None,
            estimated_minutes: None,
            progress: Progress::default(),
            tags: Tags::default(),
            max_attempts: MaxAttempts::default(),
            run_after: None,
            idempotency_key: None,
            rate_limits: RateLimitUses::default(),
            depends_on: BTreeSet::new(),
            concurrency: None,
            fairness: None,
        }
    }
}

/// The fields a PATCH may change; `None` leaves a field as it is, and for the nullable ones
/// `Some(None)` clears it. Attempts, run timing, result and error are the store's.
///
/// Before writing it, the store calls [`TaskPatch::normalised`] with the task's current status:
/// it drops a status equal to the current one (no change, so no audit row), refuses any change
/// to a succeeded or cancelled task, refuses `blocked` (only open dependencies block a task) and
/// `running` (only a claim sets it), refuses ending a run other than by cancelling it (the
/// worker ends it with its lease token), and checks the rest against
/// [`TaskStatus::TRANSITIONS`].
#[derive(Debug, Clone, Default)]
pub struct TaskPatch {
    pub title: Option<Title>,
    pub description: Option<Description>,
    pub status: Option<TaskStatus>,
    pub priority: Option<Priority>,
    pub payload: Option<Payload>,
    pub required_capabilities: Option<Capabilities>,
    pub metadata: Option<Metadata>,
    pub parent_id: Option<Option<TaskId>>,
    pub assigned_agent_id: Option<Option<AgentId>>,
    pub estimated_minutes: Option<Option<Effort>>,
    pub progress: Option<Progress>,
    pub tags: Option<Tags>,
    pub max_attempts: Option<MaxAttempts>,
    pub run_after: Option<Option<DateTime<Utc>>>,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        self.status.is_none() && !self.changes_a_field()
    }

    /// Whether the patch sets anything besides the status.
    fn changes_a_field(&self) -> bool {
        self.title.is_some()
            || self.description.is_some()
            || self.priority.is_some()
            || self.payload.is_some()
            || self.required_capabilities.is_some()
            || self.metadata.is_some()
            || self.parent_id.is_some()
            || self.assigned_agent_id.is_some()
            || self.estimated_minutes.is_some()
            || self.progress.is_some()
            || self.tags.is_some()
            || self.max_attempts.is_some()
            || self.run_after.is_some()
    }

    /// The patch as it applies to a task in `current`: a status equal to `current` is dropped,
    /// so that a patch that changes nothing [`is_empty`](Self::is_empty). Refused, with a
    /// [`DomainError`] on `status`, when [`check_against`](Self::check_against) refuses it.
    pub fn normalised(mut self, current: TaskStatus) -> Result<Self, DomainError> {
        self.check_against(current)?;
        if self.status == Some(current) {
            self.status = None;
        }
        Ok(self)
    }

    /// Checks the patch against a task in `current`, treating a status equal to `current` as
    /// no status change. Refuses any change to a succeeded or cancelled task, a status of
    /// `blocked` or `running`, and a transition [`TaskStatus::TRANSITIONS`] does not list.
    /// Prefer [`normalised`](Self::normalised), which also drops the same-status change.
    pub fn check_against(&self, current: TaskStatus) -> Result<(), DomainError> {
        let status = self.status.filter(|&to| to != current);
        if status.is_none() && !self.changes_a_field() {
            return Ok(());
        }
        if current.is_terminal() {
            return Err(DomainError::invalid(
                "status",
                format!("the task is {current}: a {current} task can no longer change"),
            ));
        }
        if current == TaskStatus::Running && status.is_some_and(|to| to != TaskStatus::Cancelled) {
            return Err(DomainError::invalid(
                "status",
                "a running task ends through its lease: its worker completes, fails or releases \
                 it with the lease token; anyone may cancel it",
            ));
        }
        match status {
            Some(TaskStatus::Blocked) => Err(DomainError::invalid(
                "status",
                "a task becomes blocked only through its open dependencies",
            )),
            Some(TaskStatus::Running) => Err(DomainError::invalid(
                "status",
                "a task becomes running only when an agent claims it",
            )),
            Some(to) => current.check_transition(to),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskStatus::*;

    fn to(status: TaskStatus) -> TaskPatch {
        TaskPatch {
            status: Some(status),
            ..TaskPatch::default()
        }
    }

    fn retitled(title: &str) -> TaskPatch {
        TaskPatch {
            title: Some(Title::parse(title).expect("title")),
            ..TaskPatch::default()
        }
    }

    #[test]
    fn the_table_is_the_state_machine() {
        let allowed = [
            (Blocked, Queued),
            (Blocked, Cancelled),
            (Queued, Running),
            (Queued, Blocked),
            (Queued, Cancelled),
            (Running, Queued),
            (Running, Succeeded),
            (Running, Failed),
            (Running, Cancelled),
            (Failed, Queued),
            (Failed, Cancelled),
        ];
        for from in TaskStatus::ALL {
            for to in TaskStatus::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from} -> {to}");
                assert_eq!(
                    from.check_transition(to).is_ok(),
                    expected,
                    "{from} -> {to}"
                );
            }
        }
        assert_eq!(TaskStatus::TRANSITIONS.len(), allowed.len());
    }

    #[test]
    fn same_status_is_not_a_transition() {
        for status in TaskStatus::ALL {
            assert!(!status.can_become(status), "{status}");
            assert_eq!(
                status.check_transition(status),
                Err(DomainError::InvalidTransition {
                    from: status.as_str(),
                    to: status.as_str()
                })
            );
        }
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        let terminal: Vec<_> = TaskStatus::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, vec![Succeeded, Cancelled]);
        for from in terminal {
            assert!(TaskStatus::ALL.into_iter().all(|to| !from.can_become(to)));
        }
        assert!(!Failed.is_terminal());
    }

    #[test]
    fn a_patch_never_sets_blocked_or_running() {
        let blocked = to(Blocked).normalised(Queued).unwrap_err();
        assert_eq!(blocked.field(), Some("status"));
        assert!(blocked.to_string().contains("dependencies"), "{blocked}");
        let running = to(Running).normalised(Queued).unwrap_err();
        assert_eq!(running.field(), Some("status"));
        assert!(running.to_string().contains("claims"), "{running}");
        for from in TaskStatus::ALL {
            for target in [Blocked, Running] {
                if from != target {
                    assert!(to(target).normalised(from).is_err(), "{from} -> {target}");
                }
            }
        }
    }

    #[test]
    fn a_same_status_patch_is_no_change() {
        for status in [Blocked, Queued, Running, Failed, Succeeded, Cancelled] {
            let patch = to(status).normalised(status).expect("no change");
            assert!(patch.is_empty(), "{status}");
            assert!(to(status).check_against(status).is_ok(), "{status}");
        }
        let patch = TaskPatch {
            status: Some(Queued),
            ..retitled("renamed")
        }
        .normalised(Queued)
        .expect("title only");
        assert_eq!(patch.status, None);
        assert!(patch.title.is_some());
    }

    #[test]
    fn a_finished_task_cannot_be_edited() {
        let err = retitled("too late").normalised(Cancelled).unwrap_err();
        assert_eq!(
            err,
            DomainError::invalid(
                "status",
                "the task is cancelled: a cancelled task can no longer change"
            )
        );
        let err = to(Queued).normalised(Succeeded).unwrap_err();
        assert_eq!(err.field(), Some("status"));
        assert!(
            err.to_string()
                .contains("succeeded task can no longer change")
        );
        assert!(TaskPatch::default().normalised(Succeeded).is_ok());
    }

    #[test]
    fn the_graph_fields_are_patch_fields_too() {
        let unassign = TaskPatch {
            assigned_agent_id: Some(None),
            ..TaskPatch::default()
        };
        assert!(!unassign.is_empty());
        assert!(unassign.clone().normalised(Queued).is_ok());
        let err = unassign.normalised(Succeeded).unwrap_err();
        assert_eq!(err.field(), Some("status"));
        let progress = TaskPatch {
            progress: Some(Progress::parse(50).expect("progress")),
            status: Some(Cancelled),
            ..TaskPatch::default()
        };
        let kept = progress.normalised(Cancelled);
        assert!(kept.is_err(), "a cancelled task keeps its progress");
        for run_end in [Succeeded, Failed, Cancelled] {
            assert!(run_end.ends_a_run());
        }
        assert!(!Running.ends_a_run() && !Queued.ends_a_run() && !Blocked.ends_a_run());
    }

    #[test]
    fn a_titled_task_takes_the_defaults() {
        let task = NewTask::titled(ProjectId::new(), Title::parse("t").expect("title"));
        assert_eq!(task.max_attempts.get(), 3);
        assert_eq!(task.progress.get(), 0);
        assert!(task.depends_on.is_empty() && task.parent_id.is_none());
        assert!(task.idempotency_key.is_none() && task.tags.to_strings().is_empty());
        let one = TaskId::new();
        assert_eq!(
            NewTask::parse_depends_on([one, one]).map(|s| s.len()),
            Ok(1)
        );
        let too_many =
            NewTask::parse_depends_on((0..=NewTask::MAX_DEPENDS_ON).map(|_| TaskId::new()));
        assert_eq!(too_many.unwrap_err().field(), Some("depends_on"));
    }

    #[test]
    fn a_failed_task_may_be_fixed_and_retried() {
        assert!(retitled("fixed").normalised(Failed).is_ok());
        let retry = TaskPatch {
            status: Some(Queued),
            ..retitled("fixed")
        }
        .normalised(Failed)
        .expect("retry");
        assert_eq!(retry.status, Some(Queued));
        assert_eq!(
            to(Succeeded).normalised(Failed).unwrap_err(),
            DomainError::InvalidTransition {
                from: "failed",
                to: "succeeded"
            }
        );
    }

    #[test]
    fn a_patch_follows_the_table() {
        for (from, target) in TaskStatus::TRANSITIONS.iter().copied() {
            let result = to(target).normalised(from);
            if matches!(target, Blocked | Running) || (from == Running && target != Cancelled) {
                assert!(result.is_err(), "{from} -> {target}");
            } else {
                assert_eq!(
                    result.map(|p| p.status),
                    Ok(Some(target)),
                    "{from} -> {target}"
                );
            }
        }
        assert!(to(Succeeded).normalised(Blocked).is_err());
        for end in [Queued, Succeeded, Failed] {
            let err = to(end).check_against(Running).unwrap_err();
            assert!(err.to_string().contains("lease token"), "{err}");
        }
        assert!(to(Cancelled).check_against(Running).is_ok());
    }

    #[test]
    fn status_parses() {
        assert_eq!("queued".parse::<TaskStatus>(), Ok(Queued));
        assert!("done".parse::<TaskStatus>().is_err());
    }
}
