//! Reading a Taskmaster `tasks.json` in either layout: the legacy `{"tasks": [...]}` and the
//! tagged `{"<tag>": {"tasks": [...], "metadata": {...}}}` (Taskmaster 0.17 and later).
//!
//! The file is read as JSON first (a syntax error names its line and column), then walked by
//! hand, so that every fault names its JSON path and every field this reader does not know is
//! kept, to be stored in the task's metadata.

use serde_json::{Map, Value};

use super::TaskmasterError;

/// The tag a legacy file's tasks belong to: Taskmaster's default tag.
pub const LEGACY_TAG: &str = "master";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Legacy,
    Tagged,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "legacy",
            Self::Tagged => "tagged",
        }
    }
}

/// A task or a subtask as the file has it.
#[derive(Debug, Clone)]
pub struct FileTask {
    /// Its id: a number's decimal digits or a string's trimmed text (a subtask's `P.S` id
    /// loses its `P.`).
    pub id: String,
    pub title: String,
    pub description: String,
    /// `pending` when the file has none.
    pub status: String,
    pub priority: Option<String>,
    /// Each with its JSON path.
    pub dependencies: Vec<(Dependency, String)>,
    /// `details`, `testStrategy` and every field this reader does not know, as the file has
    /// them.
    pub kept: Map<String, Value>,
    pub subtasks: Vec<FileTask>,
    /// Where it is in the file: `$.master.tasks[2]`.
    pub path: String,
}

/// One entry of a task's `dependencies`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// A number, or a string without a dot: a task id (for a subtask, a sibling's first).
    Id(String),
    /// `"P.S"`: subtask `S` of task `P`.
    Subtask(String, String),
}

#[derive(Debug, Clone)]
pub struct FileTag {
    pub name: String,
    pub tasks: Vec<FileTask>,
    /// The tag's `metadata` (`created`, `updated`, `description`) and any other field beside
    /// `tasks`.
    pub metadata: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct TasksFile {
    pub layout: Layout,
    /// In the file's order of keys (sorted by name).
    pub tags: Vec<FileTag>,
    /// Top-level keys of a tagged file that hold no task list, left alone.
    pub ignored: Vec<String>,
}

/// A fault at a JSON path.
fn at(path: &str, message: impl Into<String>) -> TaskmasterError {
    TaskmasterError::Shape {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Object keys in JSON paths: plain when they are identifiers, quoted otherwise.
fn member(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_owned()))
    }
}

/// Parses the text of a `tasks.json`.
pub fn parse(text: &str) -> Result<TasksFile, TaskmasterError> {
    let root: Value = serde_json::from_str(text).map_err(|e| TaskmasterError::Syntax {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Object(root) = root else {
        return Err(at(
            "$",
            format!(
                "expected an object ({{\"tasks\": [...]}} or {{\"<tag>\": {{\"tasks\": [...]}}}}), \
                 got {}",
                kind(&root)
            ),
        ));
    };
    if let Some(tasks) = root.get("tasks")
        && tasks.is_array()
    {
        let mut metadata = Map::new();
        for (key, value) in &root {
            if key != "tasks" {
                metadata.insert(key.clone(), value.clone());
            }
        }
        let tasks = task_list(tasks, "$.tasks")?;
        return Ok(TasksFile {
            layout: Layout::Legacy,
            tags: vec![FileTag {
                name: LEGACY_TAG.to_owned(),
                tasks,
                metadata: flatten_metadata(metadata),
            }],
            ignored: Vec::new(),
        });
    }
    let mut tags = Vec::new();
    let mut ignored = Vec::new();
    for (name, value) in &root {
        let path = member("$", name);
        let Some(object) = value.as_object().filter(|o| o.contains_key("tasks")) else {
            ignored.push(path);
            continue;
        };
        let tasks = task_list(&object["tasks"], &member(&path, "tasks"))?;
        let mut metadata = Map::new();
        for (key, value) in object {
            if key != "tasks" {
                metadata.insert(key.clone(), value.clone());
            }
        }
        tags.push(FileTag {
            name: name.clone(),
            tasks,
            metadata: flatten_metadata(metadata),
        });
    }
    if tags.is_empty() {
        return Err(at(
            "$",
            "no task list: expected {\"tasks\": [...]} or {\"<tag>\": {\"tasks\": [...]}}",
        ));
    }
    Ok(TasksFile {
        layout: Layout::Tagged,
        tags,
        ignored,
    })
}

/// A tag's fields beside `tasks`, with the members of its `metadata` object brought up.
fn flatten_metadata(mut fields: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(inner)) = fields.remove("metadata") {
        for (key, value) in inner {
            fields.entry(key).or_insert(value);
        }
    }
    fields
}

fn task_list(value: &Value, path: &str) -> Result<Vec<FileTask>, TaskmasterError> {
    let Value::Array(items) = value else {
        return Err(at(
            path,
            format!("expected an array of tasks, got {}", kind(value)),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| task(item, &format!("{path}[{i}]"), None))
        .collect()
}

/// An id: a non-negative integer, or a non-empty string.
fn id_text(value: &Value, path: &str) -> Result<String, TaskmasterError> {
    match value {
        Value::Number(n) => match n.as_u64() {
            Some(n) => Ok(n.to_string()),
            None => Err(at(path, format!("expected a whole number, got {n}"))),
        },
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        other => Err(at(
            path,
            format!("expected a number or a string, got {}", kind(other)),
        )),
    }
}

/// An optional text field: missing or `null` is `None`.
fn optional_text(
    object: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<String>, TaskmasterError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(at(
            &member(path, key),
            format!("expected a string, got {}", kind(other)),
        )),
    }
}

/// A task (`parent` is `None`) or a subtask of the task with id `parent`.
fn task(value: &Value, path: &str, parent: Option<&str>) -> Result<FileTask, TaskmasterError> {
    let Value::Object(object) = value else {
        return Err(at(
            path,
            format!("expected a task object, got {}", kind(value)),
        ));
    };
    let Some(raw_id) = object.get("id") else {
        return Err(at(path, "the task has no id"));
    };
    let mut id = id_text(raw_id, &member(path, "id"))?;
    if let Some(parent) = parent
        && let Some(short) = id.strip_prefix(&format!("{parent}."))
    {
        id = short.to_owned();
    }
    if id.contains(':') || id.contains('.') {
        return Err(at(
            &member(path, "id"),
            format!("{id:?}: an id holds neither ':' nor '.'"),
        ));
    }
    let title =
        optional_text(object, "title", path)?.ok_or_else(|| at(path, "the task has no title"))?;
    let description = optional_text(object, "description", path)?.unwrap_or_default();
    let status = optional_text(object, "status", path)?.unwrap_or_else(|| "pending".to_owned());
    let priority = optional_text(object, "priority", path)?;
    let mut dependencies = Vec::new();
    let dependencies_path = member(path, "dependencies");
    match object.get("dependencies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = format!("{dependencies_path}[{i}]");
                let text = id_text(item, &item_path)?;
                let dependency = match text.split_once('.') {
                    None => Dependency::Id(text),
                    Some((task, sub)) if !task.is_empty() && !sub.is_empty() => {
                        Dependency::Subtask(task.to_owned(), sub.to_owned())
                    }
                    Some(_) => {
                        return Err(at(
                            &item_path,
                            format!("{text:?} is neither a task id nor \"task.subtask\""),
                        ));
                    }
                };
                dependencies.push((dependency, item_path));
            }
        }
        Some(other) => {
            return Err(at(
                &dependencies_path,
                format!("expected an array of ids, got {}", kind(other)),
            ));
        }
    }
    let mut subtasks = Vec::new();
    if parent.is_none() {
        let subtasks_path = member(path, "subtasks");
        match object.get("subtasks") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    subtasks.push(task(item, &format!("{subtasks_path}[{i}]"), Some(&id))?);
                }
            }
            Some(other) => {
                return Err(at(
                    &subtasks_path,
                    format!("expected an array of subtasks, got {}", kind(other)),
                ));
            }
        }
    }
    const READ: [&str; 7] = [
        "id",
        "title",
        "description",
        "status",
        "priority",
        "dependencies",
        "subtasks",
    ];
    let kept = object
        .iter()
        .filter(|(key, _)| {
            !READ.contains(&key.as_str()) || (parent.is_some() && *key == "subtasks")
        })
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Ok(FileTask {
        id,
        title,
        description,
        status,
        priority,
        dependencies,
        kept,
        subtasks,
        path: path.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEGACY: &str = r#"{
      "tasks": [
        {"id": 1, "title": "Set up", "description": "d", "status": "done", "priority": "high",
         "dependencies": [], "details": "how", "testStrategy": "check", "owner": "ada",
         "subtasks": [
           {"id": 1, "title": "Repo", "status": "done", "dependencies": []},
           {"id": "1.2", "title": "CI", "status": "pending", "dependencies": [1, "1.1"]}
         ]},
        {"id": "2", "title": "Build", "dependencies": [1, "1.2"]}
      ],
      "metadata": {"projectName": "old"}
    }"#;

    #[test]
    fn the_legacy_layout_is_the_master_tag() {
        let file = parse(LEGACY).expect("parse");
        assert_eq!(file.layout, Layout::Legacy);
        assert_eq!(file.tags.len(), 1);
        let tag = &file.tags[0];
        assert_eq!(tag.name, "master");
        assert_eq!(tag.metadata["projectName"], "old");
        let first = &tag.tasks[0];
        assert_eq!((first.id.as_str(), first.status.as_str()), ("1", "done"));
        assert_eq!(first.kept["details"], "how");
        assert_eq!(first.kept["testStrategy"], "check");
        assert_eq!(first.kept["owner"], "ada");
        assert_eq!(first.subtasks[1].id, "2");
        assert_eq!(
            first.subtasks[1].dependencies[1],
            (
                Dependency::Subtask("1".into(), "1".into()),
                "$.tasks[0].subtasks[1].dependencies[1]".into()
            )
        );
        let second = &tag.tasks[1];
        assert_eq!(
            (second.id.as_str(), second.status.as_str()),
            ("2", "pending")
        );
        assert_eq!(second.dependencies[0].0, Dependency::Id("1".into()));
    }

    #[test]
    fn the_tagged_layout_has_a_list_per_tag() {
        let text = r#"{
          "master": {"tasks": [{"id": 1, "title": "A"}],
                     "metadata": {"created": "2025-01-01T00:00:00Z", "description": "main"}},
          "feature-x": {"tasks": []},
          "notes": "not a tag"
        }"#;
        let file = parse(text).expect("parse");
        assert_eq!(file.layout, Layout::Tagged);
        let names: Vec<&str> = file.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, vec!["feature-x", "master"]);
        assert_eq!(file.tags[1].metadata["description"], "main");
        assert_eq!(file.ignored, vec!["$.notes".to_owned()]);
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column() {
        let err = parse("{\n  \"tasks\": [\n    {\"id\": 1,}\n  ]\n}").unwrap_err();
        match err {
            TaskmasterError::Syntax { line, column, .. } => assert!(line == 3 && column > 0),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_shape_names_its_path() {
        let shape = |text: &str| match parse(text).unwrap_err() {
            TaskmasterError::Shape { path, message } => (path, message),
            other => panic!("expected a shape error, got {other:?}"),
        };
        assert_eq!(shape("[]").0, "$");
        assert_eq!(shape(r#"{"x": 1}"#).0, "$");
        assert_eq!(
            shape(r#"{"tasks": [{"id": 1, "title": 5}]}"#).0,
            "$.tasks[0].title"
        );
        assert_eq!(shape(r#"{"tasks": [{"title": "t"}]}"#).0, "$.tasks[0]");
        assert_eq!(
            shape(r#"{"master": {"tasks": [{"id": 1, "title": "t", "dependencies": [-1]}]}}"#).0,
            "$.master.tasks[0].dependencies[0]"
        );
        assert_eq!(
            shape(r#"{"my tag": {"tasks": {"id": 1}}}"#).0,
            "$[\"my tag\"].tasks"
        );
        let (path, message) =
            shape(r#"{"tasks": [{"id": 1, "title": "t", "dependencies": ["1."]}]}"#);
        assert_eq!(path, "$.tasks[0].dependencies[0]");
        assert!(message.contains("task.subtask"), "{message}");
    }
}
