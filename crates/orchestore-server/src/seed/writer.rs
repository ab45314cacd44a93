//! Writing one profile's organization through the repositories of one transaction.

use chrono::{Duration, Utc};
use indicatif::ProgressBar;
use orchestore_domain::{
    AgentId, AgentStatus, Capabilities, ComponentKind, Description, Email, EntryContent,
    EntryTitle, LeaseDuration, Measure, MessageContent, Metadata, MetricName, ModelName, Name,
    NewAgent, NewComponent, NewKnowledgeEntry, NewMessage, NewMetricSample, NewOrganization,
    NewProject, NewTask, NewTemplate, NewUser, NewWorkflow, NewWorkflowExecution, OrganizationId,
    Participant, PasswordHash, Payload, Priority, ProjectId, Records, SystemRole, Tags, TaskId,
    TemplateBody, TemplateKind, TemplateParameters, ThreadId, Title, WorkflowDefinition,
};
use orchestore_repo::{
    Actor, AgentRepo, ComponentRepo, Ctx, KnowledgeRepo, MessageRepo, MetricRepo, OrganizationRepo,
    ProjectRepo, QueueRepo, RepoError, TaskRepo, TemplateRepo, UserRepo, WorkflowRepo,
};
use orchestore_sea::SeaStore;
use serde_json::json;

use super::SeedCounts;
use super::profiles::{AGENTS, KNOWLEDGE, MESSAGES, PROJECTS, SeedProfile, Size, TASKS};

/// The steps the progress bar counts.
pub(super) const SECTIONS: u64 = 9;

/// Writes one profile's data through the repositories of one transaction.
pub(super) struct Writer<'a> {
    pub(super) store: &'a SeaStore,
    pub(super) progress: &'a ProgressBar,
}

impl Writer<'_> {
    fn step(&self, what: &'static str) {
        self.progress.set_message(what);
        self.progress.inc(1);
    }

    pub(super) async fn write(
        &self,
        profile: SeedProfile,
        size: &Size,
        organization: NewOrganization,
        [
            (admin_email, admin_name, admin_hash),
            (developer_email, developer_name, developer_hash),
        ]: [(&str, &str, PasswordHash); 2],
    ) -> Result<(OrganizationId, SeedCounts), RepoError> {
        let store = self.store;
        let mut counts = SeedCounts::default();

        let (organization, admin) = store
            .create_organization_with_owner(
                &Ctx::system(OrganizationId::new()),
                organization,
                NewUser {
                    email: Email::parse(admin_email)?,
                    username: None,
                    display_name: Name::parse("display_name", admin_name)?,
                    password_hash: admin_hash,
                    roles: vec![SystemRole::Owner.into()],
                },
            )
            .await?;
        // Everything else is the admin's doing, marked as the seed's in the audit log.
        let ctx = Ctx::new(organization.id, Actor::User(admin.id))
            .with_request_id(format!("seed-{}", profile.name()));
        store
            .create_user(
                &ctx,
                NewUser {
                    email: Email::parse(developer_email)?,
                    username: None,
                    display_name: Name::parse("display_name", developer_name)?,
                    password_hash: developer_hash,
                    roles: vec![SystemRole::Developer.into()],
                },
            )
            .await?;
        counts.organizations = 1;
        counts.users = 2;
        self.step("users");

        let mut agents = Vec::with_capacity(size.agents);
        for spec in AGENTS.iter().take(size.agents) {
            let agent = store
                .create_agent(
                    &ctx,
                    NewAgent {
                        capabilities: Capabilities::parse(spec.capabilities)?,
                        status: spec.status,
                        model: spec.model.map(ModelName::parse).transpose()?,
                        config: Metadata::parse("config", json!({"seeded": true}))?,
                        ..NewAgent::named(Name::parse("name", spec.name)?, spec.kind)
                    },
                )
                .await?;
            agents.push((agent.id, spec));
        }
        counts.agents = agents.len() as u64;
        self.step("agents");
        // The active agents do the work; the profiles seed at least two.
        let workers: Vec<_> = agents
            .iter()
            .filter(|(_, spec)| spec.status == AgentStatus::Active)
            .collect();

        let mut projects = Vec::with_capacity(size.projects);
        let mut all_tasks = Vec::new();
        for (name, description) in PROJECTS.iter().take(size.projects) {
            let project = store
                .create_project(
                    &ctx,
                    NewProject {
                        name: Name::parse("name", name)?,
                        description: Description::parse("description", description)?,
                        repository_url: None,
                        tags: Tags::parse(&["seed"])?,
                        settings: Metadata::default(),
                    },
                )
                .await?;
            counts.projects += 1;
            let mut tasks: Vec<TaskId> = Vec::with_capacity(size.tasks_per_project);
            for (index, title) in TASKS.iter().take(size.tasks_per_project).enumerate() {
                let (_, worker) = workers[index % workers.len()];
                let depends_on = match index {
                    0 => Default::default(),
                    _ => [tasks[(index - 1) / 2]].into(),
                };
                counts.task_dependencies += u64::from(index > 0);
                let task = store
                    .create_task(
                        &ctx,
                        NewTask {
                            priority: Priority::parse(10 - index as i64)?,
                            required_capabilities: Capabilities::parse(&worker.capabilities[..1])?,
                            estimated_minutes: None,
                            depends_on,
                            ..NewTask::titled(project.id, Title::parse(title)?)
                        },
                    )
                    .await?;
                tasks.push(task.id);
            }
            counts.tasks += tasks.len() as u64;
            // The first tasks, root first, are claimed by the agent they need and done.
            for (index, task) in tasks.iter().enumerate().take(size.done_per_project) {
                let (worker, _) = workers[index % workers.len()];
                self.finish(&ctx, *task, *worker).await?;
                counts.tasks_done += 1;
            }
            all_tasks.extend(tasks);
            projects.push(project.id);
        }
        self.step("projects and tasks");

        self.write_workflow(&ctx, projects[0], &mut counts).await?;
        self.step("workflow");
        self.write_templates(&ctx, &mut counts).await?;
        self.step("templates");

        for (title, content, tags) in KNOWLEDGE.iter().take(size.knowledge_entries) {
            store
                .create_knowledge_entry(
                    &ctx,
                    NewKnowledgeEntry {
                        tags: Tags::parse(tags)?,
                        project_id: Some(projects[0]),
                        ..NewKnowledgeEntry::new(
                            EntryTitle::parse(title)?,
                            EntryContent::parse(content)?,
                        )
                    },
                )
                .await?;
            counts.knowledge_entries += 1;
        }
        self.step("knowledge");

        let thread = ThreadId::new();
        for (index, text) in MESSAGES.iter().take(size.messages).enumerate() {
            let (from, _) = agents[index % agents.len()];
            let (to, _) = agents[(index + 1) % agents.len()];
            let message = NewMessage::new(
                Participant::from(from),
                Participant::from(to),
                MessageContent::parse(text)?,
            )?
            .with_thread(Some(thread))
            .with_task(all_tasks.get(index % all_tasks.len().max(1)).copied());
            store.send_message(&ctx, message).await?;
            counts.messages += 1;
        }
        self.step("messages");

        self.write_metrics(&ctx, size.metric_samples, &mut counts)
            .await?;
        self.step("metrics");
        Ok((organization.id, counts))
    }

    async fn finish(&self, ctx: &Ctx, task: TaskId, agent: AgentId) -> Result<(), RepoError> {
        let claimed = self
            .store
            .claim_task(ctx, task, agent, LeaseDuration::default())
            .await?;
        self.store
            .complete_task(
                ctx,
                task,
                claimed.lease_token,
                Some(Payload::parse(json!({"outcome": "done"}))?),
            )
            .await?;
        Ok(())
    }

    async fn write_workflow(
        &self,
        ctx: &Ctx,
        project: ProjectId,
        counts: &mut SeedCounts,
    ) -> Result<(), RepoError> {
        let store = self.store;
        let workflow = store
            .create_workflow(
                ctx,
                NewWorkflow {
                    name: Name::parse("name", "Release")?,
                    description: Description::parse(
                        "description",
                        "Build, test and ship a release.",
                    )?,
                },
            )
            .await?;
        store
            .create_version(
                ctx,
                workflow.id,
                WorkflowDefinition::parse(json!({"steps": [
                    {"name": "build"},
                    {"name": "test", "depends_on": ["build"]},
                    {"name": "ship", "depends_on": ["test"]}
                ]}))?,
            )
            .await?;
        store
            .create_execution(
                ctx,
                NewWorkflowExecution {
                    workflow_id: workflow.id,
                    version: Some(1),
                    project_id: project,
                    input: Payload::parse(json!({"release": "1.0.0"}))?,
                    priority: Priority::default(),
                },
            )
            .await?;
        counts.workflows = 1;
        counts.workflow_versions = 1;
        counts.workflow_executions = 1;
        Ok(())
    }

    async fn write_templates(&self, ctx: &Ctx, counts: &mut SeedCounts) -> Result<(), RepoError> {
        let review_parameters = TemplateParameters::from_json(json!([
            {"name": "repo", "required": true},
            {"name": "priority", "default": 5}
        ]))?;
        let review = NewTemplate {
            name: Name::parse("name", "Code review")?,
            description: Description::parse("description", "Review a repository, then merge.")?,
            kind: TemplateKind::Task,
            body: TemplateBody::parse(
                TemplateKind::Task,
                &review_parameters,
                json!({"tasks": [
                    {"title": "Review {{repo}}", "priority": "{{priority}}",
                     "required_capabilities": ["review"]},
                    {"title": "Merge {{repo}}", "payload": {"repo": "{{repo}}"}}
                ]}),
            )?,
            parameters: review_parameters,
        };
        let pipeline_parameters = TemplateParameters::from_json(json!([{"name": "target"}]))?;
        let pipeline = NewTemplate {
            name: Name::parse("name", "Deployment pipeline")?,
            description: Description::parse("description", "Build, then deploy.")?,
            kind: TemplateKind::Workflow,
            body: TemplateBody::parse(
                TemplateKind::Workflow,
                &pipeline_parameters,
                json!({"steps": [
                    {"name": "build"},
                    {"name": "deploy", "depends_on": ["build"]}
                ]}),
            )?,
            parameters: pipeline_parameters,
        };
        for template in [review, pipeline] {
            self.store.create_template(ctx, template).await?;
            counts.templates += 1;
        }
        Ok(())
    }

    async fn write_metrics(
        &self,
        ctx: &Ctx,
        samples: usize,
        counts: &mut SeedCounts,
    ) -> Result<(), RepoError> {
        let component = self
            .store
            .create_component(
                ctx,
                NewComponent::named(
                    Name::parse("name", "Orchestrator")?,
                    ComponentKind::parse("orchestrator")?,
                ),
            )
            .await?;
        counts.components = 1;
        // A minute apart, ending now; the values follow a fixed saw-tooth.
        let now = Utc::now();
        let minutes = i64::try_from(samples).unwrap_or(i64::MAX);
        let records = (0..samples)
            .map(|index| {
                let (name, value) = match index % 2 {
                    0 => ("queue.depth", (index * 7 % 13) as f64),
                    _ => ("task.duration_ms", 120.0 + (index * 37 % 90) as f64),
                };
                Ok(NewMetricSample {
                    component_id: component.id,
                    name: MetricName::parse(name)?,
                    value: Measure::parse("value", value)?,
                    unit: None,
                    tags: Default::default(),
                    recorded_at: Some(now - Duration::minutes(minutes - index as i64)),
                })
            })
            .collect::<Result<Vec<_>, RepoError>>()?;
        counts.metric_samples = self
            .store
            .record_metrics(ctx, Records::parse("samples", records)?)
            .await?;
        Ok(())
    }
}
