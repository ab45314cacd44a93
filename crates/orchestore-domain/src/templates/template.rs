use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::body::{self, none_if_empty};
use super::placeholder::{self, Fill};
use crate::{
    Description, DomainError, Metadata, Name, OrganizationId, Revision, TaskSpec, TemplateBody,
    TemplateId, TemplateKind, TemplateParameters, TemplateUsageId, WorkflowDefinition,
    WorkflowVersionRef,
};

/// A stored template. Names are unique within an organization. `usage_count` counts the
/// [`TemplateUsage`] rows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Template {
    pub id: TemplateId,
    pub organization_id: OrganizationId,
    pub name: Name,
    pub description: Description,
    pub kind: TemplateKind,
    pub parameters: TemplateParameters,
    pub body: TemplateBody,
    pub usage_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

/// The wire form of a [`Template`]: its body is read through [`TemplateBody::parse`] with the
/// template's kind and parameters, which alone say what a valid body is.
#[derive(Deserialize)]
struct RawTemplate {
    id: TemplateId,
    organization_id: OrganizationId,
    name: Name,
    description: Description,
    kind: TemplateKind,
    parameters: TemplateParameters,
    body: Value,
    usage_count: u64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    revision: Revision,
}

deserialize_by_parse!(Template, RawTemplate, |raw| {
    Ok(Template {
        body: TemplateBody::parse(raw.kind, &raw.parameters, raw.body)?,
        id: raw.id,
        organization_id: raw.organization_id,
        name: raw.name,
        description: raw.description,
        kind: raw.kind,
        parameters: raw.parameters,
        usage_count: raw.usage_count,
        created_at: raw.created_at,
        updated_at: raw.updated_at,
        revision: raw.revision,
    })
});

/// What instantiating a template gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Instantiated {
    /// From a `task` template: the tasks to create, in order.
    Tasks(Vec<TaskSpec>),
    /// From a `workflow` template: the definition of a new workflow version.
    Workflow(WorkflowDefinition),
}

impl Template {
    /// Fills the body in with `arguments` and checks the result.
    ///
    /// An argument that is not a declared parameter is refused, as is a missing required one
    /// with no default. A string that is exactly `{{p}}` becomes the argument's JSON value as
    /// it is (a number stays a number); a placeholder within longer text becomes the
    /// argument's text (a string as it is, `null` as nothing, anything else as compact JSON).
    /// Errors name the field `arguments`, since the body itself was checked when stored.
    pub fn instantiate(&self, arguments: &Map<String, Value>) -> Result<Instantiated, DomainError> {
        if let Some(name) = arguments
            .keys()
            .find(|name| self.parameters.get(name).is_none())
        {
            return Err(DomainError::invalid(
                "arguments",
                format!(
                    "unknown parameter {name:?} (declared: {})",
                    none_if_empty(&self.parameters.names())
                ),
            ));
        }
        let mut fills = HashMap::new();
        for parameter in self.parameters.iter() {
            let name = parameter.name.as_str();
            let value = match arguments.get(name).or(parameter.default.as_ref()) {
                Some(value) => value.clone(),
                None if parameter.required => {
                    return Err(DomainError::invalid(
                        "arguments",
                        format!("missing required parameter {name:?}"),
                    ));
                }
                None => Value::Null,
            };
            fills.insert(name, Fill::new(value));
        }
        let mut budget = TemplateBody::MAX_BYTES;
        let filled = placeholder::fill(self.body.as_value(), &fills, &mut budget)?;
        match self.kind {
            TemplateKind::Task => {
                body::task_specs(&filled)
                    .map(Instantiated::Tasks)
                    .map_err(|reason| {
                        DomainError::invalid(
                            "arguments",
                            format!("the tasks made are invalid: {reason}"),
                        )
                    })
            }
            TemplateKind::Workflow => WorkflowDefinition::parse(filled)
                .map(Instantiated::Workflow)
                .map_err(|error| {
                    DomainError::invalid(
                        "arguments",
                        format!("the workflow made is invalid: {}", super::reason(error)),
                    )
                }),
        }
    }
}

/// A template to create. Parse `body` with the same `kind` and `parameters`
/// ([`TemplateBody::parse`]).
#[derive(Debug, Clone)]
pub struct NewTemplate {
    pub name: Name,
    pub description: Description,
    pub kind: TemplateKind,
    pub parameters: TemplateParameters,
    pub body: TemplateBody,
}

/// The fields a PATCH may change; `None` leaves a field as it is. The kind cannot change. A new
/// body is parsed with the template's kind and the parameters it will have;
/// [`TemplatePatch::check_against`] then checks that body and parameters still agree.
#[derive(Debug, Clone, Default)]
pub struct TemplatePatch {
    pub name: Option<Name>,
    pub description: Option<Description>,
    pub parameters: Option<TemplateParameters>,
    pub body: Option<TemplateBody>,
}

impl TemplatePatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.parameters.is_none()
            && self.body.is_none()
    }

    /// Refuses a patch after which the body would use a placeholder that is not a parameter.
    pub fn check_against(&self, current: &Template) -> Result<(), DomainError> {
        let body = self.body.as_ref().unwrap_or(&current.body);
        let parameters = self.parameters.as_ref().unwrap_or(&current.parameters);
        body.check_parameters(parameters)
    }
}

/// One use of a template: the arguments given, who gave them and the ids of what was created
/// (tasks, or a workflow version), kept as text since the kinds differ.
///
/// It is history: it stays when what it created is deleted, so it points at what it created
/// without holding it (no foreign key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TemplateUsage {
    pub id: TemplateUsageId,
    pub organization_id: OrganizationId,
    pub template_id: TemplateId,
    pub arguments: Metadata,
    /// The actor, as the audit log spells it.
    pub created_by: String,
    /// In the order created: the tasks; or the workflow when the usage created one, then the
    /// version.
    pub created_entities: Vec<String>,
    /// The version a workflow template wrote, named as the API reads it (a version's id alone
    /// has no route); `None` for a task template.
    pub workflow_version: Option<WorkflowVersionRef>,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{ParameterName, ProjectId, TemplateParameter};

    fn parameters(list: &[(&str, bool, Option<Value>)]) -> TemplateParameters {
        let list = list
            .iter()
            .map(|(name, required, default)| TemplateParameter {
                name: ParameterName::parse(name).unwrap_or_else(|error| panic!("{error}")),
                description: Description::empty(),
                required: *required,
                default: default.clone(),
            })
            .collect();
        TemplateParameters::parse(list).unwrap_or_else(|error| panic!("{error}"))
    }

    fn template(kind: TemplateKind, parameters: TemplateParameters, body: Value) -> Template {
        let body =
            TemplateBody::parse(kind, &parameters, body).unwrap_or_else(|error| panic!("{error}"));
        let now = Utc::now();
        Template {
            id: TemplateId::new(),
            organization_id: OrganizationId::new(),
            name: Name::parse("name", "review").unwrap_or_else(|_| unreachable!()),
            description: Description::empty(),
            kind,
            parameters,
            body,
            usage_count: 0,
            created_at: now,
            updated_at: now,
            revision: Revision::FIRST,
        }
    }

    fn args(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn review_template() -> Template {
        template(
            TemplateKind::Task,
            parameters(&[
                ("repo", true, None),
                ("prio", false, Some(json!(5))),
                ("note", false, None),
            ]),
            json!({"tasks": [
                {"title": "Review {{repo}}", "priority": "{{prio}}",
                 "description": "note: {{note}}",
                 "required_capabilities": ["review"],
                 "payload": {"repo": "{{repo}}", "n": "{{prio}}", "note": "{{note}}"},
                 "metadata": {"source": "template"}},
                {"title": "Merge {{repo}}"},
            ]}),
        )
    }

    fn tasks(made: Result<Instantiated, DomainError>) -> Vec<TaskSpec> {
        match made {
            Ok(Instantiated::Tasks(tasks)) => tasks,
            other => panic!("expected tasks, got {other:?}"),
        }
    }

    #[test]
    fn a_task_template_fills_in_values_and_text() {
        let made = tasks(review_template().instantiate(&args(json!({"repo": "acme/api"}))));
        assert_eq!(made.len(), 2);
        let first = &made[0];
        assert_eq!(first.title.as_str(), "Review acme/api");
        assert_eq!(first.priority.get(), 5);
        assert_eq!(first.description.as_str(), "note: ");
        assert_eq!(
            first.payload.as_value(),
            &json!({"repo": "acme/api", "n": 5, "note": null})
        );
        assert_eq!(first.metadata.to_value(), json!({"source": "template"}));
        assert_eq!(made[1].title.as_str(), "Merge acme/api");
        assert_eq!(made[1].priority.get(), 0);

        let project = ProjectId::new();
        let task = first.clone().into_new_task(project);
        assert_eq!(task.project_id, project);
        assert_eq!(task.title.as_str(), "Review acme/api");
        assert_eq!(
            task.required_capabilities.to_strings(),
            vec!["review".to_owned()]
        );

        let overridden = tasks(
            review_template().instantiate(&args(json!({"repo": "r", "prio": -3, "note": "hi"}))),
        );
        assert_eq!(overridden[0].priority.get(), -3);
        assert_eq!(overridden[0].description.as_str(), "note: hi");
    }

    #[test]
    fn arguments_are_checked() {
        let template = review_template();
        let cases = [
            (
                json!({"repo": "r", "extra": 1}),
                "unknown parameter \"extra\" (declared: repo, prio, note)",
            ),
            (json!({"prio": 1}), "missing required parameter \"repo\""),
            (
                json!({"repo": "r", "prio": "high"}),
                "tasks[0].priority: must be a whole number",
            ),
            (
                json!({"repo": "r", "prio": 2_000_000}),
                "tasks[0].priority: must be between",
            ),
            (
                json!({"repo": "x".repeat(500)}),
                "tasks[0].title: must be at most 500",
            ),
            (json!({"repo": "a\u{0}b"}), "tasks[0].title"),
        ];
        for (arguments, expected) in cases {
            let error = template.instantiate(&args(arguments.clone())).unwrap_err();
            assert_eq!(error.field(), Some("arguments"), "{arguments}");
            assert!(error.to_string().contains(expected), "{arguments}: {error}");
        }
    }

    #[test]
    fn instantiating_cannot_blow_up() {
        let template = template(
            TemplateKind::Task,
            parameters(&[("big", true, None)]),
            json!({"tasks": [{"title": "t", "payload": vec!["{{big}}"; 10]}]}),
        );
        let big = "x".repeat(TemplateBody::MAX_BYTES / 8);
        let error = template
            .instantiate(&args(json!({"big": big})))
            .unwrap_err();
        assert!(error.to_string().contains("too large"), "{error}");
    }

    #[test]
    fn bodies_are_checked_when_created() {
        let params = parameters(&[("repo", true, None)]);
        let cases = [
            (
                json!({"tasks": [{"title": "{{other}}"}]}),
                "placeholder {{other}} is not a declared parameter (declared: repo)",
            ),
            (json!({"tasks": []}), "tasks: must hold 1 to 1000 tasks"),
            (
                json!({"tasks": [{"title": "x", "project_id": "p"}]}),
                "tasks[0]: unknown key \"project_id\"",
            ),
            (
                json!({"tasks": [{"description": "x"}]}),
                "tasks[0].title: is required",
            ),
            (
                json!({"tasks": [{"title": "{{repo}}", "priority": "high"}]}),
                "tasks[0].priority: must be a whole number",
            ),
            (
                json!({"tasks": [{"title": "t", "metadata": []}]}),
                "tasks[0].metadata: must be a JSON object",
            ),
            (
                json!({"tasks": [{"title": "t"}], "x": 1}),
                "unknown key \"x\"",
            ),
            (
                json!({"tasks": [{"title": "t", "payload": "\u{0}"}]}),
                "NUL",
            ),
        ];
        for (raw, expected) in cases {
            let error = TemplateBody::parse(TemplateKind::Task, &params, raw.clone()).unwrap_err();
            assert_eq!(error.field(), Some("body"), "{raw}");
            assert!(error.to_string().contains(expected), "{raw}: {error}");
        }
        let none = TemplateParameters::default();
        let error = TemplateBody::parse(
            TemplateKind::Task,
            &none,
            json!({"tasks": [{"title": "{{a}}"}]}),
        );
        assert!(error.unwrap_err().to_string().contains("(declared: none)"));
        // Text that only looks like a placeholder is kept as it is.
        let literal = TemplateBody::parse(
            TemplateKind::Task,
            &none,
            json!({"tasks": [{"title": "{{ a }}"}]}),
        );
        assert!(literal.is_ok());
    }

    #[test]
    fn a_workflow_template_makes_a_checked_definition() {
        let template = template(
            TemplateKind::Workflow,
            parameters(&[("first", true, None), ("attempts", false, Some(json!(2)))]),
            json!({"steps": [
                {"name": "{{first}}", "max_attempts": "{{attempts}}"},
                {"name": "deploy", "depends_on": ["{{first}}"]},
            ]}),
        );
        match template.instantiate(&args(json!({"first": "build"}))) {
            Ok(Instantiated::Workflow(definition)) => {
                let order: Vec<&str> = definition
                    .execution_order()
                    .iter()
                    .map(|step| step.name.as_str())
                    .collect();
                assert_eq!(order, ["build", "deploy"]);
                assert_eq!(definition.steps()[0].max_attempts, 2);
            }
            other => panic!("expected a workflow, got {other:?}"),
        }
        let cycle = template
            .instantiate(&args(json!({"first": "deploy"})))
            .unwrap_err();
        assert_eq!(cycle.field(), Some("arguments"));
        assert!(
            cycle
                .to_string()
                .contains("step name \"deploy\" is used by"),
            "{cycle}"
        );

        let none = TemplateParameters::default();
        let invalid = TemplateBody::parse(
            TemplateKind::Workflow,
            &none,
            json!({"steps": [{"name": "a", "depends_on": ["a"]}]}),
        );
        let invalid = invalid.unwrap_err();
        assert_eq!(invalid.field(), Some("body"));
        assert!(
            invalid.to_string().contains("depends on itself"),
            "{invalid}"
        );
        let outline = TemplateBody::parse(
            TemplateKind::Workflow,
            &parameters(&[("n", true, None)]),
            json!({"steps": [{"name": "{{n}}", "after": []}]}),
        );
        assert!(
            outline
                .unwrap_err()
                .to_string()
                .contains("unknown key \"after\"")
        );
    }

    #[test]
    fn a_patch_keeps_body_and_parameters_in_agreement() {
        let template = review_template();
        assert!(TemplatePatch::default().is_empty());
        let drop_repo = TemplatePatch {
            parameters: Some(parameters(&[("prio", false, None), ("note", false, None)])),
            ..TemplatePatch::default()
        };
        assert_eq!(
            drop_repo.check_against(&template).unwrap_err().field(),
            Some("body")
        );
        let new_body = TemplateBody::parse(
            TemplateKind::Task,
            &TemplateParameters::default(),
            json!({"tasks": [{"title": "fixed"}]}),
        )
        .unwrap_or_else(|error| panic!("{error}"));
        let both = TemplatePatch {
            parameters: Some(TemplateParameters::default()),
            body: Some(new_body),
            ..TemplatePatch::default()
        };
        assert!(both.check_against(&template).is_ok());
    }

    #[test]
    fn serialises_kind_parameters_and_body() {
        let value = serde_json::to_value(review_template()).unwrap_or_default();
        assert_eq!(value["kind"], "task");
        assert_eq!(
            value["parameters"][1],
            json!({"name": "prio", "description": "", "required": false, "default": 5})
        );
        assert_eq!(
            value["body"]["tasks"][1],
            json!({"title": "Merge {{repo}}"})
        );
    }
}
