//! The tracker of live leases: what each worker did with each task, which run holds it now,
//! and every violation of the queue's promises the workers met.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use orchestore_domain::{AgentId, ClaimedTask, LeaseToken, Task, TaskId, TaskStatus};

use crate::{MAX_ATTEMPTS, title_number};

/// What a worker did with a task, in the order it did it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Claimed { worker: usize },
    Completed,
    Failed,
    Released,
}

/// The run a worker holds: set by its claim, marked `ending` just before the worker ends it.
#[derive(Debug)]
struct Holder {
    worker: usize,
    token: LeaseToken,
    expires: DateTime<Utc>,
    ending: bool,
}

#[derive(Debug)]
pub(crate) struct TaskLog {
    pub(crate) n: usize,
    pub(crate) steps: Vec<Step>,
    /// Attempts the store should have counted: claims less releases.
    pub(crate) attempts: u32,
    pub(crate) releases: u32,
    holder: Option<Holder>,
    /// The terminal status the end of a run returned.
    pub(crate) ended: Option<TaskStatus>,
}

/// What the workers saw, and every violation of the queue's promises they met.
pub(crate) struct Tracker {
    /// How many tasks the test drains.
    pub(crate) total: usize,
    pub(crate) tasks: Mutex<HashMap<TaskId, TaskLog>>,
    pub(crate) violations: Mutex<Vec<String>>,
    pub(crate) ended: AtomicUsize,
    /// Calls that failed with `Unavailable` and were retried.
    pub(crate) unavailable: AtomicUsize,
}

impl Tracker {
    fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }

    pub(crate) fn new(total: usize) -> Self {
        Self {
            total,
            tasks: Mutex::default(),
            violations: Mutex::default(),
            ended: AtomicUsize::new(0),
            unavailable: AtomicUsize::new(0),
        }
    }

    pub(crate) fn all_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst) >= self.total
    }

    pub(crate) fn claimed(&self, worker: usize, agent: AgentId, claimed: &ClaimedTask) {
        let task = &claimed.task;
        let n = title_number(task);
        let mut problems = Vec::new();
        {
            let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            let log = tasks.entry(task.id).or_insert_with(|| TaskLog {
                n,
                steps: Vec::new(),
                attempts: 0,
                releases: 0,
                holder: None,
                ended: None,
            });
            if let Some(holder) = &log.holder
                && !holder.ending
                && task.started_at.is_none_or(|at| at < holder.expires)
            {
                problems.push(format!(
                    "task {n} claimed by worker {worker} at {:?} while worker {} held it under \
                     a live lease until {}, not yet ending its run",
                    task.started_at, holder.worker, holder.expires
                ));
            }
            if let Some(status) = log.ended {
                problems.push(format!(
                    "task {n} claimed by worker {worker} after it ended {status}"
                ));
            }
            let attempt = log.attempts + 1;
            if task.attempts != attempt {
                problems.push(format!(
                    "task {n} claimed by worker {worker} as attempt {}, expected {attempt}",
                    task.attempts
                ));
            }
            if task.status != TaskStatus::Running || task.assigned_agent_id != Some(agent) {
                problems.push(format!(
                    "task {n} claimed by worker {worker} is {} on {:?}",
                    task.status, task.assigned_agent_id
                ));
            }
            log.attempts = attempt;
            log.steps.push(Step::Claimed { worker });
            log.holder = Some(Holder {
                worker,
                token: claimed.lease_token,
                expires: task.lease_expires_at.unwrap_or(DateTime::<Utc>::MIN_UTC),
                ending: false,
            });
        }
        for problem in problems {
            self.violation(problem);
        }
    }

    pub(crate) fn releases(&self, id: TaskId) -> u32 {
        let tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        tasks.get(&id).map_or(0, |log| log.releases)
    }

    pub(crate) fn heartbeat(&self, worker: usize, id: TaskId, token: LeaseToken, beat: &Task) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        match &mut log.holder {
            Some(holder) if holder.token == token => {
                let expires = beat.lease_expires_at.unwrap_or(DateTime::<Utc>::MIN_UTC);
                if expires < holder.expires {
                    let n = log.n;
                    drop(tasks);
                    self.violation(format!(
                        "task {n}: worker {worker}'s heartbeat shortened the lease"
                    ));
                    return;
                }
                holder.expires = expires;
            }
            _ => {
                let n = log.n;
                drop(tasks);
                self.violation(format!(
                    "task {n}: worker {worker} heartbeat a run the test no longer saw it hold"
                ));
            }
        }
    }

    /// Notes, before the call, that `worker` ends its run of `id` by `step`; returns what the
    /// call should leave: the task's status and attempts.
    pub(crate) fn ending(
        &self,
        worker: usize,
        id: TaskId,
        token: LeaseToken,
        step: Step,
    ) -> (TaskStatus, u32) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        let n = log.n;
        let held = match &mut log.holder {
            Some(holder) if holder.token == token => {
                holder.ending = true;
                true
            }
            _ => false,
        };
        log.steps.push(step);
        let status = match step {
            Step::Completed => TaskStatus::Succeeded,
            Step::Failed if log.attempts >= MAX_ATTEMPTS => TaskStatus::Failed,
            Step::Failed => TaskStatus::Queued,
            Step::Released => {
                log.attempts -= 1;
                log.releases += 1;
                TaskStatus::Queued
            }
            Step::Claimed { .. } => unreachable!("a claim does not end a run"),
        };
        let attempts = log.attempts;
        drop(tasks);
        if !held {
            self.violation(format!(
                "task {n}: worker {worker} ends a run someone else now holds"
            ));
        }
        (status, attempts)
    }

    /// Notes what the end of the run by `token` returned, against what it should leave.
    pub(crate) fn ended(
        &self,
        worker: usize,
        id: TaskId,
        token: LeaseToken,
        (status, attempts): (TaskStatus, u32),
        after: &Task,
    ) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        let n = log.n;
        if log.holder.as_ref().is_some_and(|h| h.token == token) {
            log.holder = None;
        }
        let mut problems = Vec::new();
        if (after.status, after.attempts) != (status, attempts) {
            problems.push(format!(
                "task {n}: worker {worker}'s end of its run left it {} after {} attempts, \
                 expected {status} after {attempts}",
                after.status, after.attempts
            ));
        }
        if after.lease_expires_at.is_some() {
            problems.push(format!("task {n}: a lease is left after its run ended"));
        }
        if matches!(after.status, TaskStatus::Succeeded | TaskStatus::Failed) {
            if let Some(before) = log.ended {
                problems.push(format!(
                    "task {n} ended twice: {before}, then {}",
                    after.status
                ));
            } else {
                self.ended.fetch_add(1, Ordering::SeqCst);
            }
            log.ended = Some(after.status);
        }
        drop(tasks);
        for problem in problems {
            self.violation(problem);
        }
    }

    /// A worker's heartbeat or end of its run was refused: with leases that never expire
    /// here, a violation (a `Stale` lease), or a failure. The test stops counting the run as
    /// held.
    pub(crate) fn refused(&self, worker: usize, id: TaskId, token: LeaseToken, error: &str) {
        let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
        let log = tasks.get_mut(&id).expect("a claimed task");
        let n = log.n;
        if log.holder.as_ref().is_some_and(|h| h.token == token) {
            log.holder = None;
        }
        drop(tasks);
        self.violation(format!(
            "task {n}: worker {worker}'s end of its run was refused: {error}"
        ));
    }
}
