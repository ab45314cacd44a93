//! Orchestore's domain: ids, constrained values, entities and their state machines.
//!
//! Every value here is valid once it exists: constrained types keep their field private and
//! are built through `parse`, so the layers above never re-check them. Nothing in this crate
//! knows about a database, an async runtime or HTTP.

mod error;
mod graph;
mod ids;
mod json;
mod tenancy;
mod values;
mod work;

pub use error::DomainError;
pub use graph::{check_new_edge, find_cycle, would_close_cycle};
pub use ids::{AuditLogId, OrganizationId, ProjectId, SessionId, TaskId, UserId};
pub use json::canonical_json;
pub use tenancy::{
    NewOrganization, NewUser, Organization, Password, PasswordHash, Permission, SystemRole, User,
};
pub use values::{
    Capabilities, Capability, Description, Email, Metadata, Name, Payload, Priority, Slug, Tags,
    Title,
};
pub use work::{
    NewProject, NewTask, Project, ProjectPatch, Task, TaskPatch, TaskStatus, parse_repository_url,
};
