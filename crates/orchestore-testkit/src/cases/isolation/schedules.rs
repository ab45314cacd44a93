//! Schedules.

use orchestore_domain::{
    Capabilities, CronSchedule, MaxAttempts, MisfirePolicy, NewSchedule, ProjectId, Schedule,
    SchedulePatch, ScheduleTarget, ScheduledTask, ScheduledWorkflow, Tags, TimeZone, Title,
    WorkflowId,
};
use orchestore_repo::{Ctx, ScheduleFilter};

use super::*;

/// What the case's organization holds of this aggregate: a yearly schedule of a task.
pub(super) struct ScheduleHoldings {
    schedule: Schedule,
}

fn task_target(project: ProjectId) -> ScheduleTarget {
    ScheduleTarget::Task(ScheduledTask {
        project_id: project,
        title: Title::parse("New year report").expect("title"),
        description: Description::empty(),
        priority: Priority::default(),
        payload: Payload::default(),
        required_capabilities: Capabilities::default(),
        tags: Tags::default(),
        max_attempts: MaxAttempts::default(),
    })
}

fn workflow_target(project: ProjectId, workflow: WorkflowId) -> ScheduleTarget {
    ScheduleTarget::Workflow(ScheduledWorkflow {
        workflow_id: workflow,
        version: None,
        project_id: project,
        input: Payload::default(),
        priority: Priority::default(),
    })
}

fn new_schedule(name: &str, target: ScheduleTarget) -> NewSchedule {
    NewSchedule {
        name: Name::parse("name", name).expect("name"),
        cron: CronSchedule::parse("0 0 1 1 *").expect("cron"),
        time_zone: TimeZone::utc(),
        misfire_policy: MisfirePolicy::Skip,
        target,
        enabled: true,
        starts_at: None,
    }
}

impl ScheduleHoldings {
    pub(super) async fn create<S: Store + ?Sized>(store: &S, ctx: &Ctx, project: &Project) -> Self {
        let schedule = store
            .create_schedule(ctx, new_schedule("New year", task_target(project.id)))
            .await
            .expect("schedule");
        Self { schedule }
    }
}

/// What the organization reads of this aggregate.
pub(super) async fn schedules_view<S: Store + ?Sized>(store: &S, h: &Holdings) -> Vec<String> {
    let ctx = &h.fixture.ctx;
    vec![
        format!(
            "{:?}",
            store.get_schedule(ctx, h.schedules.schedule.id).await
        ),
        format!(
            "{:?}",
            store
                .list_schedules(ctx, ScheduleFilter::default(), all())
                .await
        ),
    ]
}

pub(super) async fn check_schedules<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    let theirs = a.schedules.schedule.id;
    c.reference(
        "create_schedule",
        "project_id",
        store
            .create_schedule(ctx, new_schedule("Theirs", task_target(a.project.id)))
            .await,
    );
    c.reference(
        "create_schedule",
        "workflow_id",
        store
            .create_schedule(
                ctx,
                new_schedule(
                    "Their workflow",
                    workflow_target(b.project.id, a.workflow.id),
                ),
            )
            .await,
    );
    c.clean(
        "create_schedule",
        store
            .create_schedule(ctx, new_schedule("Ours", task_target(b.project.id)))
            .await,
    );
    c.not_found("get_schedule", store.get_schedule(ctx, theirs).await);
    c.clean(
        "list_schedules",
        store
            .list_schedules(ctx, ScheduleFilter::default(), all())
            .await,
    );
    c.not_found(
        "update_schedule",
        store
            .update_schedule(ctx, theirs, SchedulePatch::default(), None)
            .await,
    );
    c.not_found("pause_schedule", store.pause_schedule(ctx, theirs).await);
    c.not_found("resume_schedule", store.resume_schedule(ctx, theirs).await);
    c.not_found(
        "delete_schedule",
        store.delete_schedule(ctx, theirs, None).await,
    );
    // Fires B's own schedules, due in two years, and none of A's.
    c.clean(
        "fire_due_schedules",
        store
            .fire_due_schedules(ctx, Utc::now() + chrono::Duration::days(730), 100)
            .await,
    );
    // Names the organizations to sweep, for the server.
    c.unscoped("organizations_with_due_schedules");
}
