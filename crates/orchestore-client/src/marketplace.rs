//! `/api/v1/marketplace`: publishing, browsing, searching and installing items.

use futures_util::Stream;
use orchestore_api::PageQuery;
use orchestore_api::marketplace::{
    InstallBody, ListItemsQuery, MarketplaceHits, PublishBody, SearchBody,
};
use orchestore_domain::{MarketplaceInstall, MarketplaceItem, MarketplaceItemId};
use orchestore_repo::{Installation, MarketplaceInstallSort, MarketplaceItemSort, Page};
use reqwest::Method;

use crate::{Client, Result};

impl Client {
    /// `POST /marketplace`: publishes a workflow version or a template.
    pub async fn publish_marketplace_item(&self, body: &PublishBody) -> Result<MarketplaceItem> {
        self.call(Method::POST, "/marketplace")
            .json(body)
            .send()
            .await
    }

    /// `GET /marketplace`: one page of the published items of every organization, or with
    /// `mine` the caller's own.
    pub async fn list_marketplace_items(
        &self,
        query: &ListItemsQuery,
    ) -> Result<Page<MarketplaceItem, MarketplaceItemSort>> {
        self.call(Method::GET, "/marketplace")
            .query(query)
            .send()
            .await
    }

    /// `GET /marketplace`: every item from the page `query` names on.
    pub fn list_marketplace_items_stream(
        &self,
        query: &ListItemsQuery,
    ) -> impl Stream<Item = Result<MarketplaceItem>> + Send + 'static {
        self.stream::<MarketplaceItem, MarketplaceItemSort>("/marketplace".to_owned(), query)
    }

    /// `POST /marketplace/search`: the hits, most relevant first.
    pub async fn search_marketplace(&self, body: &SearchBody) -> Result<MarketplaceHits> {
        self.call(Method::POST, "/marketplace/search")
            .json(body)
            .send()
            .await
    }

    /// `GET /marketplace/{id}`: a published item, or one of the caller's own.
    pub async fn get_marketplace_item(&self, id: MarketplaceItemId) -> Result<MarketplaceItem> {
        self.call(Method::GET, format!("/marketplace/{id}"))
            .send()
            .await
    }

    /// `DELETE /marketplace/{id}`: the caller's item, unpublished.
    pub async fn unpublish_marketplace_item(
        &self,
        id: MarketplaceItemId,
    ) -> Result<MarketplaceItem> {
        self.call(Method::DELETE, format!("/marketplace/{id}"))
            .send()
            .await
    }

    /// `POST /marketplace/{id}/install`: the installation and the copy it made.
    pub async fn install_marketplace_item(
        &self,
        id: MarketplaceItemId,
        body: &InstallBody,
    ) -> Result<Installation> {
        self.call(Method::POST, format!("/marketplace/{id}/install"))
            .json(body)
            .send()
            .await
    }

    /// `GET /marketplace/installs`: one page of the organization's installations.
    pub async fn list_marketplace_installs(
        &self,
        query: &PageQuery,
    ) -> Result<Page<MarketplaceInstall, MarketplaceInstallSort>> {
        self.call(Method::GET, "/marketplace/installs")
            .query(query)
            .send()
            .await
    }

    /// `GET /marketplace/installs`: every installation from the page `query` names on.
    pub fn list_marketplace_installs_stream(
        &self,
        query: &PageQuery,
    ) -> impl Stream<Item = Result<MarketplaceInstall>> + Send + 'static {
        self.stream::<MarketplaceInstall, MarketplaceInstallSort>(
            "/marketplace/installs".to_owned(),
            query,
        )
    }
}
