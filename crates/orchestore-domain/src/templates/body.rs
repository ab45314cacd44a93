use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::placeholder;
use crate::workflows::{STEP_KEYS, json_within};
use crate::{
    Capabilities, Description, DomainError, Metadata, NewTask, Payload, Priority, ProjectId,
    TemplateKind, TemplateParameters, Title, WorkflowDefinition,
};

/// A template's body: JSON with `{{name}}` placeholders in its strings.
///
/// Checked when parsed: at most 4 MiB, no U+0000, every placeholder a declared parameter, and
/// the shape of its kind. A field whose value holds a placeholder can only be checked once
/// filled in, so [`crate::Template::instantiate`] checks the result again in full; fields without
/// placeholders are checked up front (for a workflow body, the whole definition is checked up
/// front when it has no placeholder at all, otherwise only its outline).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TemplateBody(Value);

/// The keys a task of a task body may have: those of a new task, less its project.
const TASK_KEYS: [&str; 6] = [
    "title",
    "description",
    "priority",
    "required_capabilities",
    "payload",
    "metadata",
];

impl TemplateBody {
    pub const MAX_BYTES: usize = 4 * 1024 * 1024;
    pub const MAX_TASKS: usize = 1000;

    /// Parses a body for a template of `kind` declaring `parameters`.
    pub fn parse(
        kind: TemplateKind,
        parameters: &TemplateParameters,
        raw: Value,
    ) -> Result<Self, DomainError> {
        if !json_within(&raw, Self::MAX_BYTES) {
            return Err(DomainError::invalid(
                "body",
                format!("must be at most {} bytes of JSON", Self::MAX_BYTES),
            ));
        }
        if super::json_has_nul(&raw) {
            return Err(DomainError::invalid(
                "body",
                "must not contain the NUL character (U+0000)",
            ));
        }
        let body = Self(raw);
        body.check_parameters(parameters)?;
        match kind {
            TemplateKind::Task => {
                check_task_body(&body.0).map_err(|reason| DomainError::invalid("body", reason))?;
            }
            TemplateKind::Workflow => check_workflow_body(&body.0)?,
        }
        Ok(body)
    }

    pub fn as_value(&self) -> &Value {
        &self.0
    }

    pub fn into_value(self) -> Value {
        self.0
    }

    /// The names of the placeholders the body uses.
    pub fn placeholders(&self) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        placeholder::collect(&self.0, &mut names);
        names
    }

    /// Checks that every placeholder is one of `parameters` (as after a patch that changes the
    /// parameters but not the body).
    pub fn check_parameters(&self, parameters: &TemplateParameters) -> Result<(), DomainError> {
        match self
            .placeholders()
            .into_iter()
            .find(|name| parameters.get(name).is_none())
        {
            None => Ok(()),
            Some(name) => Err(DomainError::invalid(
                "body",
                format!(
                    "placeholder {{{{{name}}}}} is not a declared parameter (declared: {})",
                    none_if_empty(&parameters.names())
                ),
            )),
        }
    }
}

pub(super) fn none_if_empty(names: &str) -> &str {
    if names.is_empty() { "none" } else { names }
}

/// One task a task template makes: the fields of a [`NewTask`] but its project, which the
/// caller of the template chooses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskSpec {
    pub title: Title,
    pub description: Description,
    pub priority: Priority,
    pub payload: Payload,
    pub required_capabilities: Capabilities,
    pub metadata: Metadata,
}

impl TaskSpec {
    pub fn into_new_task(self, project_id: ProjectId) -> NewTask {
        let mut task = NewTask::titled(project_id, self.title);
        task.description = self.description;
        task.priority = self.priority;
        task.payload = self.payload;
        task.required_capabilities = self.required_capabilities;
        task.metadata = self.metadata;
        task
    }
}

/// The task objects of a task body, after checking the outline: `{"tasks": [ … ]}`, 1 to
/// 1000 objects with known keys and a title. An error is a reason naming the place.
fn task_list(body: &Value) -> Result<&[Value], String> {
    let Value::Object(top) = body else {
        return Err("must be a JSON object".to_owned());
    };
    if let Some(key) = top.keys().find(|key| key.as_str() != "tasks") {
        return Err(format!("unknown key {key:?} (allowed: tasks)"));
    }
    let Some(Value::Array(tasks)) = top.get("tasks") else {
        return Err("tasks: must be a list of tasks".to_owned());
    };
    if tasks.is_empty() || tasks.len() > TemplateBody::MAX_TASKS {
        return Err(format!(
            "tasks: must hold 1 to {} tasks, got {}",
            TemplateBody::MAX_TASKS,
            tasks.len()
        ));
    }
    for (index, task) in tasks.iter().enumerate() {
        let Value::Object(fields) = task else {
            return Err(format!("tasks[{index}]: must be a JSON object"));
        };
        if let Some(key) = fields.keys().find(|key| !TASK_KEYS.contains(&key.as_str())) {
            return Err(format!(
                "tasks[{index}]: unknown key {key:?} (allowed: {})",
                TASK_KEYS.join(", ")
            ));
        }
        if !fields.contains_key("title") {
            return Err(format!("tasks[{index}].title: is required"));
        }
    }
    Ok(tasks)
}

/// The creation-time check of a task body: the outline, then every field without a
/// placeholder.
fn check_task_body(body: &Value) -> Result<(), String> {
    for (index, task) in task_list(body)?.iter().enumerate() {
        for (key, value) in task.as_object().into_iter().flatten() {
            if !placeholder::any_in(value) {
                check_task_field(key, value).map_err(|error| format!("tasks[{index}].{error}"))?;
            }
        }
    }
    Ok(())
}

/// The tasks of a filled-in task body, every field checked.
pub(super) fn task_specs(body: &Value) -> Result<Vec<TaskSpec>, String> {
    task_list(body)?
        .iter()
        .enumerate()
        .map(|(index, task)| {
            let empty = Map::new();
            let fields = task.as_object().unwrap_or(&empty);
            task_spec(fields).map_err(|error| format!("tasks[{index}].{error}"))
        })
        .collect()
}

fn task_spec(fields: &Map<String, Value>) -> Result<TaskSpec, DomainError> {
    // `null` stands for "not given" everywhere but the title.
    let given = |key: &str| fields.get(key).filter(|value| !value.is_null());
    Ok(TaskSpec {
        title: title(fields.get("title").unwrap_or(&Value::Null))?,
        description: given("description").map_or_else(|| Ok(Description::empty()), description)?,
        priority: given("priority").map_or_else(|| Ok(Priority::default()), priority)?,
        payload: given("payload").map_or_else(|| Ok(Payload::default()), payload)?,
        required_capabilities: given("required_capabilities")
            .map_or_else(|| Ok(Capabilities::default()), capabilities)?,
        metadata: given("metadata").map_or_else(|| Ok(Metadata::default()), metadata)?,
    })
}

fn check_task_field(key: &str, value: &Value) -> Result<(), DomainError> {
    if value.is_null() && key != "title" {
        return Ok(());
    }
    match key {
        "title" => title(value).map(drop),
        "description" => description(value).map(drop),
        "priority" => priority(value).map(drop),
        "payload" => payload(value).map(drop),
        "required_capabilities" => capabilities(value).map(drop),
        "metadata" => metadata(value).map(drop),
        _ => Ok(()),
    }
}

fn title(value: &Value) -> Result<Title, DomainError> {
    match value {
        Value::String(text) => Title::parse(text),
        _ => Err(DomainError::invalid("title", "must be a string")),
    }
}

fn description(value: &Value) -> Result<Description, DomainError> {
    match value {
        Value::String(text) => Description::parse("description", text),
        _ => Err(DomainError::invalid("description", "must be a string")),
    }
}

fn priority(value: &Value) -> Result<Priority, DomainError> {
    value
        .as_i64()
        .ok_or_else(|| DomainError::invalid("priority", "must be a whole number"))
        .and_then(Priority::parse)
}

fn payload(value: &Value) -> Result<Payload, DomainError> {
    Payload::parse(value.clone())
}

fn capabilities(value: &Value) -> Result<Capabilities, DomainError> {
    let not_strings = || DomainError::invalid("required_capabilities", "must be a list of strings");
    let items = value.as_array().ok_or_else(not_strings)?;
    let names = items
        .iter()
        .map(|item| item.as_str().ok_or_else(not_strings))
        .collect::<Result<Vec<_>, _>>()?;
    Capabilities::parse(&names)
}

fn metadata(value: &Value) -> Result<Metadata, DomainError> {
    Metadata::parse("metadata", value.clone())
}

/// The creation-time check of a workflow body: the whole definition when it holds no
/// placeholder, otherwise its outline (known keys, 1 to 1000 step objects).
fn check_workflow_body(body: &Value) -> Result<(), DomainError> {
    let invalid = |reason: String| DomainError::invalid("body", reason);
    if !placeholder::any_in(body) {
        return WorkflowDefinition::parse(body.clone())
            .map(drop)
            .map_err(|error| invalid(super::reason(error)));
    }
    let Value::Object(top) = body else {
        return Err(invalid("must be a JSON object".to_owned()));
    };
    if let Some(key) = top.keys().find(|key| key.as_str() != "steps") {
        return Err(invalid(format!("unknown key {key:?} (allowed: steps)")));
    }
    let Some(Value::Array(steps)) = top.get("steps") else {
        return Err(invalid("steps: must be a list of steps".to_owned()));
    };
    if steps.is_empty() || steps.len() > WorkflowDefinition::MAX_STEPS {
        return Err(invalid(format!(
            "steps: must hold 1 to {} steps, got {}",
            WorkflowDefinition::MAX_STEPS,
            steps.len()
        )));
    }
    for (index, step) in steps.iter().enumerate() {
        let Value::Object(fields) = step else {
            return Err(invalid(format!("steps[{index}]: must be a JSON object")));
        };
        if let Some(key) = fields.keys().find(|key| !STEP_KEYS.contains(&key.as_str())) {
            return Err(invalid(format!(
                "steps[{index}]: unknown key {key:?} (allowed: {})",
                STEP_KEYS.join(", ")
            )));
        }
    }
    Ok(())
}
