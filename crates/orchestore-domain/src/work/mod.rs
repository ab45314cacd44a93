//! Work: projects, the tasks in them, the queue that runs them, the tasks' history and
//! statistics.

mod batch;
mod concurrency;
mod event;
mod fairness;
mod fairness_keys;
mod import;
mod project;
mod queue;
mod rate_limit;
mod schedule;
mod stats;
mod task;
mod values;

pub use batch::{BatchFault, BatchTask, Enqueued};
pub use concurrency::{ConcurrencyKey, ConcurrencyLimit, ConcurrencyStrategy, TaskConcurrency};
pub use event::TaskEvent;
pub use fairness::{QueueShare, QueueShareWeight, SharedClaim, SharedClaimRequest};
pub use fairness_keys::{FairnessKey, FairnessWeight, TaskFairness};
pub use import::{
    ExternalKey, ImportAction, ImportOutcome, ImportReport, ImportedStatus, ImportedTask,
    MissingTask, TaskImport,
};
pub use project::{NewProject, Project, ProjectPatch, parse_repository_url};
pub use queue::{
    Backoff, CapabilityDepth, ClaimLimit, ClaimRequest, ClaimWait, ClaimedTask, Completion,
    Completions, LeaseDuration, LeaseToken, QueueDepth, QueueStats, Throughput,
};
pub use rate_limit::{
    NewRateLimit, RateLimit, RateLimitName, RateLimitPatch, RateLimitUse, RateLimitUses,
    RawRateLimitUse, RefillPeriod, TokenBucket, TokenCount,
};
pub use schedule::{
    CronSchedule, FiringPlan, MAX_UPCOMING, MISFIRE_GRACE, MisfirePolicy, NewSchedule, Schedule,
    ScheduleFiring, ScheduleOutcome, SchedulePatch, ScheduleTarget, ScheduledTask,
    ScheduledWorkflow, TimeZone, occurrence_key,
};
pub use stats::{PriorityCount, RunTimeStats, TaskStats};
pub use task::{NewTask, Task, TaskPatch, TaskStatus};
pub use values::{Effort, IdempotencyKey, MaxAttempts, Progress};
