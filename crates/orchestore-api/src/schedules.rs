//! `/api/v1/schedules`: cron schedules that enqueue a task or start a workflow execution.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    Capabilities, CronSchedule, Description, DomainError, MaxAttempts, MisfirePolicy, Name,
    NewSchedule, Payload, Priority, ProjectId, SchedulePatch, ScheduleTarget, ScheduledTask,
    ScheduledWorkflow, Tags, TimeZone, Title, WorkflowId,
};
use orchestore_repo::ScheduleSort;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, PatchField};

/// A task to enqueue at each occurrence.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskTargetBody {
    pub project_id: ProjectId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    #[serde(default)]
    pub required_capabilities: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<i64>,
}

/// A workflow execution to start at each occurrence: of `version`, or the latest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowTargetBody {
    pub workflow_id: WorkflowId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    pub project_id: ProjectId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

/// The target of a schedule: exactly one of `task` and `workflow`.
fn parse_target(
    errors: &mut FieldErrors,
    task: Option<TaskTargetBody>,
    workflow: Option<WorkflowTargetBody>,
) -> Option<ScheduleTarget> {
    match (task, workflow) {
        (Some(task), None) => {
            let title = errors.check(Title::parse(&task.title));
            let description = errors.check(
                task.description
                    .as_deref()
                    .map_or(Ok(Description::empty()), |d| {
                        Description::parse("description", d)
                    }),
            );
            let priority = errors.check(
                task.priority
                    .map_or(Ok(Priority::default()), Priority::parse),
            );
            let payload = errors.check(task.payload.map_or(Ok(Payload::default()), Payload::parse));
            let capabilities = errors.check(Capabilities::parse(&task.required_capabilities));
            let tags = errors.check(Tags::parse(&task.tags));
            let max_attempts = errors.check(
                task.max_attempts
                    .map_or(Ok(MaxAttempts::default()), MaxAttempts::parse),
            );
            Some(ScheduleTarget::Task(ScheduledTask {
                project_id: task.project_id,
                title: title?,
                description: description?,
                priority: priority?,
                payload: payload?,
                required_capabilities: capabilities?,
                tags: tags?,
                max_attempts: max_attempts?,
            }))
        }
        (None, Some(workflow)) => {
            let input = errors.check(
                workflow
                    .input
                    .map_or(Ok(Payload::default()), Payload::parse),
            );
            let priority = errors.check(
                workflow
                    .priority
                    .map_or(Ok(Priority::default()), Priority::parse),
            );
            Some(ScheduleTarget::Workflow(ScheduledWorkflow {
                workflow_id: workflow.workflow_id,
                version: workflow.version,
                project_id: workflow.project_id,
                input: input?,
                priority: priority?,
            }))
        }
        _ => errors.check(Err(DomainError::invalid(
            "target",
            "give exactly one of task and workflow",
        ))),
    }
}

fn parse_policy(raw: &str) -> Result<MisfirePolicy, DomainError> {
    raw.parse()
}

/// A schedule's target is exactly one of `task` and `workflow`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateScheduleBody {
    pub name: String,
    #[schema(value_type = CronSchedule)]
    pub cron: String,
    /// `UTC` when left out.
    #[schema(value_type = Option<TimeZone>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// `skip` when left out.
    #[schema(value_type = Option<MisfirePolicy>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misfire_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskTargetBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<WorkflowTargetBody>,
    /// `true` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Now when left out; an earlier instant makes the occurrences since then missed ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
}

impl CreateScheduleBody {
    pub fn into_new_schedule(self) -> Result<NewSchedule, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let cron = errors.check(CronSchedule::parse(&self.cron));
        let time_zone = errors.check(
            self.time_zone
                .as_deref()
                .map_or(Ok(TimeZone::utc()), TimeZone::parse),
        );
        let policy = errors.check(
            self.misfire_policy
                .as_deref()
                .map_or(Ok(MisfirePolicy::default()), parse_policy),
        );
        let target = parse_target(&mut errors, self.task, self.workflow);
        let (Some(name), Some(cron), Some(time_zone), Some(misfire_policy), Some(target)) =
            (name, cron, time_zone, policy, target)
        else {
            return Err(errors.into_error());
        };
        Ok(NewSchedule {
            name,
            cron,
            time_zone,
            misfire_policy,
            target,
            enabled: self.enabled.unwrap_or(true),
            starts_at: self.starts_at,
        })
    }
}

/// Absent fields stay as they are; a new target, `task` or `workflow`, replaces the old one
/// whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchScheduleBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub name: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = CronSchedule)]
    pub cron: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = TimeZone)]
    pub time_zone: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = MisfirePolicy)]
    pub misfire_policy: PatchField<String>,
    /// A new target replaces the old one whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskTargetBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<WorkflowTargetBody>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = bool)]
    pub enabled: PatchField<bool>,
}

impl PatchScheduleBody {
    pub fn into_patch(self) -> Result<SchedulePatch, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let cron = errors.check(
            self.cron
                .parse_required("cron", |c| CronSchedule::parse(&c)),
        );
        let time_zone = errors.check(
            self.time_zone
                .parse_required("time_zone", |tz| TimeZone::parse(&tz)),
        );
        let policy = errors.check(
            self.misfire_policy
                .parse_required("misfire_policy", |p| parse_policy(&p)),
        );
        let enabled = errors.check(self.enabled.parse_required("enabled", Ok));
        let target = if self.task.is_none() && self.workflow.is_none() {
            Some(None)
        } else {
            parse_target(&mut errors, self.task, self.workflow).map(Some)
        };
        let (
            Some(name),
            Some(cron),
            Some(time_zone),
            Some(misfire_policy),
            Some(enabled),
            Some(target),
        ) = (name, cron, time_zone, policy, enabled, target)
        else {
            return Err(errors.into_error());
        };
        Ok(SchedulePatch {
            name,
            cron,
            time_zone,
            misfire_policy,
            target,
            enabled,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSchedulesQuery {
    /// Only the enabled schedules (`true`) or only the paused ones (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<ScheduleSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NextQuery {
    /// How many occurrences.
    #[param(minimum = 1, maximum = 100, default = 5)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// A schedule's next occurrences, for a person checking its pattern.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UpcomingOccurrences {
    /// The zone the pattern is read in.
    pub time_zone: TimeZone,
    /// The instants, earliest first.
    pub occurrences: Vec<DateTime<Utc>>,
}
