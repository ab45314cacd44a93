//! The marketplace: items published by one organization for all.

use orchestore_domain::{
    InstalledCopy, MarketplaceInstall, MarketplaceItem, MarketplaceItemId, MarketplaceKind, Name,
    NewMarketplaceItem, SearchLimit, TextQuery,
};
use serde::{Deserialize, Serialize};

use crate::{Ctx, Page, PageRequest, RepoResult};

crate::list_sort! {
    /// The orders of the marketplace's items.
    pub enum MarketplaceItemSort for "marketplace_items" {
        /// Newest first.
        PublishedAtDesc = "-published_at",
        /// Oldest first.
        PublishedAt = "published_at",
    }
}

crate::list_sort! {
    /// The orders of an organization's installations.
    pub enum MarketplaceInstallSort for "marketplace_installs" {
        /// Oldest first.
        CreatedAt = "created_at",
        /// Newest first.
        CreatedAtDesc = "-created_at",
    }
}

/// Which published items a browse or a search returns; `None` (or no tag) matches any.
#[derive(Debug, Clone, Default)]
pub struct MarketplaceFilter {
    pub kind: Option<MarketplaceKind>,
    /// Items having this tag.
    pub tag: Option<String>,
    /// Only the items the caller's organization published, unpublished ones included.
    pub mine: bool,
}

/// One result of a marketplace search, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MarketplaceHit {
    pub item: MarketplaceItem,
    /// The text rank's score: higher is more relevant (its scale is the backend's).
    pub score: f64,
}

/// An installation: what it made and the record of where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Installation {
    pub install: MarketplaceInstall,
    pub copy: InstalledCopy,
}

/// The marketplace. Unlike every other repository, its reads cross organizations on purpose:
/// every organization reads every published item (and only published ones: an unpublished
/// item is seen by its publisher alone). Writes are the context's organization's own.
#[async_trait::async_trait]
pub trait MarketplaceRepo: Send + Sync {
    /// Publishes a snapshot of a workflow version or a template of the organization: version
    /// 1 of a new name, or the next version of a name it published before. A source it does not
    /// have is a `Reference` on `workflow_id` or `template_id`; a workflow with no version yet
    /// (or without the version named) a `Reference` on `version`.
    async fn publish_marketplace_item(
        &self,
        ctx: &Ctx,
        new: NewMarketplaceItem,
    ) -> RepoResult<MarketplaceItem>;
    /// Published items of every organization (or the caller's own, published or not, with
    /// `mine`).
    async fn list_marketplace_items(
        &self,
        ctx: &Ctx,
        filter: MarketplaceFilter,
        page: PageRequest<MarketplaceItemSort>,
    ) -> RepoResult<Page<MarketplaceItem, MarketplaceItemSort>>;
    /// Published items matching the words in their name, description, tags or readme, most
    /// relevant first.
    async fn search_marketplace_items(
        &self,
        ctx: &Ctx,
        query: TextQuery,
        filter: MarketplaceFilter,
        limit: SearchLimit,
    ) -> RepoResult<Vec<MarketplaceHit>>;
    /// A published item, or one of the organization's own; anything else is `NotFound`.
    async fn get_marketplace_item(
        &self,
        ctx: &Ctx,
        id: MarketplaceItemId,
    ) -> RepoResult<MarketplaceItem>;
    /// Hides the organization's item from everyone else (installs made keep their copies).
    /// Another organization's item is `NotFound`; unpublishing again changes nothing.
    async fn unpublish_marketplace_item(
        &self,
        ctx: &Ctx,
        id: MarketplaceItemId,
    ) -> RepoResult<MarketplaceItem>;
    /// Copies a published item into the organization, under `name` or the item's own name:
    /// a workflow item as version 1 of a new workflow, a template item as a new template —
    /// written as any other (each with its audit row) with the record of the installation, in
    /// one transaction. A taken name is a `Conflict` on `name`.
    async fn install_marketplace_item(
        &self,
        ctx: &Ctx,
        id: MarketplaceItemId,
        name: Option<Name>,
    ) -> RepoResult<Installation>;
    /// The organization's installations.
    async fn list_marketplace_installs(
        &self,
        ctx: &Ctx,
        page: PageRequest<MarketplaceInstallSort>,
    ) -> RepoResult<Page<MarketplaceInstall, MarketplaceInstallSort>>;
}
