//! `/api/v1/tasks`.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    AgentId, BatchTask, Capabilities, ConcurrencyKey, ConcurrencyLimit, ConcurrencyStrategy,
    Description, Effort, Enqueued, FairnessKey, FairnessWeight, IdempotencyKey, MaxAttempts,
    Metadata, NewTask, Payload, Priority, Progress, ProjectId, RateLimitUses, RawRateLimitUse,
    Tags, TaskConcurrency, TaskFairness, TaskId, TaskPatch, TaskStatus, Title,
};
use orchestore_repo::{PageRequest, TaskFilter, TaskSort};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldError, FieldErrors, Invalid, PatchField, page_request};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskBody {
    pub project_id: ProjectId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Higher runs first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Any JSON document the worker is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    /// Capabilities an agent must have to claim the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_capabilities: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
    /// The task this one is a subtask of, in the same project.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<TaskId>,
    /// The one agent that may claim the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_agent_id: Option<AgentId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_minutes: Option<i64>,
    /// Percent done.
    #[schema(minimum = 0, maximum = 100)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// Runs before the task fails for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i64>,
    /// Not claimed before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_after: Option<DateTime<Utc>>,
    /// Unique in the organization: a second task with the key is not created, the first one
    /// is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The rate limits each claim of the task consumes: `[{name, units}]`, units 1 when left
    /// out; each must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limits: Option<Vec<RawRateLimitUse>>,
    /// Tasks this one waits for: it starts `blocked` while one of them has not succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<Vec<TaskId>>,
    /// In a batch only: positions of earlier tasks of the batch this one waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on_batch: Option<Vec<usize>>,
    /// The key that limits how many tasks like this one run at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencyBody>,
    /// The key under which claims serve this task in turn with the organization's other keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness: Option<FairnessBody>,
}

/// `{"key": "project:web", "weight": 3}`; the weight is 1 unless told.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FairnessBody {
    /// 1 to 128 of `A-Za-z0-9:/._-`.
    #[schema(min_length = 1, max_length = 128)]
    pub key: String,
    /// The key's share of the turns, 1 to 1,000; the latest enqueue naming the key sets it.
    #[schema(minimum = 1, maximum = 1000)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
}

impl FairnessBody {
    /// The fairness, or `None` with every bad field recorded in `errors`.
    fn parse(self, errors: &mut FieldErrors) -> Option<TaskFairness> {
        let key = errors.check(FairnessKey::parse(&self.key));
        let weight = errors.check(
            self.weight
                .map_or(Ok(FairnessWeight::default()), FairnessWeight::parse),
        );
        Some(TaskFairness {
            key: key?,
            weight: weight?,
        })
    }
}

/// `{"key": "repo:acme/web", "limit": 2, "strategy": "queue"}`; the strategy is `queue` unless
/// told.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyBody {
    pub key: String,
    /// How many tasks with the key may run at once.
    pub limit: i64,
    #[schema(value_type = Option<ConcurrencyStrategy>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
}

impl ConcurrencyBody {
    /// The concurrency, or `None` with every bad field recorded in `errors`.
    fn parse(self, errors: &mut FieldErrors) -> Option<TaskConcurrency> {
        let key = errors.check(ConcurrencyKey::parse(&self.key));
        let limit = errors.check(ConcurrencyLimit::parse(self.limit));
        let strategy = errors.check(
            self.strategy
                .map_or(Ok(ConcurrencyStrategy::default()), |s| s.parse()),
        );
        Some(TaskConcurrency {
            key: key?,
            limit: limit?,
            strategy: strategy?,
        })
    }
}

impl CreateTaskBody {
    /// A task of `project_id` called `title`, every other field left to its default.
    pub fn new(project_id: ProjectId, title: impl Into<String>) -> Self {
        Self {
            project_id,
            title: title.into(),
            description: None,
            priority: None,
            payload: None,
            required_capabilities: None,
            metadata: None,
            parent_id: None,
            assigned_agent_id: None,
            estimated_minutes: None,
            progress: None,
            tags: None,
            max_attempts: None,
            run_after: None,
            idempotency_key: None,
            rate_limits: None,
            depends_on: None,
            depends_on_batch: None,
            concurrency: None,
            fairness: None,
        }
    }

    /// The task of `POST /api/v1/tasks`, where there is no batch to wait for.
    pub fn into_new_task(self) -> Result<NewTask, Invalid> {
        if self.depends_on_batch.is_some() {
            return Err(Invalid(vec![FieldError::new(
                "depends_on_batch",
                "names tasks of a batch: send it to POST /api/v1/tasks/batch",
            )]));
        }
        self.into_batch_task()
            .map(|item| item.task)
            .map_err(FieldErrors::into_error)
    }

    /// A task of a batch, every bad field recorded.
    fn into_batch_task(self) -> Result<BatchTask, FieldErrors> {
        let mut errors = FieldErrors::default();
        let title = errors.check(Title::parse(&self.title));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let priority = errors.check(
            self.priority
                .map_or(Ok(Priority::default()), Priority::parse),
        );
        let required_capabilities = errors.check(
            self.required_capabilities
                .map_or(Ok(Capabilities::default()), |c| Capabilities::parse(&c)),
        );
        let metadata = errors.check(
            self.metadata
                .map_or(Ok(Metadata::default()), |m| Metadata::parse("metadata", m)),
        );
        let payload = errors.check(Payload::parse(
            self.payload.unwrap_or(serde_json::Value::Null),
        ));
        let estimated_minutes = errors.check(self.estimated_minutes.map(Effort::parse).transpose());
        let progress = errors.check(
            self.progress
                .map_or(Ok(Progress::default()), Progress::parse),
        );
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let max_attempts = errors.check(
            self.max_attempts
                .map_or(Ok(MaxAttempts::default()), MaxAttempts::parse),
        );
        let idempotency_key = errors.check(
            self.idempotency_key
                .as_deref()
                .map(IdempotencyKey::parse)
                .transpose(),
        );
        let depends_on = errors.check(NewTask::parse_depends_on(
            self.depends_on.unwrap_or_default(),
        ));
        let rate_limits = errors.check(RateLimitUses::parse(
            self.rate_limits.as_deref().unwrap_or_default(),
        ));
        let concurrency = match self.concurrency {
            None => Some(None),
            Some(body) => body.parse(&mut errors).map(Some),
        };
        let fairness = match self.fairness {
            None => Some(None),
            Some(body) => body.parse(&mut errors).map(Some),
        };
        let (
            (Some(title), Some(description), Some(priority), Some(payload)),
            (Some(required_capabilities), Some(metadata), Some(estimated_minutes)),
            (Some(progress), Some(tags), Some(max_attempts), Some(idempotency_key)),
            (Some(depends_on), Some(rate_limits), Some(concurrency), Some(fairness)),
        ) = (
            (title, description, priority, payload),
            (required_capabilities, metadata, estimated_minutes),
            (progress, tags, max_attempts, idempotency_key),
            (depends_on, rate_limits, concurrency, fairness),
        )
        else {
            return Err(errors);
        };
        let task = NewTask {
            project_id: self.project_id,
            title,
            description,
            priority,
            payload,
            required_capabilities,
            metadata,
            parent_id: self.parent_id,
            assigned_agent_id: self.assigned_agent_id,
            estimated_minutes,
            progress,
            tags,
            max_attempts,
            run_after: self.run_after,
            idempotency_key,
            rate_limits,
            depends_on,
            concurrency,
            fairness,
        };
        Ok(BatchTask {
            task,
            depends_on_batch: self
                .depends_on_batch
                .unwrap_or_default()
                .into_iter()
                .collect(),
        })
    }
}

/// `{"tasks": [...]}`: the tasks of a batch, each as `POST /api/v1/tasks` takes it, with
/// `depends_on_batch` besides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    pub tasks: Vec<CreateTaskBody>,
}

impl BatchBody {
    /// The batch, or every bad field of every task (`tasks[3].title`), then the faults between
    /// the tasks (`tasks[5].depends_on_batch`, `tasks[7].idempotency_key`).
    pub fn into_batch(self) -> Result<Vec<BatchTask>, Invalid> {
        BatchTask::check_count(self.tasks.len())?;
        let mut errors = FieldErrors::default();
        let mut batch = Vec::with_capacity(self.tasks.len());
        for (index, body) in self.tasks.into_iter().enumerate() {
            match body.into_batch_task() {
                Ok(item) => batch.push(item),
                Err(bad) => errors.extend_within(&format!("tasks[{index}]"), bad),
            }
        }
        if !errors.is_empty() {
            return Err(errors.into_error());
        }
        for fault in BatchTask::check_batch(&batch) {
            let error = FieldError::from(fault.error);
            match fault.index {
                Some(index) => errors.push(error.within(&format!("tasks[{index}]"))),
                None => errors.push(error),
            }
        }
        if errors.is_empty() {
            Ok(batch)
        } else {
            Err(errors.into_error())
        }
    }
}

/// What `POST /api/v1/tasks/batch` answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EnqueuedBatch {
    /// One per task sent, in the same order.
    pub items: Vec<Enqueued>,
}

/// Absent fields stay as they are; `payload` may be set to `null`, and `null` clears
/// `parent_id`, `assigned_agent_id`, `estimated_minutes` and `run_after`. A status change must
/// be a transition the task's state machine allows. Attempts, run timing, the result and the
/// error are the store's, and the idempotency key is set once, at creation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTaskBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub title: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub description: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = TaskStatus)]
    pub status: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = i64)]
    pub priority: PatchField<i64>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Value)]
    pub payload: PatchField<serde_json::Value>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Vec<String>)]
    pub required_capabilities: PatchField<Vec<String>>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Object)]
    pub metadata: PatchField<serde_json::Value>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<TaskId>)]
    pub parent_id: PatchField<TaskId>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<AgentId>)]
    pub assigned_agent_id: PatchField<AgentId>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<i64>)]
    pub estimated_minutes: PatchField<i64>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = i64, minimum = 0, maximum = 100)]
    pub progress: PatchField<i64>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Vec<String>)]
    pub tags: PatchField<Vec<String>>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = i64)]
    pub max_attempts: PatchField<i64>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub run_after: PatchField<DateTime<Utc>>,
}

impl PatchTaskBody {
    pub fn into_patch(self) -> Result<TaskPatch, Invalid> {
        let mut errors = FieldErrors::default();
        let title = errors.check(self.title.parse_required("title", |t| Title::parse(&t)));
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let status = errors.check(
            self.status
                .parse_required("status", |s| s.parse::<TaskStatus>()),
        );
        let priority = errors.check(self.priority.parse_required("priority", Priority::parse));
        let payload = errors.check(self.payload.parse_nullable(Payload::parse));
        let required_capabilities = errors.check(
            self.required_capabilities
                .parse_required("required_capabilities", |c| Capabilities::parse(&c)),
        );
        let metadata = errors.check(
            self.metadata
                .parse_required("metadata", |m| Metadata::parse("metadata", m)),
        );
        let parent_id = errors.check(self.parent_id.parse_nullable(Ok));
        let assigned_agent_id = errors.check(self.assigned_agent_id.parse_nullable(Ok));
        let estimated_minutes = errors.check(self.estimated_minutes.parse_nullable(Effort::parse));
        let progress = errors.check(self.progress.parse_required("progress", Progress::parse));
        let tags = errors.check(self.tags.parse_required("tags", |t| Tags::parse(&t)));
        let max_attempts = errors.check(
            self.max_attempts
                .parse_required("max_attempts", MaxAttempts::parse),
        );
        let run_after = errors.check(self.run_after.parse_nullable(Ok));
        let (
            (Some(title), Some(description), Some(status), Some(priority)),
            (Some(payload), Some(required_capabilities), Some(metadata)),
            (Some(parent_id), Some(assigned_agent_id), Some(estimated_minutes)),
            (Some(progress), Some(tags), Some(max_attempts), Some(run_after)),
        ) = (
            (title, description, status, priority),
            (payload, required_capabilities, metadata),
            (parent_id, assigned_agent_id, estimated_minutes),
            (progress, tags, max_attempts, run_after),
        )
        else {
            return Err(errors.into_error());
        };
        Ok(TaskPatch {
            title,
            description,
            status,
            priority,
            // `null` is a payload like any other.
            payload: payload.map(Option::unwrap_or_default),
            required_capabilities,
            metadata,
            parent_id,
            assigned_agent_id,
            estimated_minutes,
            progress,
            tags,
            max_attempts,
            run_after,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTasksQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    #[param(value_type = Option<TaskStatus>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_agent_id: Option<AgentId>,
    /// The subtasks of this task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<TaskId>,
    /// One tag the tasks carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<TaskSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListTasksQuery {
    pub fn into_filter_and_page(self) -> Result<(TaskFilter, PageRequest<TaskSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let status = errors.check(self.status.map(|s| s.parse::<TaskStatus>()).transpose());
        let tags = errors.check(self.tag.map_or(Ok(Tags::default()), |t| Tags::parse(&[t])));
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(status), Some(tags), Some(page)) = (status, tags, page) else {
            return Err(errors.into_error());
        };
        let filter = TaskFilter {
            project_id: self.project_id,
            status,
            assigned_agent_id: self.assigned_agent_id,
            parent_id: self.parent_id,
            tags,
        };
        Ok((filter, page))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddDependencyBody {
    /// The task to wait for.
    pub depends_on: TaskId,
}

/// The path of `/api/v1/tasks/{id}/dependencies/{depends_on}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DependencyPath {
    pub id: TaskId,
    pub depends_on: TaskId,
}
