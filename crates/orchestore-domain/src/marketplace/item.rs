use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    Description, DomainError, MarketplaceInstallId, MarketplaceItemId, Name, OrganizationId, Tags,
    Template, TemplateBody, TemplateId, TemplateKind, TemplateParameters, Workflow,
    WorkflowDefinition, WorkflowId, WorkflowVersion,
};

/// What an item holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarketplaceKind {
    /// A workflow version's definition; installed as version 1 of a new workflow.
    Workflow,
    /// A template (task or workflow); installed as a new template.
    Template,
}

impl MarketplaceKind {
    pub const ALL: [Self; 2] = [Self::Workflow, Self::Template];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Workflow => "workflow",
            Self::Template => "template",
        }
    }
}

impl fmt::Display for MarketplaceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MarketplaceKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                DomainError::invalid("kind", format!("{s:?} is not one of workflow, template"))
            })
    }
}

/// The snapshot an item holds: what installing it copies.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum MarketplaceContent {
    Workflow {
        definition: WorkflowDefinition,
    },
    Template {
        template_kind: TemplateKind,
        parameters: TemplateParameters,
        body: TemplateBody,
    },
}

impl MarketplaceContent {
    pub fn kind(&self) -> MarketplaceKind {
        match self {
            Self::Workflow { .. } => MarketplaceKind::Workflow,
            Self::Template { .. } => MarketplaceKind::Template,
        }
    }

    /// The snapshot as stored.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Workflow { definition } => json!({ "definition": definition.to_value() }),
            Self::Template {
                template_kind,
                parameters,
                body,
            } => json!({
                "template_kind": template_kind.as_str(),
                "parameters": serde_json::to_value(parameters).unwrap_or(Value::Null),
                "body": body.as_value(),
            }),
        }
    }

    /// Reads a stored snapshot of `kind` back, checked as when it was published.
    pub fn from_value(kind: MarketplaceKind, mut value: Value) -> Result<Self, DomainError> {
        let mut take = |key: &str| value.get_mut(key).map(Value::take).unwrap_or(Value::Null);
        match kind {
            MarketplaceKind::Workflow => Ok(Self::Workflow {
                definition: WorkflowDefinition::parse(take("definition"))?,
            }),
            MarketplaceKind::Template => {
                let template_kind: TemplateKind =
                    take("template_kind").as_str().unwrap_or_default().parse()?;
                let parameters = TemplateParameters::from_json(take("parameters"))?;
                let body = TemplateBody::parse(template_kind, &parameters, take("body"))?;
                Ok(Self::Template {
                    template_kind,
                    parameters,
                    body,
                })
            }
        }
    }
}

// Read back through `from_value`, the stored form's parser: the variants are told apart by
// their keys (a workflow's `definition`), and a template's body is only valid for its kind and
// parameters, which an untagged derive could not check.
deserialize_by_parse!(MarketplaceContent, Value, |raw| {
    let kind = if raw.get("definition").is_some() {
        MarketplaceKind::Workflow
    } else {
        MarketplaceKind::Template
    };
    MarketplaceContent::from_value(kind, raw)
});

/// A published item, as every organization sees it: its publisher is named by the name it had
/// when it published, never by an id, and nothing of the original (its id, its organization's
/// other rows) is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketplaceItem {
    pub id: MarketplaceItemId,
    pub name: Name,
    /// 1 for an organization's first item of this name, then one more per publication.
    pub version: u32,
    pub kind: MarketplaceKind,
    pub description: Description,
    pub tags: Tags,
    pub readme: Description,
    pub content: MarketplaceContent,
    /// The publishing organization's name, as it was at publication.
    pub publisher: Name,
    /// Whether the caller's organization published it.
    pub published_by_caller: bool,
    pub published_at: DateTime<Utc>,
    /// Set once its publisher unpublished it: it is then shown to its publisher alone.
    pub unpublished_at: Option<DateTime<Utc>>,
}

/// What to publish: a workflow's version or a template of the caller's organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarketplaceSource {
    /// A version of a workflow; the latest when `version` is `None`.
    Workflow {
        id: WorkflowId,
        version: Option<u32>,
    },
    Template(TemplateId),
}

/// An item to publish. `name` defaults to the source's name; publishing a name the
/// organization published before makes its next version.
#[derive(Debug, Clone)]
pub struct NewMarketplaceItem {
    pub source: MarketplaceSource,
    pub name: Option<Name>,
    pub description: Description,
    pub tags: Tags,
    pub readme: Description,
}

/// Where an installed copy came from: a row of the installing organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketplaceInstall {
    pub id: MarketplaceInstallId,
    pub organization_id: OrganizationId,
    pub item_id: MarketplaceItemId,
    pub item_name: Name,
    pub item_version: u32,
    pub kind: MarketplaceKind,
    /// The workflow made, for a workflow item.
    pub workflow_id: Option<WorkflowId>,
    /// The template made, for a template item.
    pub template_id: Option<TemplateId>,
    /// The actor, as the audit log spells it.
    pub installed_by: String,
    pub created_at: DateTime<Utc>,
}

/// What an installation made in the installing organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstalledCopy {
    Workflow {
        workflow: Workflow,
        version: WorkflowVersion,
    },
    Template(Template),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_and_snapshots_round_trip() {
        assert_eq!("workflow".parse(), Ok(MarketplaceKind::Workflow));
        assert_eq!(
            "task".parse::<MarketplaceKind>().unwrap_err().field(),
            Some("kind")
        );
        let definition = WorkflowDefinition::parse(json!({"steps": [{"name": "build"}]}))
            .unwrap_or_else(|error| panic!("{error}"));
        let content = MarketplaceContent::Workflow { definition };
        let back = MarketplaceContent::from_value(MarketplaceKind::Workflow, content.to_value());
        assert_eq!(back, Ok(content));

        let parameters = TemplateParameters::default();
        let body = TemplateBody::parse(
            TemplateKind::Task,
            &parameters,
            json!({"tasks": [{"title": "Review"}]}),
        )
        .unwrap_or_else(|error| panic!("{error}"));
        let content = MarketplaceContent::Template {
            template_kind: TemplateKind::Task,
            parameters,
            body,
        };
        assert_eq!(content.kind(), MarketplaceKind::Template);
        let back = MarketplaceContent::from_value(MarketplaceKind::Template, content.to_value());
        assert_eq!(back, Ok(content));
        assert!(MarketplaceContent::from_value(MarketplaceKind::Template, json!({})).is_err());
    }
}
