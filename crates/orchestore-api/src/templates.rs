//! `/api/v1/templates`.

use orchestore_domain::{
    Description, Name, NewTemplate, ProjectId, Task, TemplateBody, TemplateKind,
    TemplateParameters, TemplatePatch, TemplateUsage, WorkflowExecution, WorkflowId,
    WorkflowVersion,
};
use orchestore_repo::TemplateSort;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::workflows::{CreateWorkflowBody, RunBody};
use crate::{FieldErrors, Invalid, PatchField};

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTemplateBody {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `task` or `workflow`.
    #[schema(value_type = TemplateKind)]
    pub kind: String,
    /// `[{"name", "description"?, "required"?, "default"?}]`.
    #[schema(value_type = Option<Vec<Object>>, max_items = 64)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// `{"tasks": [...]}` for a task template, a workflow definition for a workflow template;
    /// strings may hold `{{parameter}}` placeholders.
    #[schema(value_type = Object)]
    pub body: Value,
}

impl CreateTemplateBody {
    pub fn into_new_template(self) -> Result<NewTemplate, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(Name::parse("name", &self.name));
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let kind = errors.check(self.kind.parse::<TemplateKind>());
        let parameters = errors.check(self.parameters.map_or(
            Ok(TemplateParameters::default()),
            TemplateParameters::from_json,
        ));
        // The body is checked against the kind and the parameters, once both are known.
        let body = match (kind, &parameters) {
            (Some(kind), Some(parameters)) => {
                errors.check(TemplateBody::parse(kind, parameters, self.body))
            }
            _ => None,
        };
        let (Some(name), Some(description), Some(kind), Some(parameters), Some(body)) =
            (name, description, kind, parameters, body)
        else {
            return Err(errors.into_error());
        };
        Ok(NewTemplate {
            name,
            description,
            kind,
            parameters,
            body,
        })
    }
}

/// Absent fields stay as they are. The kind cannot change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTemplateBody {
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub name: PatchField<String>,
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = String)]
    pub description: PatchField<String>,
    /// `[{"name", "description"?, "required"?, "default"?}]`.
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Vec<Object>, max_items = 64)]
    pub parameters: PatchField<Value>,
    /// Checked against the template's kind and its parameters as they will be.
    #[serde(default, skip_serializing_if = "PatchField::is_absent")]
    #[schema(value_type = Object)]
    pub body: PatchField<Value>,
}

impl PatchTemplateBody {
    /// The patch for a template of `kind` whose parameters are `current` until changed.
    pub fn into_patch(
        self,
        kind: TemplateKind,
        current: &TemplateParameters,
    ) -> Result<TemplatePatch, Invalid> {
        let mut errors = FieldErrors::default();
        let name = errors.check(
            self.name
                .parse_required("name", |n| Name::parse("name", &n)),
        );
        let description = errors.check(
            self.description
                .parse_required("description", |d| Description::parse("description", &d)),
        );
        let parameters = errors.check(
            self.parameters
                .parse_required("parameters", TemplateParameters::from_json),
        );
        let body = match &parameters {
            Some(new) => errors.check(self.body.parse_required("body", |raw| {
                TemplateBody::parse(kind, new.as_ref().unwrap_or(current), raw)
            })),
            None => None,
        };
        let (Some(name), Some(description), Some(parameters), Some(body)) =
            (name, description, parameters, body)
        else {
            return Err(errors.into_error());
        };
        Ok(TemplatePatch {
            name,
            description,
            parameters,
            body,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTemplatesQuery {
    #[param(value_type = Option<TemplateKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<TemplateSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

/// Exactly one target: `project_id` for a task template, `workflow_id` or `workflow` for a
/// workflow template.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstantiateBody {
    /// The project the template's tasks are created in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<ProjectId>,
    /// The workflow that gets the next version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<WorkflowId>,
    /// A workflow to create with the version as its first, `{name, description?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<CreateWorkflowBody>,
    /// A value for each parameter, by name.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    #[schema(value_type = Object)]
    pub arguments: Map<String, Value>,
    /// With a workflow target: start an execution of the version written, in the same
    /// transaction, `{project_id, input, priority?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunBody>,
}

/// What an instantiation wrote, as the template's kind has it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Instantiated {
    Tasks(Instantiation),
    Workflow(Box<WorkflowInstantiation>),
}

/// A task template's instantiation: its usage and the tasks created.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Instantiation {
    pub usage: TemplateUsage,
    pub tasks: Vec<Task>,
}

/// A workflow template's instantiation: its usage and the version written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WorkflowInstantiation {
    pub usage: TemplateUsage,
    pub version: WorkflowVersion,
    /// The execution started with `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub execution: Option<WorkflowExecution>,
}
