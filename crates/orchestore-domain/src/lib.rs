//! Orchestore's domain: ids, constrained values, entities and their state machines.
//!
//! Every value here is valid once it exists: constrained types keep their field private and
//! are built through `parse`, so the layers above never re-check them. Nothing in this crate
//! knows about a database, an async runtime or HTTP.

mod error;
mod ids;
mod organization;
mod password;
mod project;
mod task;
mod user;
mod values;

pub use error::DomainError;
pub use ids::{AuditLogId, OrganizationId, ProjectId, SessionId, TaskId, UserId};
pub use organization::{NewOrganization, Organization};
pub use password::{Password, PasswordHash};
pub use project::{NewProject, Project, ProjectPatch, parse_repository_url};
pub use task::{NewTask, Task, TaskPatch, TaskStatus};
pub use user::{NewUser, Permission, SystemRole, User};
pub use values::{
    Capabilities, Capability, Description, Email, Metadata, Name, Payload, Priority, Slug, Tags,
    Title,
};

mod agents;
pub use agents::{
    Agent, AgentKind, AgentPatch, AgentStats, AgentStatus, ModelName, NewAgent, ProviderName,
    agent_capabilities,
};
pub use ids::AgentId;

mod messaging;
pub use ids::{MessageId, ThreadId};
pub use messaging::{Message, MessageContent, NewMessage, Participant, ParticipantKind};

mod workflows;
pub use ids::{WorkflowExecutionId, WorkflowId, WorkflowVersionId};
pub use workflows::{
    ExecutionStatus, NewWorkflow, NewWorkflowExecution, StepName, Workflow, WorkflowDefinition,
    WorkflowExecution, WorkflowPatch, WorkflowStep, WorkflowVersion,
};

mod templates;
pub use ids::{TemplateId, TemplateUsageId};
pub use templates::{
    Instantiated, NewTemplate, ParameterName, TaskSpec, Template, TemplateBody, TemplateKind,
    TemplateParameter, TemplateParameters, TemplatePatch, TemplateUsage,
};
