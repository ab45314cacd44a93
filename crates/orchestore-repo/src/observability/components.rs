//! The component registry, the communications between components, and their health checks.

use chrono::{DateTime, Utc};
use orchestore_domain::{
    Communication, CommunicationKind, Component, ComponentHealth, ComponentId, ComponentKind,
    ComponentPatch, ComponentStatus, HealthCheck, NewCommunication, NewComponent, NewHealthCheck,
    Outcome, Records, Revision,
};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the component list.
    pub enum ComponentSort for "components" {
        /// By name, A to Z (byte order).
        Name = "name",
        /// Oldest first.
        CreatedAt = "created_at",
    }
}

/// Which components a list returns; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentFilter {
    pub kind: Option<ComponentKind>,
    pub status: Option<ComponentStatus>,
}

crate::list_sort! {
    /// The orders of the communication list, by the time each happened (then its id).
    pub enum CommunicationSort for "component_communications" {
        /// Newest first.
        OccurredAtDesc = "-occurred_at",
        /// Oldest first.
        OccurredAt = "occurred_at",
    }
}

/// Which communications a list returns; every field given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommunicationFilter {
    /// Communications from or to this component.
    pub component_id: Option<ComponentId>,
    pub from_component_id: Option<ComponentId>,
    pub to_component_id: Option<ComponentId>,
    pub kind: Option<CommunicationKind>,
    pub outcome: Option<Outcome>,
    /// At or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
}

crate::list_sort! {
    /// The orders of a component's health history, by check time (then id).
    pub enum HealthSort for "component_health" {
        /// Newest first: the latest check leads.
        CheckedAtDesc = "-checked_at",
        /// Oldest first.
        CheckedAt = "checked_at",
    }
}

/// Which checks of a component's history a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HealthFilter {
    /// At or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// The components of the context's organization, their traffic and their health.
///
/// Registering and changing a component is audited. Communications and health checks are
/// appended and never changed, and write no audit row (see `docs/observability.md`).
/// Components are not deleted: retire one (`status: retired`) and its records stay.
#[async_trait::async_trait]
pub trait ComponentRepo: Send + Sync {
    /// Registers a component; a name the organization uses already (ignoring case) is a
    /// conflict on `name`.
    async fn create_component(&self, ctx: &Ctx, new: NewComponent) -> RepoResult<Component>;
    async fn get_component(&self, ctx: &Ctx, id: ComponentId) -> RepoResult<Component>;
    async fn list_components(
        &self,
        ctx: &Ctx,
        filter: ComponentFilter,
        page: PageRequest<ComponentSort>,
    ) -> RepoResult<Page<Component, ComponentSort>>;
    /// Changes the fields the patch sets; an empty patch changes nothing and writes no audit
    /// row.
    async fn update_component(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        patch: ComponentPatch,
        expected: Option<Revision>,
    ) -> RepoResult<Component>;

    /// Appends communications in one transaction, all or none. Both components of each must
    /// be the organization's: else `InBatch { index, Reference }` on `from_component_id` or
    /// `to_component_id`.
    async fn record_communications(
        &self,
        ctx: &Ctx,
        communications: Records<NewCommunication>,
    ) -> RepoResult<Vec<Communication>>;
    async fn list_communications(
        &self,
        ctx: &Ctx,
        filter: CommunicationFilter,
        page: PageRequest<CommunicationSort>,
    ) -> RepoResult<Page<Communication, CommunicationSort>>;

    /// Appends a health check of component `id` (`NotFound` when the organization has none).
    async fn record_health(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        check: NewHealthCheck,
    ) -> RepoResult<HealthCheck>;
    /// Component `id`'s health history (`NotFound` when the organization has no such
    /// component).
    async fn list_health(
        &self,
        ctx: &Ctx,
        id: ComponentId,
        filter: HealthFilter,
        page: PageRequest<HealthSort>,
    ) -> RepoResult<Page<HealthCheck, HealthSort>>;
    /// A page of the organization's components, each with its latest health check (the one
    /// checked last; of two at one instant, the one recorded last): one lookup of each
    /// component's newest history entry, never a scan of the history.
    async fn latest_health(
        &self,
        ctx: &Ctx,
        filter: ComponentFilter,
        page: PageRequest<ComponentSort>,
    ) -> RepoResult<Page<ComponentHealth, ComponentSort>>;
}
