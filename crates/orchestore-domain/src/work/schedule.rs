//! Schedules: a cron pattern in a time zone that enqueues a task or starts a workflow execution
//! at each occurrence, and what happens to occurrences missed while no server ran.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize, Serializer};

use super::{IdempotencyKey, MaxAttempts, NewTask, Progress};
use crate::{
    Capabilities, Description, DomainError, Metadata, Name, NewWorkflowExecution, OrganizationId,
    Payload, Priority, ProjectId, Revision, ScheduleId, Tags, TaskId, Title, WorkflowExecutionId,
    WorkflowId,
};

/// How late an occurrence may be found and still count as on time: the sweep runs every second
/// or so, and a busy database may hold it up a little. Later than this it was missed.
pub const MISFIRE_GRACE: Duration = Duration::seconds(60);

/// The most occurrences [`CronSchedule::upcoming`] lists.
pub const MAX_UPCOMING: usize = 100;

/// A cron pattern: five fields (minute to weekday) or six with seconds first, as croner reads
/// them (`*/5 * * * *`, `0 30 9 * * MON-FRI`, `@daily`). A pattern croner refuses, one with a
/// year field, or one that never fires is refused on `cron`. Occurrences are whole seconds, so
/// none fires more often than once a second.
#[derive(Clone)]
pub struct CronSchedule {
    pattern: String,
    cron: Cron,
}

deserialize_by_parse!(CronSchedule, String, |raw| CronSchedule::parse(&raw));

impl CronSchedule {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let pattern = raw.trim();
        if pattern.is_empty() || pattern.chars().count() > Self::MAX_CHARS {
            return Err(DomainError::invalid(
                "cron",
                format!("must be 1 to {} characters", Self::MAX_CHARS),
            ));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .year(Year::Disallowed)
            .build()
            .parse(pattern)
            .map_err(|e| DomainError::invalid("cron", e.to_string()))?;
        let parsed = Self {
            pattern: pattern.to_owned(),
            cron,
        };
        // A pattern such as `0 0 30 2 *` parses but has no occurrence at all.
        if parsed
            .next_after(DateTime::<Utc>::UNIX_EPOCH, TimeZone::utc())
            .is_none()
        {
            return Err(DomainError::invalid("cron", "the pattern never fires"));
        }
        Ok(parsed)
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The first occurrence strictly after `at`, in `tz`; `None` when there is none.
    pub fn next_after(&self, at: DateTime<Utc>, tz: TimeZone) -> Option<DateTime<Utc>> {
        let local = at.trunc_subsecs(0).with_timezone(&tz.0);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The first occurrence at or after `at`, in `tz`.
    pub fn next_from(&self, at: DateTime<Utc>, tz: TimeZone) -> Option<DateTime<Utc>> {
        let whole = at.trunc_subsecs(0);
        if whole < at {
            return self.next_after(whole, tz);
        }
        let local = whole.with_timezone(&tz.0);
        self.cron
            .find_next_occurrence(&local, true)
            .ok()
            .map(|next| next.with_timezone(&Utc))
    }

    /// The last occurrence at or before `at`, in `tz`.
    pub fn latest_until(&self, at: DateTime<Utc>, tz: TimeZone) -> Option<DateTime<Utc>> {
        let local = at.trunc_subsecs(0).with_timezone(&tz.0);
        self.cron
            .find_previous_occurrence(&local, true)
            .ok()
            .map(|previous| previous.with_timezone(&Utc))
    }

    /// The next `count` occurrences after `at` (at most [`MAX_UPCOMING`]).
    pub fn upcoming(&self, at: DateTime<Utc>, tz: TimeZone, count: usize) -> Vec<DateTime<Utc>> {
        let mut found = Vec::with_capacity(count.min(MAX_UPCOMING));
        let mut cursor = at;
        while found.len() < count.min(MAX_UPCOMING) {
            match self.next_after(cursor, tz) {
                Some(next) => {
                    found.push(next);
                    cursor = next;
                }
                None => break,
            }
        }
        found
    }
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CronSchedule").field(&self.pattern).finish()
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.pattern == other.pattern
    }
}

impl Serialize for CronSchedule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.pattern)
    }
}

/// An IANA time zone (`Europe/Paris`, `UTC`), the one a schedule's pattern is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

deserialize_by_parse!(TimeZone, String, |raw| TimeZone::parse(&raw));

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            DomainError::invalid(
                "time_zone",
                format!("{raw:?} is not an IANA time zone name such as Europe/Paris or UTC"),
            )
        })
    }

    pub const fn utc() -> Self {
        Self(chrono_tz::Tz::UTC)
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// What a schedule does with occurrences that passed while no server fired them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MisfirePolicy {
    /// Fires only an occurrence found within [`MISFIRE_GRACE`]; missed ones are dropped.
    #[default]
    Skip,
    /// Fires the latest missed occurrence once, however late, and drops the ones before it.
    CatchUpOne,
}

impl MisfirePolicy {
    pub const ALL: [Self; 2] = [Self::Skip, Self::CatchUpOne];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Skip => "skip",
            Self::CatchUpOne => "catch_up_one",
        }
    }
}

impl FromStr for MisfirePolicy {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|policy| policy.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("misfire_policy", "must be one of skip, catch_up_one")
            })
    }
}

/// The task a schedule enqueues at each occurrence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduledTask {
    pub project_id: ProjectId,
    pub title: Title,
    pub description: Description,
    pub priority: Priority,
    pub payload: Payload,
    pub required_capabilities: Capabilities,
    pub tags: Tags,
    pub max_attempts: MaxAttempts,
}

impl ScheduledTask {
    /// The task of one occurrence, under its idempotency key.
    pub fn to_new_task(&self, key: IdempotencyKey) -> NewTask {
        NewTask {
            project_id: self.project_id,
            title: self.title.clone(),
            description: self.description.clone(),
            priority: self.priority,
            payload: self.payload.clone(),
            required_capabilities: self.required_capabilities.clone(),
            metadata: Metadata::default(),
            parent_id: None,
            assigned_agent_id: None,
            estimated_minutes: None,
            progress: Progress::default(),
            tags: self.tags.clone(),
            max_attempts: self.max_attempts,
            run_after: None,
            idempotency_key: Some(key),
            rate_limits: super::RateLimitUses::default(),
            depends_on: BTreeSet::new(),
            concurrency: None,
            fairness: None,
        }
    }
}

/// The workflow execution a schedule starts at each occurrence: of `version`, or the latest
/// version the workflow has then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduledWorkflow {
    pub workflow_id: WorkflowId,
    pub version: Option<u32>,
    pub project_id: ProjectId,
    pub input: Payload,
    pub priority: Priority,
}

impl ScheduledWorkflow {
    pub fn to_new_execution(&self) -> NewWorkflowExecution {
        NewWorkflowExecution {
            workflow_id: self.workflow_id,
            version: self.version,
            project_id: self.project_id,
            input: self.input.clone(),
            priority: self.priority,
        }
    }
}

/// What a schedule does at each occurrence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduleTarget {
    Task(ScheduledTask),
    Workflow(ScheduledWorkflow),
}

impl ScheduleTarget {
    pub fn project_id(&self) -> ProjectId {
        match self {
            Self::Task(task) => task.project_id,
            Self::Workflow(workflow) => workflow.project_id,
        }
    }

    pub fn workflow_id(&self) -> Option<WorkflowId> {
        match self {
            Self::Task(_) => None,
            Self::Workflow(workflow) => Some(workflow.workflow_id),
        }
    }
}

/// What the firing of one occurrence produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduleOutcome {
    /// The task enqueued for it (or found under the occurrence's idempotency key).
    Task {
        occurrence: DateTime<Utc>,
        task_id: TaskId,
    },
    Execution {
        occurrence: DateTime<Utc>,
        execution_id: WorkflowExecutionId,
    },
    /// The target refused it (its workflow has no version, say); the schedule moved on.
    Failed {
        occurrence: DateTime<Utc>,
        error: String,
    },
}

impl ScheduleOutcome {
    pub fn occurrence(&self) -> DateTime<Utc> {
        match self {
            Self::Task { occurrence, .. }
            | Self::Execution { occurrence, .. }
            | Self::Failed { occurrence, .. } => *occurrence,
        }
    }
}

/// A schedule. `next_run_at` is the occurrence it fires next (none while paused, or when the
/// pattern has no more); `last_run_at` and `last_outcome` tell the latest one fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Schedule {
    pub id: ScheduleId,
    pub organization_id: OrganizationId,
    pub name: Name,
    pub cron: CronSchedule,
    pub time_zone: TimeZone,
    pub misfire_policy: MisfirePolicy,
    pub target: ScheduleTarget,
    pub enabled: bool,
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<ScheduleOutcome>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

/// A new schedule. Its first occurrence is the first at or after `starts_at` (the creation
/// time when absent); one in the past is handled as missed.
#[derive(Debug, Clone)]
pub struct NewSchedule {
    pub name: Name,
    pub cron: CronSchedule,
    pub time_zone: TimeZone,
    pub misfire_policy: MisfirePolicy,
    pub target: ScheduleTarget,
    pub enabled: bool,
    pub starts_at: Option<DateTime<Utc>>,
}

/// The fields an update may change; `None` leaves one as it is. A new pattern or time zone
/// moves `next_run_at` to the first occurrence after the update.
#[derive(Debug, Clone, Default)]
pub struct SchedulePatch {
    pub name: Option<Name>,
    pub cron: Option<CronSchedule>,
    pub time_zone: Option<TimeZone>,
    pub misfire_policy: Option<MisfirePolicy>,
    pub target: Option<ScheduleTarget>,
    pub enabled: Option<bool>,
}

/// What one sweep did with a due schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduleFiring {
    pub schedule_id: ScheduleId,
    /// The occurrence fired and what it produced; `None` when the due occurrences were all
    /// missed and the policy skipped them.
    pub outcome: Option<ScheduleOutcome>,
    pub next_run_at: Option<DateTime<Utc>>,
}

/// What a due schedule does at `now`: the occurrence to fire, if any, and the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiringPlan {
    pub fire: Option<DateTime<Utc>>,
    pub next: Option<DateTime<Utc>>,
}

impl FiringPlan {
    /// The plan of a schedule due at `due` (its `next_run_at`, at or before `now`): the latest
    /// occurrence at or before `now` is fired when it is within [`MISFIRE_GRACE`] of `now`,
    /// or, under [`MisfirePolicy::CatchUpOne`], however late; the ones before it are dropped;
    /// the next is the first after `now`.
    pub fn at(
        cron: &CronSchedule,
        tz: TimeZone,
        policy: MisfirePolicy,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        let latest = cron
            .latest_until(now, tz)
            .map_or(due, |latest| latest.max(due));
        let on_time = now - latest <= MISFIRE_GRACE;
        let fire = match policy {
            MisfirePolicy::Skip if !on_time => None,
            _ => Some(latest),
        };
        Self {
            fire,
            next: cron.next_after(now, tz),
        }
    }
}

/// The idempotency key of the task a schedule enqueues for one occurrence:
/// `schedule:<schedule id>:<occurrence, RFC 3339 UTC to the second>`.
pub fn occurrence_key(
    schedule: ScheduleId,
    occurrence: DateTime<Utc>,
) -> Result<IdempotencyKey, DomainError> {
    IdempotencyKey::parse(&format!(
        "schedule:{}:{}",
        schedule.as_uuid(),
        occurrence.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn patterns_are_parsed_or_refused_on_cron() {
        assert!(CronSchedule::parse("*/5 * * * *").is_ok());
        assert!(CronSchedule::parse("* * * * * *").is_ok());
        assert!(CronSchedule::parse("@daily").is_ok());
        for bad in [
            "",
            "nonsense",
            "61 * * * *",
            "* * * * * * 2030",
            "0 0 30 2 *",
        ] {
            let err = CronSchedule::parse(bad).expect_err(bad);
            assert!(
                matches!(err, DomainError::Invalid { field: "cron", .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert_eq!(
            TimeZone::parse("Europe/Paris").expect("tz").name(),
            "Europe/Paris"
        );
        assert!(matches!(
            TimeZone::parse("Mars/Olympus"),
            Err(DomainError::Invalid {
                field: "time_zone",
                ..
            })
        ));
    }

    #[test]
    fn occurrences_follow_the_time_zone() {
        let cron = CronSchedule::parse("0 9 * * *").expect("cron");
        let paris = TimeZone::parse("Europe/Paris").expect("tz");
        assert_eq!(
            cron.next_after(at("2026-01-10T12:00:00Z"), paris),
            Some(at("2026-01-11T08:00:00Z"))
        );
        assert_eq!(
            cron.next_after(at("2026-07-10T12:00:00Z"), paris),
            Some(at("2026-07-11T07:00:00Z"))
        );
    }

    #[test]
    fn missed_occurrences_follow_the_policy() {
        let cron = CronSchedule::parse("0 * * * *").expect("cron");
        let utc = TimeZone::utc();
        let due = at("2026-03-01T10:00:00Z");
        // On time: fired whatever the policy.
        let plan = FiringPlan::at(
            &cron,
            utc,
            MisfirePolicy::Skip,
            due,
            at("2026-03-01T10:00:01Z"),
        );
        assert_eq!(plan.fire, Some(due));
        assert_eq!(plan.next, Some(at("2026-03-01T11:00:00Z")));
        // Three hours down: skip fires nothing, catch_up_one the latest, both move on.
        let now = at("2026-03-01T13:30:00Z");
        let skip = FiringPlan::at(&cron, utc, MisfirePolicy::Skip, due, now);
        assert_eq!(skip.fire, None);
        assert_eq!(skip.next, Some(at("2026-03-01T14:00:00Z")));
        let catch_up = FiringPlan::at(&cron, utc, MisfirePolicy::CatchUpOne, due, now);
        assert_eq!(catch_up.fire, Some(at("2026-03-01T13:00:00Z")));
        assert_eq!(catch_up.next, Some(at("2026-03-01T14:00:00Z")));
    }

    #[test]
    fn the_occurrence_key_names_schedule_and_instant() {
        let id = ScheduleId::new();
        let key = occurrence_key(id, at("2026-03-01T10:00:00Z")).expect("key");
        assert_eq!(
            key.as_str(),
            format!("schedule:{}:2026-03-01T10:00:00Z", id.as_uuid())
        );
    }

    #[test]
    fn daylight_saving_time_fires_each_local_time_once() {
        let paris = TimeZone::parse("Europe/Paris").expect("tz");
        let daily = CronSchedule::parse("30 2 * * *").expect("cron");
        // 02:30 does not exist on 29 March: it fires at 03:00 summer time, the end of the gap.
        assert_eq!(
            daily.upcoming(at("2026-03-28T12:00:00Z"), paris, 2),
            vec![at("2026-03-29T01:00:00Z"), at("2026-03-30T00:30:00Z")]
        );
        // 02:30 comes twice on 25 October: it fires at the first, summer time.
        assert_eq!(
            daily.upcoming(at("2026-10-24T12:00:00Z"), paris, 2),
            vec![at("2026-10-25T00:30:00Z"), at("2026-10-26T01:30:00Z")]
        );
        // An interval pattern skips the hour that does not exist and does not repeat the one
        // that comes twice.
        let half_hourly = CronSchedule::parse("*/30 * * * *").expect("cron");
        assert_eq!(
            half_hourly.upcoming(at("2026-03-29T00:00:00Z"), paris, 3),
            vec![
                at("2026-03-29T00:30:00Z"),
                at("2026-03-29T01:00:00Z"),
                at("2026-03-29T01:30:00Z")
            ]
        );
        assert_eq!(
            half_hourly.upcoming(at("2026-10-24T23:45:00Z"), paris, 3),
            vec![
                at("2026-10-25T00:00:00Z"),
                at("2026-10-25T00:30:00Z"),
                at("2026-10-25T02:00:00Z")
            ]
        );
    }
}
