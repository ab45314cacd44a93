//! `orchestore import taskmaster`: a Taskmaster `tasks.json` (either layout) imported into a
//! project, in one transaction, updated in place when imported again. See
//! `docs/taskmaster.md` for the mapping and the re-import rules.
//!
//! [`file`] reads the file, [`plan`] maps it onto a [`TaskImport`], and
//! [`TaskRepo::import_tasks`](orchestore_repo::TaskRepo::import_tasks) writes it; [`run`] does
//! the lot for the binary and answers the JSON report it prints.

pub mod file;
pub mod plan;

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use orchestore_domain::{
    ImportAction, ImportReport, Metadata, Name, OrganizationId, Priority, Slug,
};
use orchestore_repo::{Ctx, OrganizationRepo, RepoError, Store};
use orchestore_sea::{DbConfig, SeaStore};
use serde_json::{Value, json};

use crate::Settings;
use file::TasksFile;
use plan::{Listed, PlanInput, Planned};

/// Why an import did not happen. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum TaskmasterError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    /// The file (or the config) is not JSON.
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// The JSON is not shaped as Taskmaster writes it.
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
    /// A task the import cannot take: a dependency that points nowhere, a cycle, a bad value.
    #[error("{location}: {message}")]
    Invalid { location: String, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("database: {0}")]
    Database(#[from] RepoError),
}

impl TaskmasterError {
    /// The same error, said of file `path`.
    fn in_file(self, path: &Path) -> Self {
        let file = path.display();
        match self {
            Self::Syntax {
                line,
                column,
                message,
            } => Self::Syntax {
                line,
                column,
                message: format!("{file}: {message}"),
            },
            Self::Shape {
                path: json_path,
                message,
            } => Self::Shape {
                path: format!("{file}: {json_path}"),
                message,
            },
            Self::Invalid { location, message } => Self::Invalid {
                location: format!("{file}: {location}"),
                message,
            },
            other => other,
        }
    }
}

/// `orchestore import taskmaster`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct TaskmasterArgs {
    /// The tasks file: `.taskmaster/tasks/tasks.json`, or `tasks/tasks.json` in older projects.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The organization to import into, by slug or id; the bootstrap organization by default.
    #[arg(long, value_name = "SLUG|ID")]
    pub organization: Option<String>,
    /// The project, found by name or created; by default the config's `global.projectName`,
    /// else the name of the project's directory.
    #[arg(long, value_name = "NAME")]
    pub project: Option<String>,
    /// Only this tag (every tag by default).
    #[arg(long, value_name = "TAG")]
    pub tag: Option<String>,
    /// Report what the import would do and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// How many directories up from the file's a config is looked for.
const CONFIG_LEVELS: usize = 4;

/// The Taskmaster config of the project `file` belongs to: `.taskmaster/config.json` or the
/// legacy `.taskmasterconfig`, in the file's directory or one of its parents (a few levels).
pub fn find_config(file: &Path) -> Option<PathBuf> {
    let start = file.parent()?;
    start.ancestors().take(CONFIG_LEVELS).find_map(|dir| {
        [
            dir.join(".taskmaster").join("config.json"),
            dir.join(".taskmasterconfig"),
        ]
        .into_iter()
        .find(|candidate| candidate.is_file())
    })
}

/// The directory of the project `file` belongs to: the config's project root when there is a
/// config, else the first directory above `tasks/` and `.taskmaster/`.
fn project_root(file: &Path, config: Option<&Path>) -> Option<PathBuf> {
    if let Some(config) = config {
        let dir = config.parent()?;
        return Some(if dir.file_name().is_some_and(|n| n == ".taskmaster") {
            dir.parent()?.to_path_buf()
        } else {
            dir.to_path_buf()
        });
    }
    let mut dir = file.parent()?;
    while dir
        .file_name()
        .is_some_and(|n| n == "tasks" || n == ".taskmaster")
    {
        dir = dir.parent()?;
    }
    Some(dir.to_path_buf())
}

fn read(path: &Path) -> Result<String, TaskmasterError> {
    std::fs::read_to_string(path).map_err(|e| TaskmasterError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The organization `given` names (a slug or an id), else the bootstrap organization.
async fn organization(
    store: &SeaStore,
    given: Option<&str>,
    bootstrap: &str,
) -> Result<OrganizationId, TaskmasterError> {
    let given = given.unwrap_or(bootstrap);
    if let Ok(id) = given.parse::<OrganizationId>() {
        return match store.get_organization(&Ctx::system(id)).await {
            Ok(org) => Ok(org.id),
            Err(RepoError::NotFound { .. }) => Err(TaskmasterError::Usage(format!(
                "no organization has the id {id}"
            ))),
            Err(other) => Err(other.into()),
        };
    }
    let slug = Slug::parse("organization", given)
        .map_err(|e| TaskmasterError::Usage(format!("--organization: {e}")))?;
    match store.find_organization_by_slug(&slug).await? {
        Some(org) => Ok(org.id),
        None => Err(TaskmasterError::Usage(format!(
            "no organization has the slug {slug}"
        ))),
    }
}

/// A progress bar on stderr when it is a terminal, else nothing.
fn progress(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} tasks") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs `orchestore import taskmaster` against the database of `settings`; answers the JSON
/// report (pretty-printed, with a final newline).
pub async fn run(settings: &Settings, args: TaskmasterArgs) -> Result<String, TaskmasterError> {
    let text = read(&args.file)?;
    let tasks_file = file::parse(&text).map_err(|e| e.in_file(&args.file))?;
    let config_path = find_config(&args.file);
    let config = match &config_path {
        Some(path) => {
            let text = read(path)?;
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                TaskmasterError::Syntax {
                    line: e.line(),
                    column: e.column(),
                    message: e.to_string(),
                }
                .in_file(path)
            })?;
            Some(value)
        }
        None => None,
    };

    let store = SeaStore::connect(&DbConfig {
        max_connections: 1,
        min_connections: 1,
        ..settings.database.clone()
    })
    .await?;
    if store.migration_status().await?.iter().any(|m| !m.applied) {
        return Err(TaskmasterError::Usage(
            "the database has pending migrations: run `orchestore migrate up` first".to_owned(),
        ));
    }
    let org = organization(
        &store,
        args.organization.as_deref(),
        &settings.bootstrap.organization,
    )
    .await?;
    let report = import(
        &store,
        org,
        &args,
        &tasks_file,
        config.as_ref(),
        config_path,
    )
    .await?;
    serde_json::to_string_pretty(&report)
        .map(|text| text + "\n")
        .map_err(|e| TaskmasterError::Usage(format!("writing the report: {e}")))
}

/// Imports `tasks_file` into organization `org` as `system`, and answers the report.
pub async fn import(
    store: &dyn Store,
    org: OrganizationId,
    args: &TaskmasterArgs,
    tasks_file: &TasksFile,
    config: Option<&Value>,
    config_path: Option<PathBuf>,
) -> Result<Value, TaskmasterError> {
    let tags: Vec<_> = match &args.tag {
        None => tasks_file.tags.clone(),
        Some(tag) => {
            let Some(found) = tasks_file.tags.iter().find(|t| &t.name == tag) else {
                let names: Vec<&str> = tasks_file.tags.iter().map(|t| t.name.as_str()).collect();
                return Err(TaskmasterError::Usage(format!(
                    "the file has no tag {tag:?} (it has {})",
                    names.join(", ")
                )));
            };
            vec![found.clone()]
        }
    };
    let global = config.and_then(|c| c.get("global"));
    let project = match (&args.project, global.and_then(|g| g.get("projectName"))) {
        (Some(name), _) => name.clone(),
        (None, Some(Value::String(name))) if !name.trim().is_empty() => name.clone(),
        _ => project_root(&args.file, config_path.as_deref())
            .and_then(|root| {
                std::fs::canonicalize(&root)
                    .ok()
                    .and_then(|r| r.file_name().map(|n| n.to_string_lossy().into_owned()))
            })
            .ok_or_else(|| {
                TaskmasterError::Usage(
                    "no project name: the config has no global.projectName and the file's \
                     directory has no name; give --project NAME"
                        .to_owned(),
                )
            })?,
    };
    let project = Name::parse("project", &project)
        .map_err(|e| TaskmasterError::Usage(format!("--project: {e}")))?;
    let default_priority = global
        .and_then(|g| g.get("defaultPriority"))
        .and_then(Value::as_str)
        .and_then(plan::map_priority)
        .map(Priority::parse)
        .transpose()
        .map_err(|e| TaskmasterError::Usage(format!("defaultPriority: {e}")))?
        .unwrap_or_default();
    let settings: Metadata = plan::settings(&tags, config)?;

    let count: usize = tags
        .iter()
        .map(|t| {
            t.tasks
                .iter()
                .map(|task| 1 + task.subtasks.len())
                .sum::<usize>()
        })
        .sum();
    let bar = progress(count as u64);
    bar.set_message("planning");
    let planned = plan::plan(PlanInput {
        project,
        settings,
        default_priority,
        tags: &tags,
        dry_run: args.dry_run,
        progress: &|| bar.inc(1),
    })
    .map_err(|e| e.in_file(&args.file))?;
    bar.set_message(if args.dry_run { "checking" } else { "writing" });
    bar.enable_steady_tick(Duration::from_millis(100));
    let Planned { import, listed } = planned;
    let project_name = import.project.clone();
    let result = store.import_tasks(&Ctx::system(org), import).await;
    bar.finish_and_clear();
    let report = result?;
    Ok(render(
        args,
        tasks_file,
        config_path.as_deref(),
        org,
        project_name.as_str(),
        &tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
        &listed,
        &report,
    ))
}

/// The JSON report: the project, and per tag what was created, updated, left unchanged,
/// skipped (with the reason) and found missing.
#[allow(clippy::too_many_arguments)]
fn render(
    args: &TaskmasterArgs,
    tasks_file: &TasksFile,
    config: Option<&Path>,
    org: OrganizationId,
    project: &str,
    tags: &[String],
    listed: &[Listed],
    report: &ImportReport,
) -> Value {
    let mut per_tag: BTreeMap<&str, BTreeMap<&str, Vec<Value>>> = tags
        .iter()
        .map(|tag| {
            let lists = ["created", "updated", "unchanged", "skipped", "missing"]
                .into_iter()
                .map(|kind| (kind, Vec::new()))
                .collect();
            (tag.as_str(), lists)
        })
        .collect();
    for (task, outcome) in listed.iter().zip(&report.tasks) {
        let mut entry = json!({
            "id": task.id,
            "task_id": outcome.task_id,
            "status": outcome.status,
        });
        let kind = match &outcome.action {
            ImportAction::Created => "created",
            ImportAction::Updated => "updated",
            ImportAction::Unchanged => "unchanged",
            ImportAction::Skipped { reason } => {
                entry["reason"] = json!(reason);
                "skipped"
            }
        };
        if let Some(lists) = per_tag.get_mut(task.tag.as_str()) {
            lists.entry(kind).or_default().push(entry);
        }
    }
    for missing in &report.missing {
        for tag in tags {
            let scope = plan::scope(tag);
            if let Some(id) = missing.key.as_str().strip_prefix(&scope)
                && let Some(lists) = per_tag.get_mut(tag.as_str())
            {
                lists.entry("missing").or_default().push(json!({
                    "id": id,
                    "task_id": missing.task_id,
                    "status": missing.status,
                }));
            }
        }
    }
    let tags_json: serde_json::Map<String, Value> = per_tag
        .into_iter()
        .map(|(tag, lists)| {
            let counts: serde_json::Map<String, Value> = lists
                .iter()
                .map(|(kind, items)| ((*kind).to_owned(), json!(items.len())))
                .collect();
            let mut object = serde_json::Map::new();
            object.insert("counts".into(), Value::Object(counts));
            for (kind, items) in lists {
                object.insert(kind.to_owned(), Value::Array(items));
            }
            (tag.to_owned(), Value::Object(object))
        })
        .collect();
    json!({
        "file": args.file.display().to_string(),
        "layout": tasks_file.layout.as_str(),
        "config": config.map(|c| c.display().to_string()),
        "ignored": tasks_file.ignored,
        "dry_run": report.dry_run,
        "organization_id": org,
        "actor": "system",
        "project": {
            "id": report.project_id,
            "name": project,
            "created": report.project_created,
            "settings_updated": report.settings_updated,
        },
        "tags": tags_json,
    })
}
