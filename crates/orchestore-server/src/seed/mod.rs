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

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use orchestore_domain::{Name, NewOrganization, OrganizationId, Password, PasswordHash, Slug};
use orchestore_repo::RepoError;
use orchestore_sea::{DbConfig, SeaStore, SeedState};
use serde::Serialize;

use crate::Settings;
use crate::startup::generated_password;

mod clean;
mod profiles;
mod writer;

pub use profiles::SeedProfile;
use writer::{SECTIONS, Writer};

/// The environment variables that choose the seeded users' passwords.
pub const ADMIN_PASSWORD_ENV: &str = "ORCHESTORE_SEED_ADMIN_PASSWORD";
pub const DEVELOPER_PASSWORD_ENV: &str = "ORCHESTORE_SEED_DEVELOPER_PASSWORD";
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
        Some(SeedAction::Clean(options)) => clean::clean(&store, options, out).await,
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
fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value)
        .map_or_else(|e| format!("{{\"error\": \"{e}\"}}\n"), |text| text + "\n")
}

fn write(out: &mut (dyn Write + Send), text: &str) -> Result<(), SeedError> {
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| SeedError::Output(e.to_string()))
}
