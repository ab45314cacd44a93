use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    Description, Name, OrganizationId, Revision, WorkflowDefinition, WorkflowId, WorkflowVersionId,
};

/// A named workflow. Names are unique within an organization. `latest_version` is `None` until
/// the first version is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Workflow {
    pub id: WorkflowId,
    pub organization_id: OrganizationId,
    pub name: Name,
    pub description: Description,
    pub latest_version: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many times it has been written (1 when created); its HTTP `ETag`.
    pub revision: Revision,
}

impl Workflow {
    /// The number the next version gets: 1, then one more than the latest.
    pub fn next_version(&self) -> u32 {
        self.latest_version
            .map_or(1, |latest| latest.saturating_add(1))
    }
}

#[derive(Debug, Clone)]
pub struct NewWorkflow {
    pub name: Name,
    pub description: Description,
}

/// The fields a PATCH may change; `None` leaves a field as it is. Steps change by writing a new
/// version, never by a patch.
#[derive(Debug, Clone, Default)]
pub struct WorkflowPatch {
    pub name: Option<Name>,
    pub description: Option<Description>,
}

impl WorkflowPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.description.is_none()
    }
}

/// One version of a workflow's steps, numbered 1, 2, … per workflow. Immutable: there is no
/// patch, and executions point at the version they ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowVersion {
    pub id: WorkflowVersionId,
    pub organization_id: OrganizationId,
    pub workflow_id: WorkflowId,
    pub version: u32,
    pub definition: WorkflowDefinition,
    pub created_at: DateTime<Utc>,
}

impl WorkflowVersion {
    pub fn reference(&self) -> WorkflowVersionRef {
        WorkflowVersionRef {
            workflow_id: self.workflow_id,
            version: self.version,
        }
    }
}

/// A version named as the API's paths name it, `/workflows/{workflow_id}/versions/{version}`:
/// what a record that outlives the version (a template usage) keeps to point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkflowVersionRef {
    pub workflow_id: WorkflowId,
    pub version: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_from_one() {
        let now = Utc::now();
        let mut workflow = Workflow {
            id: WorkflowId::new(),
            organization_id: OrganizationId::new(),
            name: Name::parse("name", "release").unwrap_or_else(|_| unreachable!()),
            description: Description::empty(),
            latest_version: None,
            created_at: now,
            updated_at: now,
            revision: Revision::FIRST,
        };
        assert_eq!(workflow.next_version(), 1);
        workflow.latest_version = Some(4);
        assert_eq!(workflow.next_version(), 5);
        assert!(WorkflowPatch::default().is_empty());
    }

    #[test]
    fn a_version_serialises_its_definition_as_json() {
        let definition = WorkflowDefinition::parse(serde_json::json!({"steps": [{"name": "a"}]}))
            .unwrap_or_else(|error| panic!("{error}"));
        let version = WorkflowVersion {
            id: WorkflowVersionId::new(),
            organization_id: OrganizationId::new(),
            workflow_id: WorkflowId::new(),
            version: 1,
            definition: definition.clone(),
            created_at: Utc::now(),
        };
        let value = serde_json::to_value(&version).unwrap_or_default();
        assert_eq!(value["definition"], definition.to_value());
        assert_eq!(value["version"], 1);
        assert_eq!(
            serde_json::to_value(version.reference()).unwrap_or_default(),
            serde_json::json!({"workflow_id": version.workflow_id, "version": 1})
        );
    }
}
