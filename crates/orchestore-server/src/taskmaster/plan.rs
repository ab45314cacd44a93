//! Turning a parsed `tasks.json` into a [`TaskImport`]: the status and priority mapping, the
//! dependencies resolved to tasks of the same tag, and the checks that name a fault's place in
//! the file (tag, task id, JSON path).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use orchestore_domain::{
    Description, DomainError, ExternalKey, ImportedStatus, ImportedTask, Metadata, Name, Priority,
    Tags, TaskImport, Title, find_cycle,
};
use serde_json::{Map, Value, json};

use super::TaskmasterError;
use super::file::{Dependency, FileTag, FileTask};

/// The source named in the tasks' history: `imported from taskmaster`.
pub const SOURCE: &str = "taskmaster";

/// Taskmaster's status → the status the task is imported in. Unknown statuses are held.
pub fn map_status(status: &str) -> ImportedStatus {
    match status.trim().to_ascii_lowercase().as_str() {
        "pending" | "in-progress" | "review" => ImportedStatus::Open,
        "done" => ImportedStatus::Succeeded,
        "cancelled" => ImportedStatus::Cancelled,
        _ => ImportedStatus::Held,
    }
}

/// Taskmaster's priority → Orchestore's (higher runs first; `medium` is the default, 0).
pub fn map_priority(priority: &str) -> Option<i64> {
    match priority.trim().to_ascii_lowercase().as_str() {
        "high" => Some(10),
        "medium" => Some(0),
        "low" => Some(-10),
        _ => None,
    }
}

/// A tag's name inside a key, with `%` and `:` escaped so that no tag's keys start with
/// another tag's prefix.
fn escape_tag(tag: &str) -> String {
    tag.replace('%', "%25").replace(':', "%3A")
}

/// The prefix of the keys of `tag`'s tasks: `taskmaster:<tag>:`.
pub fn scope(tag: &str) -> String {
    format!("{SOURCE}:{}:", escape_tag(tag))
}

/// A task of the import, as the report names it: its tag and its Taskmaster id (`3` or `3.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub tag: String,
    pub id: String,
}

/// An import, with each of its tasks' tag and id in the same order.
#[derive(Debug)]
pub struct Planned {
    pub import: TaskImport,
    pub listed: Vec<Listed>,
}

/// What the plan needs besides the tags.
pub struct PlanInput<'a> {
    pub project: Name,
    /// The project's settings from the tags' metadata and the config file.
    pub settings: Metadata,
    /// The config's `global.defaultPriority`, mapped; `medium` when none.
    pub default_priority: Priority,
    pub tags: &'a [FileTag],
    pub dry_run: bool,
    /// Called once per task planned (the progress bar).
    pub progress: &'a dyn Fn(),
}

/// A fault of a task: its place in the file.
fn fault(tag: &str, id: &str, path: &str, message: impl Into<String>) -> TaskmasterError {
    TaskmasterError::Invalid {
        location: format!("tag {tag}, task {id} ({path})"),
        message: message.into(),
    }
}

fn domain(tag: &str, id: &str, path: &str) -> impl Fn(DomainError) -> TaskmasterError {
    move |e| fault(tag, id, path, e.to_string())
}

pub fn plan(input: PlanInput<'_>) -> Result<Planned, TaskmasterError> {
    let mut tasks: Vec<ImportedTask> = Vec::new();
    let mut listed: Vec<Listed> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    for tag in input.tags {
        plan_tag(tag, &input, &mut tasks, &mut listed, &mut paths)?;
    }
    if tasks.is_empty() {
        return Err(TaskmasterError::Usage(
            "the file lists no task in the tags imported".to_owned(),
        ));
    }
    // A cycle, named by its tasks and the place of the first one's dependencies.
    let edges = tasks
        .iter()
        .enumerate()
        .flat_map(|(i, t)| t.depends_on.iter().map(move |&d| (i, d)));
    if let Some(cycle) = find_cycle(0..tasks.len(), edges) {
        let first = cycle[0];
        let names: Vec<String> = cycle.iter().map(|&i| listed[i].id.clone()).collect();
        return Err(fault(
            &listed[first].tag,
            &listed[first].id,
            &format!("{}.dependencies", paths[first]),
            format!("a dependency cycle: {}", names.join(" → ")),
        ));
    }
    let import = TaskImport {
        source: SOURCE.to_owned(),
        project: input.project,
        settings: input.settings,
        tasks,
        scopes: input.tags.iter().map(|t| scope(&t.name)).collect(),
        dry_run: input.dry_run,
    };
    // Anything the checks above let through is still refused by the store's own check.
    import
        .check()
        .map_err(|e| TaskmasterError::Usage(e.to_string()))?;
    Ok(Planned { import, listed })
}

/// Adds the tasks of `tag`, each followed by its subtasks, to the import.
fn plan_tag(
    tag: &FileTag,
    input: &PlanInput<'_>,
    tasks: &mut Vec<ImportedTask>,
    listed: &mut Vec<Listed>,
    paths: &mut Vec<String>,
) -> Result<(), TaskmasterError> {
    let name = tag.name.as_str();
    // Positions of the tag's tasks by id, and of its subtasks by (task id, subtask id).
    let mut top: HashMap<&str, usize> = HashMap::new();
    let mut sub: HashMap<(&str, &str), usize> = HashMap::new();
    let mut next = tasks.len();
    for task in &tag.tasks {
        if top.insert(task.id.as_str(), next).is_some() {
            return Err(fault(
                name,
                &task.id,
                &format!("{}.id", task.path),
                "another task of the tag has this id",
            ));
        }
        next += 1;
        for subtask in &task.subtasks {
            if sub
                .insert((task.id.as_str(), subtask.id.as_str()), next)
                .is_some()
            {
                return Err(fault(
                    name,
                    &format!("{}.{}", task.id, subtask.id),
                    &format!("{}.id", subtask.path),
                    "another subtask of the task has this id",
                ));
            }
            next += 1;
        }
    }
    let tag_tag = Tags::parse(&[format!("{SOURCE}:{name}")]).unwrap_or_default();

    for task in &tag.tasks {
        let position = tasks.len();
        let priority = match task.priority.as_deref().and_then(map_priority) {
            Some(p) => Priority::parse(p).map_err(domain(name, &task.id, &task.path))?,
            None => input.default_priority,
        };
        let depends_on = resolve(name, task, None, &top, &sub)?;
        tasks.push(imported(
            name, task, &task.id, None, priority, depends_on, &tag_tag,
        )?);
        listed.push(Listed {
            tag: name.to_owned(),
            id: task.id.clone(),
        });
        paths.push(task.path.clone());
        (input.progress)();
        for subtask in &task.subtasks {
            let id = format!("{}.{}", task.id, subtask.id);
            let priority = match subtask.priority.as_deref().and_then(map_priority) {
                Some(p) => Priority::parse(p).map_err(domain(name, &id, &subtask.path))?,
                None => priority,
            };
            let depends_on = resolve(name, subtask, Some(&task.id), &top, &sub)?;
            tasks.push(imported(
                name,
                subtask,
                &id,
                Some(position),
                priority,
                depends_on,
                &tag_tag,
            )?);
            listed.push(Listed {
                tag: name.to_owned(),
                id,
            });
            paths.push(subtask.path.clone());
            (input.progress)();
        }
    }
    Ok(())
}

/// The positions `task` depends on. A subtask's plain id names a sibling subtask other than
/// itself, or else a task of the tag; `"P.S"` names subtask `S` of task `P`.
fn resolve(
    tag: &str,
    task: &FileTask,
    parent: Option<&str>,
    top: &HashMap<&str, usize>,
    sub: &HashMap<(&str, &str), usize>,
) -> Result<BTreeSet<usize>, TaskmasterError> {
    let own = match parent {
        Some(parent) => sub.get(&(parent, task.id.as_str())),
        None => top.get(task.id.as_str()),
    }
    .copied();
    let id = match parent {
        Some(parent) => format!("{parent}.{}", task.id),
        None => task.id.clone(),
    };
    let mut found = BTreeSet::new();
    for (dependency, path) in &task.dependencies {
        let position = match dependency {
            Dependency::Id(dep) => parent
                .and_then(|p| sub.get(&(p, dep.as_str())))
                .filter(|&&p| Some(p) != own)
                .or_else(|| top.get(dep.as_str()))
                .or_else(|| parent.and_then(|p| sub.get(&(p, dep.as_str())))),
            Dependency::Subtask(t, s) => sub.get(&(t.as_str(), s.as_str())),
        };
        let named = match dependency {
            Dependency::Id(dep) => dep.clone(),
            Dependency::Subtask(t, s) => format!("{t}.{s}"),
        };
        match position {
            None => {
                return Err(fault(
                    tag,
                    &id,
                    path,
                    format!("depends on {named}, which the tag does not have"),
                ));
            }
            Some(&p) if Some(p) == own => {
                return Err(fault(tag, &id, path, "the task depends on itself"));
            }
            Some(&p) => {
                found.insert(p);
            }
        }
    }
    Ok(found)
}

/// The import's task for `task` of `tag`: its Taskmaster fields (status, priority, the raw
/// dependencies, `details`, `testStrategy` and any unknown field) kept in its metadata under
/// `taskmaster`.
fn imported(
    tag: &str,
    task: &FileTask,
    id: &str,
    parent: Option<usize>,
    priority: Priority,
    depends_on: BTreeSet<usize>,
    tags: &Tags,
) -> Result<ImportedTask, TaskmasterError> {
    let at = domain(tag, id, &task.path);
    let mut kept = Map::new();
    kept.insert("tag".into(), json!(tag));
    kept.insert("id".into(), json!(id));
    kept.insert("status".into(), json!(task.status));
    if let Some(priority) = &task.priority {
        kept.insert("priority".into(), json!(priority));
    }
    let raw: Vec<Value> = task
        .dependencies
        .iter()
        .map(|(d, _)| match d {
            Dependency::Id(id) => json!(id),
            Dependency::Subtask(t, s) => json!(format!("{t}.{s}")),
        })
        .collect();
    kept.insert("dependencies".into(), Value::Array(raw));
    for (key, value) in &task.kept {
        kept.insert(key.clone(), value.clone());
    }
    let metadata =
        Metadata::parse("metadata", json!({ SOURCE: Value::Object(kept) })).map_err(&at)?;
    Ok(ImportedTask {
        key: ExternalKey::parse(&format!("{}{id}", scope(tag))).map_err(&at)?,
        title: Title::parse(&task.title).map_err(&at)?,
        description: Description::parse("description", &task.description).map_err(&at)?,
        status: map_status(&task.status),
        priority,
        metadata,
        tags: tags.clone(),
        parent,
        depends_on,
    })
}

/// The project settings an import sets: `taskmaster.tags.<tag>` the tags' metadata and
/// `taskmaster.config` the config file (its secrets left out), merged into the project's.
pub fn settings(tags: &[FileTag], config: Option<&Value>) -> Result<Metadata, TaskmasterError> {
    let tag_metadata: BTreeMap<&str, &Map<String, Value>> = tags
        .iter()
        .map(|t| (t.name.as_str(), &t.metadata))
        .collect();
    let mut taskmaster = Map::new();
    taskmaster.insert("tags".into(), json!(tag_metadata));
    if let Some(config) = config {
        taskmaster.insert("config".into(), without_secrets(config));
    }
    Metadata::parse("settings", json!({ SOURCE: Value::Object(taskmaster) })).map_err(|e| {
        TaskmasterError::Usage(format!(
            "the project settings from the tags and the config: {e}"
        ))
    })
}

/// `value` without the members whose names say they hold a secret.
fn without_secrets(value: &Value) -> Value {
    const SECRET: [&str; 6] = ["key", "secret", "token", "password", "pass", "credential"];
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(name, _)| {
                    let name = name.to_ascii_lowercase();
                    !SECRET.iter().any(|s| name.contains(s))
                })
                .map(|(name, v)| (name.clone(), without_secrets(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_secrets).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskmaster::file::parse;

    fn planned(text: &str) -> Result<Planned, TaskmasterError> {
        let file = parse(text).expect("parse");
        plan(PlanInput {
            project: Name::parse("name", "p").expect("name"),
            settings: Metadata::default(),
            default_priority: Priority::default(),
            tags: &file.tags,
            dry_run: false,
            progress: &|| {},
        })
    }

    fn invalid(text: &str) -> (String, String) {
        match planned(text).unwrap_err() {
            TaskmasterError::Invalid { location, message } => (location, message),
            other => panic!("expected an invalid task, got {other:?}"),
        }
    }

    #[test]
    fn statuses_and_priorities_map() {
        use ImportedStatus::*;
        for (status, mapped) in [
            ("pending", Open),
            ("in-progress", Open),
            ("review", Open),
            ("done", Succeeded),
            ("cancelled", Cancelled),
            ("deferred", Held),
            ("blocked", Held),
            ("someday", Held),
            ("DONE", Succeeded),
        ] {
            assert_eq!(map_status(status), mapped, "{status}");
        }
        assert_eq!(map_priority("high"), Some(10));
        assert_eq!(map_priority("medium"), Some(0));
        assert_eq!(map_priority("low"), Some(-10));
        assert_eq!(map_priority("urgent"), None);
    }

    #[test]
    fn subtasks_follow_their_task_and_dependencies_resolve() {
        let planned = planned(
            r#"{"master": {"tasks": [
              {"id": 1, "title": "A", "status": "done", "priority": "low",
               "subtasks": [{"id": 1, "title": "A1"}, {"id": 2, "title": "A2", "dependencies": [1]}]},
              {"id": 2, "title": "B", "dependencies": [1, "1.2"], "details": "d",
               "testStrategy": "t", "estimate": 3,
               "subtasks": [{"id": 1, "title": "B1", "dependencies": [1]}]}
            ]}}"#,
        )
        .expect("plan");
        let ids: Vec<&str> = planned.listed.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, vec!["1", "1.1", "1.2", "2", "2.1"]);
        let tasks = &planned.import.tasks;
        assert_eq!(tasks[1].parent, Some(0));
        assert_eq!(tasks[4].parent, Some(3));
        // 1.2 waits for its sibling 1.1; 2 for 1 and 1.2; 2.1's "1" is not itself but task 1.
        assert_eq!(tasks[2].depends_on, [1].into());
        assert_eq!(tasks[3].depends_on, [0, 2].into());
        assert_eq!(tasks[4].depends_on, [0].into());
        assert_eq!(tasks[0].status, ImportedStatus::Succeeded);
        assert_eq!(tasks[0].priority.get(), -10);
        assert_eq!(
            tasks[1].priority.get(),
            -10,
            "a subtask takes its task's priority"
        );
        assert_eq!(tasks[3].key.as_str(), "taskmaster:master:2");
        let kept = &tasks[3].metadata.to_value()["taskmaster"];
        assert_eq!(kept["details"], "d");
        assert_eq!(kept["testStrategy"], "t");
        assert_eq!(kept["estimate"], 3);
        assert_eq!(kept["dependencies"], json!(["1", "1.2"]));
        assert_eq!(kept["status"], "pending");
        assert_eq!(planned.import.scopes, vec!["taskmaster:master:".to_owned()]);
    }

    #[test]
    fn a_dependency_that_points_nowhere_is_located() {
        let (location, message) =
            invalid(r#"{"master": {"tasks": [{"id": 1, "title": "A", "dependencies": [9]}]}}"#);
        assert_eq!(
            location,
            "tag master, task 1 ($.master.tasks[0].dependencies[0])"
        );
        assert!(message.contains("depends on 9"), "{message}");
        let (location, _) = invalid(
            r#"{"tasks": [{"id": 1, "title": "A", "subtasks": [
                {"id": 1, "title": "A1", "dependencies": ["1.7"]}]}]}"#,
        );
        assert_eq!(
            location,
            "tag master, task 1.1 ($.tasks[0].subtasks[0].dependencies[0])"
        );
    }

    #[test]
    fn cycles_self_dependencies_and_duplicate_ids_are_located() {
        let (location, message) = invalid(
            r#"{"tasks": [{"id": 1, "title": "A", "dependencies": [2]},
                         {"id": 2, "title": "B", "dependencies": [1]}]}"#,
        );
        assert_eq!(location, "tag master, task 1 ($.tasks[0].dependencies)");
        assert_eq!(message, "a dependency cycle: 1 → 2 → 1");
        let (_, message) = invalid(r#"{"tasks": [{"id": 1, "title": "A", "dependencies": [1]}]}"#);
        assert!(message.contains("itself"), "{message}");
        let (location, _) =
            invalid(r#"{"tasks": [{"id": 1, "title": "A"}, {"id": 1, "title": "B"}]}"#);
        assert_eq!(location, "tag master, task 1 ($.tasks[1].id)");
        let (location, message) = invalid(r#"{"tasks": [{"id": 1, "title": "  "}]}"#);
        assert_eq!(location, "tag master, task 1 ($.tasks[0])");
        assert!(message.contains("title"), "{message}");
    }

    #[test]
    fn settings_keep_the_tags_and_the_config_without_secrets() {
        let file = parse(r#"{"master": {"tasks": [], "metadata": {"description": "main"}}}"#)
            .expect("parse");
        let config = json!({"global": {"projectName": "x", "apiKey": "s3cret"},
                            "models": {"main": {"modelId": "m"}}});
        let settings = settings(&file.tags, Some(&config)).expect("settings");
        let value = settings.to_value();
        assert_eq!(value["taskmaster"]["tags"]["master"]["description"], "main");
        assert_eq!(
            value["taskmaster"]["config"]["global"],
            json!({"projectName": "x"})
        );
        assert_eq!(
            value["taskmaster"]["config"]["models"]["main"]["modelId"],
            "m"
        );
    }

    #[test]
    fn tags_are_escaped_in_keys() {
        assert_eq!(scope("a:b%"), "taskmaster:a%3Ab%25:");
        assert!(!scope("a:b").starts_with(&scope("a")));
    }
}
