//! `orchestore seed` and `orchestore seed clean`: an organization of sample data per profile,
//! written through the repositories (validation, audit rows and history as through the API),
//! and its removal.
//!
//! Each profile owns one organization, `seed-<profile>`, created with everything in it in one
//! transaction that ends by recording the key of every row the organization then holds
//! (`seed_records`). A second run finds the organization by its slug and changes nothing.
//! `seed clean` removes the organization only when every row in it is one the seed recorded,
//! or trail that follows them (audit rows, sessions, task history); a row someone else added
//! keeps it, and the command names that row.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use orchestore_domain::{
    AgentId, AgentKind, AgentStatus, Capabilities, ComponentKind, Description, Email, EntryContent,
    EntryTitle, LeaseDuration, Measure, MessageContent, Metadata, MetricName, ModelName, Name,
    NewAgent, NewComponent, NewKnowledgeEntry, NewMessage, NewMetricSample, NewOrganization,
    NewProject, NewTask, NewTemplate, NewUser, NewWorkflow, NewWorkflowExecution, OrganizationId,
    Participant, Password, PasswordHash, Payload, Priority, ProjectId, Records, Slug, SystemRole,
    Tags, TaskId, TemplateBody, TemplateKind, TemplateParameters, ThreadId, Title,
    WorkflowDefinition,
};
use orchestore_repo::{
    Actor, AgentRepo, ComponentRepo, Ctx, KnowledgeRepo, MessageRepo, MetricRepo, OrganizationRepo,
    ProjectRepo, QueueRepo, RepoError, TaskRepo, TemplateRepo, UserRepo, WorkflowRepo,
};
use orchestore_sea::{DbConfig, SeaStore, SeedInventory, SeedState};
use serde::Serialize;
use serde_json::json;

use crate::Settings;
use crate::startup::generated_password;

/// The environment variables that choose the seeded users' passwords.
pub const ADMIN_PASSWORD_ENV: &str = "ORCHESTORE_SEED_ADMIN_PASSWORD";
pub const DEVELOPER_PASSWORD_ENV: &str = "ORCHESTORE_SEED_DEVELOPER_PASSWORD";

/// How many foreign rows `seed clean` names before it says how many more there are.
const FOREIGN_ROWS_SHOWN: usize = 20;

/// What `orchestore seed` is asked.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SeedArgs {
    #[command(subcommand)]
    action: Option<SeedAction>,
    #[command(flatten)]
    seed: SeedOptions,
}

#[derive(Debug, clap::Subcommand)]
enum SeedAction {
    /// Remove what the seed of a profile created; prints what it would remove unless
    /// --confirm is given (and then exits with status 1).
    Clean(CleanOptions),
}

#[derive(Debug, clap::Args)]
struct SeedOptions {
    #[arg(long, value_enum, default_value_t = SeedProfile::Development)]
    profile: SeedProfile,
    /// The admin's password (the environment variable is preferred: a command line is
    /// visible to other users of the machine); generated and printed once when unset.
    #[arg(long, env = ADMIN_PASSWORD_ENV, hide_env_values = true, value_parser = parse_password)]
    admin_password: Option<Password>,
    /// The developer's password; generated and printed once when unset.
    #[arg(long, env = DEVELOPER_PASSWORD_ENV, hide_env_values = true, value_parser = parse_password)]
    developer_password: Option<Password>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct CleanOptions {
    #[arg(long, value_enum, default_value_t = SeedProfile::Development)]
    profile: SeedProfile,
    /// Remove it; without this, only print what would be removed.
    #[arg(long)]
    confirm: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_password(raw: &str) -> Result<Password, String> {
    Password::parse(raw).map_err(|e| e.to_string())
}

/// The kinds of seed: how much, and for what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeedProfile {
    /// Small and realistic, to develop against.
    Development,
    /// Larger, a story across every aggregate, to show.
    Demo,
    /// Minimal and always the same, for scripts.
    Testing,
}

impl SeedProfile {
    pub const fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Demo => "demo",
            Self::Testing => "testing",
        }
    }

    /// The slug of the organization the profile seeds.
    pub fn slug(self) -> String {
        format!("seed-{}", self.name())
    }

    fn size(self) -> Size {
        match self {
            Self::Testing => Size {
                agents: 2,
                projects: 1,
                tasks_per_project: 3,
                done_per_project: 1,
                knowledge_entries: 1,
                messages: 2,
                metric_samples: 3,
            },
            Self::Development => Size {
                agents: 3,
                projects: 1,
                tasks_per_project: 6,
                done_per_project: 2,
                knowledge_entries: 3,
                messages: 4,
                metric_samples: 12,
            },
            Self::Demo => Size {
                agents: AGENTS.len(),
                projects: PROJECTS.len(),
                tasks_per_project: TASKS.len(),
                done_per_project: 3,
                knowledge_entries: KNOWLEDGE.len(),
                messages: MESSAGES.len(),
                metric_samples: 48,
            },
        }
    }
}

/// How many of each kind a profile seeds (every list below is at least this long).
struct Size {
    agents: usize,
    projects: usize,
    tasks_per_project: usize,
    done_per_project: usize,
    knowledge_entries: usize,
    messages: usize,
    metric_samples: usize,
}

struct AgentSpec {
    name: &'static str,
    kind: AgentKind,
    capabilities: &'static [&'static str],
    status: AgentStatus,
    model: Option<&'static str>,
}

/// Active agents first: the seed's tasks are done by them.
const AGENTS: [AgentSpec; 6] = [
    AgentSpec {
        name: "Planner",
        kind: AgentKind::Ai,
        capabilities: &["planning", "analysis"],
        status: AgentStatus::Active,
        model: Some("claude-opus"),
    },
    AgentSpec {
        name: "Coder",
        kind: AgentKind::Ai,
        capabilities: &["coding", "rust"],
        status: AgentStatus::Active,
        model: Some("claude-sonnet"),
    },
    AgentSpec {
        name: "Reviewer",
        kind: AgentKind::Ai,
        capabilities: &["review", "testing"],
        status: AgentStatus::Active,
        model: Some("claude-sonnet"),
    },
    AgentSpec {
        name: "Deployer",
        kind: AgentKind::Bot,
        capabilities: &["deploy"],
        status: AgentStatus::Busy,
        model: None,
    },
    AgentSpec {
        name: "Archivist",
        kind: AgentKind::Bot,
        capabilities: &["documentation"],
        status: AgentStatus::Inactive,
        model: None,
    },
    AgentSpec {
        name: "Ada",
        kind: AgentKind::Human,
        capabilities: &["design", "review"],
        status: AgentStatus::Offline,
        model: None,
    },
];

const PROJECTS: [(&str, &str); 2] = [
    ("Apollo", "The landing-site survey service."),
    ("Gemini", "The telemetry pipeline."),
];

/// In order: task `i` waits for task `(i - 1) / 2`, so they form a tree that the seed walks
/// from the root to mark the first ones done.
const TASKS: [&str; 8] = [
    "Gather the requirements",
    "Design the schema",
    "Plan the milestones",
    "Implement the API",
    "Write the migrations",
    "Review the design",
    "Write the tests",
    "Write the documentation",
];

const KNOWLEDGE: [(&str, &str, &[&str]); 6] = [
    (
        "Coding conventions",
        "Parse input once at the edge into types that cannot hold bad values.",
        &["conventions", "rust"],
    ),
    (
        "Release checklist",
        "Run the migrations on a copy, verify the audit chain, then deploy.",
        &["release", "ops"],
    ),
    (
        "Review guide",
        "A review checks the tests first: they say what the change is for.",
        &["review"],
    ),
    (
        "Incident runbook",
        "Page the on-call, open a thread, and write the timeline as it happens.",
        &["ops", "incidents"],
    ),
    (
        "Glossary",
        "An execution is one run of a workflow version; each of its steps is a task.",
        &["workflows"],
    ),
    (
        "Onboarding",
        "New agents start with review tasks and a mentor.",
        &["agents"],
    ),
];

const MESSAGES: [&str; 10] = [
    "The requirements are in; can you start on the schema?",
    "On it. I will need the data retention rules.",
    "Retention is 30 days for events, forever for the audit log.",
    "Schema drafted, ready for review.",
    "Two comments on the indexes; otherwise good.",
    "Fixed both, please take another look.",
    "Approved. Deployer, staging is yours.",
    "Deploying to staging now.",
    "Staging is green.",
    "Documenting the release notes.",
];

/// What the seed created, by kind.
#[derive(Debug, Default, Serialize)]
pub struct SeedCounts {
    pub organizations: u64,
    pub users: u64,
    pub agents: u64,
    pub projects: u64,
    pub tasks: u64,
    pub task_dependencies: u64,
    pub tasks_done: u64,
    pub workflows: u64,
    pub workflow_versions: u64,
    pub workflow_executions: u64,
    pub templates: u64,
    pub knowledge_entries: u64,
    pub messages: u64,
    pub components: u64,
    pub metric_samples: u64,
}

impl SeedCounts {
    /// Every kind and its count, in the order the seed writes them.
    fn by_kind(&self) -> [(&'static str, u64); 15] {
        [
            ("organizations", self.organizations),
            ("users", self.users),
            ("agents", self.agents),
            ("projects", self.projects),
            ("tasks", self.tasks),
            ("task_dependencies", self.task_dependencies),
            ("tasks_done", self.tasks_done),
            ("workflows", self.workflows),
            ("workflow_versions", self.workflow_versions),
            ("workflow_executions", self.workflow_executions),
            ("templates", self.templates),
            ("knowledge_entries", self.knowledge_entries),
            ("messages", self.messages),
            ("components", self.components),
            ("metric_samples", self.metric_samples),
        ]
    }
}

/// A seeded user's login; the password only when it was generated (shown this once).
#[derive(Debug, Serialize)]
pub struct SeedLogin {
    pub role: &'static str,
    pub email: String,
    pub password: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database: {0}")]
    Database(#[from] RepoError),
    #[error("the database has pending migrations: run `orchestore migrate up` first")]
    PendingMigrations,
    #[error(
        "organization {slug} exists but was not created by `orchestore seed`: it is left alone"
    )]
    NotSeeded { slug: String },
    #[error("organization {slug} was seeded for profile {seeded}, not {asked}: it is left alone")]
    OtherProfile {
        slug: String,
        seeded: String,
        asked: &'static str,
    },
    #[error(
        "nothing removed: run `orchestore seed clean --profile {profile} --confirm` to remove it"
    )]
    Unconfirmed { profile: &'static str },
    #[error(
        "nothing removed: {count} row(s) in organization {slug} were not created by the seed \
         (listed above); remove them first, or keep the organization"
    )]
    ForeignRows { slug: String, count: usize },
    #[error("hashing a password: {0}")]
    Hashing(String),
    #[error("writing output: {0}")]
    Output(String),
}

/// Runs `orchestore seed …`, writing its summary to `out`.
pub async fn run(
    settings: &Settings,
    args: SeedArgs,
    out: &mut (dyn Write + Send),
) -> Result<(), SeedError> {
    let store = SeaStore::connect(&DbConfig {
        max_connections: 1,
        min_connections: 1,
        ..settings.database.clone()
    })
    .await?;
    if store
        .migration_status()
        .await?
        .iter()
        .any(|migration| !migration.applied)
    {
        return Err(SeedError::PendingMigrations);
    }
    match args.action {
        None => {
            let options = args.seed;
            let passwords = Passwords {
                admin: options.admin_password,
                developer: options.developer_password,
            };
            let outcome = seed(
                &store,
                options.profile,
                passwords,
                settings.auth.bcrypt_cost,
                progress_bar(),
            )
            .await?;
            write(out, &render_seed(&outcome, options.json))
        }
        Some(SeedAction::Clean(options)) => clean(&store, options, out).await,
    }
}

/// The seeded users' passwords, when chosen.
pub struct Passwords {
    pub admin: Option<Password>,
    pub developer: Option<Password>,
}

/// What a seed run did.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SeedOutcome {
    Created {
        profile: SeedProfile,
        organization_id: OrganizationId,
        slug: String,
        created: SeedCounts,
        /// Rows written, by table (audit rows and history included).
        rows: BTreeMap<String, u64>,
        logins: Vec<SeedLogin>,
    },
    AlreadySeeded {
        profile: SeedProfile,
        organization_id: OrganizationId,
        slug: String,
        seeded_at: DateTime<Utc>,
    },
}

/// Seeds `profile` unless it is seeded already (then nothing is written).
pub async fn seed(
    store: &SeaStore,
    profile: SeedProfile,
    passwords: Passwords,
    bcrypt_cost: u32,
    progress: ProgressBar,
) -> Result<SeedOutcome, SeedError> {
    let slug = profile.slug();
    let parsed_slug = Slug::parse("slug", &slug).map_err(RepoError::from)?;
    match store.seed_state(&parsed_slug).await? {
        SeedState::Absent => {}
        SeedState::Seeded {
            organization_id,
            profile: seeded,
            seeded_at,
        } => {
            if seeded != profile.name() {
                return Err(SeedError::OtherProfile {
                    slug,
                    seeded,
                    asked: profile.name(),
                });
            }
            return Ok(SeedOutcome::AlreadySeeded {
                profile,
                organization_id,
                slug,
                seeded_at,
            });
        }
        SeedState::NotSeeded { .. } => return Err(SeedError::NotSeeded { slug }),
    }

    let (admin_password, admin_generated) = chosen_or_generated(passwords.admin)?;
    let (developer_password, developer_generated) = chosen_or_generated(passwords.developer)?;
    let admin_hash = hash(&admin_password, bcrypt_cost).await?;
    let developer_hash = hash(&developer_password, bcrypt_cost).await?;
    let admin_email = format!("admin@{slug}.example");
    let developer_email = format!("developer@{slug}.example");

    let size = profile.size();
    progress.set_length(SECTIONS);
    let ((organization_id, created), rows) = store
        .seed_in_transaction(profile.name(), async |tx: &SeaStore| {
            let writer = Writer {
                store: tx,
                progress: &progress,
            };
            writer
                .write(
                    profile,
                    &size,
                    NewOrganization {
                        slug: parsed_slug.clone(),
                        name: Name::parse("name", &format!("Seed ({})", profile.name()))?,
                    },
                    [
                        (admin_email.as_str(), "Seed Admin", admin_hash.clone()),
                        (
                            developer_email.as_str(),
                            "Seed Developer",
                            developer_hash.clone(),
                        ),
                    ],
                )
                .await
        })
        .await?;
    progress.finish_and_clear();
    Ok(SeedOutcome::Created {
        profile,
        organization_id,
        slug,
        created,
        rows,
        logins: vec![
            SeedLogin {
                role: "admin",
                email: admin_email,
                password: admin_generated.then(|| admin_password.expose().to_owned()),
            },
            SeedLogin {
                role: "developer",
                email: developer_email,
                password: developer_generated.then(|| developer_password.expose().to_owned()),
            },
        ],
    })
}

fn chosen_or_generated(chosen: Option<Password>) -> Result<(Password, bool), SeedError> {
    match chosen {
        Some(password) => Ok((password, false)),
        None => Ok((
            Password::parse(&generated_password()).map_err(RepoError::from)?,
            true,
        )),
    }
}

async fn hash(password: &Password, cost: u32) -> Result<PasswordHash, SeedError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || PasswordHash::hash(&password, cost))
        .await
        .map_err(|e| SeedError::Hashing(e.to_string()))?
        .map_err(|e| SeedError::Hashing(e.to_string()))
}

/// A bar on standard error when it is a terminal; nothing otherwise.
fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(SECTIONS);
    if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// The steps the progress bar counts.
const SECTIONS: u64 = 9;

/// Writes one profile's data through the repositories of one transaction.
struct Writer<'a> {
    store: &'a SeaStore,
    progress: &'a ProgressBar,
}

impl Writer<'_> {
    fn step(&self, what: &'static str) {
        self.progress.set_message(what);
        self.progress.inc(1);
    }

    async fn write(
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

fn render_seed(outcome: &SeedOutcome, json: bool) -> String {
    if json {
        return to_json(outcome);
    }
    match outcome {
        SeedOutcome::AlreadySeeded {
            profile,
            organization_id,
            slug,
            seeded_at,
        } => format!(
            "already seeded: profile {} is organization {slug} ({organization_id}), seeded at \
             {}; nothing changed\n",
            profile.name(),
            seeded_at.to_rfc3339()
        ),
        SeedOutcome::Created {
            profile,
            organization_id,
            slug,
            created,
            rows,
            logins,
        } => {
            let mut text = format!(
                "seeded profile {}: organization {slug} ({organization_id})\n",
                profile.name()
            );
            for (kind, count) in created.by_kind() {
                text.push_str(&format!("  {kind:<20} {count}\n"));
            }
            text.push_str(&format!(
                "{} rows in {} tables, audit rows and history included\n",
                rows.values().sum::<u64>(),
                rows.len()
            ));
            text.push_str(&format!("log in to organization {slug} as:\n"));
            for login in logins {
                let password = match &login.password {
                    Some(password) => format!("password {password} (generated, shown once)"),
                    None => "with the password you chose".to_owned(),
                };
                text.push_str(&format!(
                    "  {:<10} {}  {password}\n",
                    login.role, login.email
                ));
            }
            text
        }
    }
}

/// What `seed clean` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum CleanStatus {
    /// The profile's organization does not exist.
    Absent,
    /// Not confirmed: what would go.
    WouldRemove,
    Removed,
    /// Rows someone else added are in it: nothing removed.
    Refused,
}

#[derive(Debug, Serialize)]
struct CleanReport<'a> {
    profile: SeedProfile,
    slug: &'a str,
    organization_id: Option<OrganizationId>,
    status: CleanStatus,
    seeded_rows: &'a BTreeMap<String, u64>,
    trail_rows: &'a BTreeMap<String, u64>,
    foreign_rows: Vec<ForeignRowReport<'a>>,
}

#[derive(Debug, Serialize)]
struct ForeignRowReport<'a> {
    table: &'a str,
    key: &'a str,
}

async fn clean(
    store: &SeaStore,
    options: CleanOptions,
    out: &mut (dyn Write + Send),
) -> Result<(), SeedError> {
    let profile = options.profile;
    let slug = profile.slug();
    let parsed_slug = Slug::parse("slug", &slug).map_err(RepoError::from)?;
    let report = |organization_id, status, inventory| Report {
        profile,
        slug: &slug,
        organization_id,
        status,
        inventory,
        json: options.json,
    };
    let organization_id = match store.seed_state(&parsed_slug).await? {
        SeedState::Absent => {
            let empty = SeedInventory::default();
            return write(out, &report(None, CleanStatus::Absent, &empty).render());
        }
        SeedState::NotSeeded { .. } => return Err(SeedError::NotSeeded { slug }),
        SeedState::Seeded {
            profile: seeded, ..
        } if seeded != profile.name() => {
            return Err(SeedError::OtherProfile {
                slug,
                seeded,
                asked: profile.name(),
            });
        }
        SeedState::Seeded {
            organization_id, ..
        } => organization_id,
    };
    let mut inventory = store.seed_inventory(organization_id).await?;
    if inventory.foreign.is_empty() && !options.confirm {
        write(
            out,
            &report(Some(organization_id), CleanStatus::WouldRemove, &inventory).render(),
        )?;
        return Err(SeedError::Unconfirmed {
            profile: profile.name(),
        });
    }
    if inventory.foreign.is_empty() {
        // Compared again inside the removal's transaction: a row added meanwhile refuses it.
        match store.remove_seeded_organization(organization_id).await {
            Ok(removed) => {
                return write(
                    out,
                    &report(Some(organization_id), CleanStatus::Removed, &removed).render(),
                );
            }
            Err(RepoError::Conflict { .. }) => {
                inventory = store.seed_inventory(organization_id).await?;
            }
            Err(err) => return Err(err.into()),
        }
    }
    write(
        out,
        &report(Some(organization_id), CleanStatus::Refused, &inventory).render(),
    )?;
    Err(SeedError::ForeignRows {
        slug: slug.clone(),
        count: inventory.foreign.len(),
    })
}

/// One `seed clean` outcome, as text or JSON.
struct Report<'a> {
    profile: SeedProfile,
    slug: &'a str,
    organization_id: Option<OrganizationId>,
    status: CleanStatus,
    inventory: &'a SeedInventory,
    json: bool,
}

impl Report<'_> {
    fn render(&self) -> String {
        let inventory = self.inventory;
        if self.json {
            let report = CleanReport {
                profile: self.profile,
                slug: self.slug,
                organization_id: self.organization_id,
                status: self.status,
                seeded_rows: &inventory.seeded,
                trail_rows: &inventory.trail,
                foreign_rows: inventory
                    .foreign
                    .iter()
                    .map(|row| ForeignRowReport {
                        table: &row.table,
                        key: &row.key,
                    })
                    .collect(),
            };
            return to_json(&report);
        }
        let slug = self.slug;
        let Some(organization_id) = self.organization_id else {
            return format!(
                "nothing to clean: no organization {slug} (profile {} is not seeded)\n",
                self.profile.name()
            );
        };
        let mut text = match self.status {
            CleanStatus::Removed => format!("removed organization {slug} ({organization_id}):\n"),
            CleanStatus::WouldRemove => {
                format!("would remove organization {slug} ({organization_id}):\n")
            }
            CleanStatus::Absent | CleanStatus::Refused => format!(
                "keeping organization {slug} ({organization_id}): it holds rows the seed did \
                 not create\n"
            ),
        };
        text.push_str(&format!(
            "  {} seeded rows: {}\n",
            inventory.seeded_rows(),
            by_table(&inventory.seeded)
        ));
        text.push_str(&format!(
            "  {} rows of their trail added since: {}\n",
            inventory.trail_rows(),
            by_table(&inventory.trail)
        ));
        if !inventory.foreign.is_empty() {
            text.push_str(&format!(
                "  {} rows not created by the seed:\n",
                inventory.foreign.len()
            ));
            for row in inventory.foreign.iter().take(FOREIGN_ROWS_SHOWN) {
                text.push_str(&format!("    {} {}\n", row.table, row.key));
            }
            if inventory.foreign.len() > FOREIGN_ROWS_SHOWN {
                text.push_str(&format!(
                    "    … and {} more\n",
                    inventory.foreign.len() - FOREIGN_ROWS_SHOWN
                ));
            }
        }
        text
    }
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value)
        .map_or_else(|e| format!("{{\"error\": \"{e}\"}}\n"), |text| text + "\n")
}

fn by_table(rows: &BTreeMap<String, u64>) -> String {
    if rows.is_empty() {
        return "none".to_owned();
    }
    rows.iter()
        .map(|(table, count)| format!("{table} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write(out: &mut (dyn Write + Send), text: &str) -> Result<(), SeedError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| SeedError::Output(e.to_string()))
}
