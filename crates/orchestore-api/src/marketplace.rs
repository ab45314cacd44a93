//! `/api/v1/marketplace`: publishing, browsing, searching and installing items.

use orchestore_domain::{
    Description, DomainError, MarketplaceKind, MarketplaceSource, Name, NewMarketplaceItem,
    SearchLimit, Tags, TemplateId, TextQuery, WorkflowId,
};
use orchestore_repo::{MarketplaceFilter, MarketplaceHit, MarketplaceItemSort, PageRequest};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{FieldErrors, Invalid, page_request};

/// Exactly one source: `workflow_id` (with `version`, or its latest) or `template_id`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// The workflow to publish a version of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<WorkflowId>,
    /// With `workflow_id`: the version to publish; its latest when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The template to publish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_id: Option<TemplateId>,
    /// The item's name; the source's when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// A longer text for people browsing the marketplace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readme: Option<String>,
}

impl PublishBody {
    pub fn into_new_item(self) -> Result<NewMarketplaceItem, Invalid> {
        let mut errors = FieldErrors::default();
        let source = errors.check(match (self.workflow_id, self.template_id, self.version) {
            (Some(id), None, version) => Ok(MarketplaceSource::Workflow { id, version }),
            (None, Some(id), None) => Ok(MarketplaceSource::Template(id)),
            (None, Some(_), Some(_)) => Err(DomainError::invalid(
                "version",
                "goes with workflow_id: a template has no versions",
            )),
            (Some(_), Some(_), _) => Err(DomainError::invalid(
                "template_id",
                "give workflow_id or template_id, not both",
            )),
            (None, None, _) => Err(DomainError::invalid(
                "workflow_id",
                "give workflow_id (a workflow version) or template_id (a template)",
            )),
        });
        let name = errors.check(
            self.name
                .as_deref()
                .map(|n| Name::parse("name", n))
                .transpose(),
        );
        let description = errors.check(self.description.map_or(Ok(Description::empty()), |d| {
            Description::parse("description", &d)
        }));
        let tags = errors.check(self.tags.map_or(Ok(Tags::default()), |t| Tags::parse(&t)));
        let readme = errors.check(self.readme.map_or(Ok(Description::empty()), |r| {
            Description::parse("readme", &r)
        }));
        let (Some(source), Some(name), Some(description), Some(tags), Some(readme)) =
            (source, name, description, tags, readme)
        else {
            return Err(errors.into_error());
        };
        Ok(NewMarketplaceItem {
            source,
            name,
            description,
            tags,
            readme,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListItemsQuery {
    #[param(value_type = Option<MarketplaceKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only items with this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `true`: only the caller's organization's items, unpublished ones included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<bool>,
    /// Rows per page.
    #[param(minimum = 1, maximum = 200, default = 50)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `next_cursor` of the page before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    #[param(value_type = Option<MarketplaceItemSort>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

impl ListItemsQuery {
    pub fn into_filter_and_page(
        self,
    ) -> Result<(MarketplaceFilter, PageRequest<MarketplaceItemSort>), Invalid> {
        let mut errors = FieldErrors::default();
        let filter = filter(&mut errors, self.kind.as_deref(), self.tag, self.mine);
        let page = page_request(
            &mut errors,
            self.limit,
            self.cursor.as_deref(),
            self.sort.as_deref(),
        );
        let (Some(filter), Some(page)) = (filter, page) else {
            return Err(errors.into_error());
        };
        Ok((filter, page))
    }
}

// `POST /api/v1/marketplace/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    /// Words to find in the items' names, descriptions, tags or readmes.
    pub query: String,
    #[schema(value_type = Option<MarketplaceKind>)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only items with this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `true`: only the caller's organization's items, unpublished ones included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<bool>,
    /// How many hits to return.
    #[schema(minimum = 1, maximum = 100, default = 10)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl SearchBody {
    /// The words to find, the items to search, and how many hits to answer.
    pub fn into_search(self) -> Result<(TextQuery, MarketplaceFilter, SearchLimit), Invalid> {
        let mut errors = FieldErrors::default();
        let words = errors.check(TextQuery::parse(&self.query));
        let filter = filter(&mut errors, self.kind.as_deref(), self.tag, self.mine);
        let limit = errors.check(
            self.limit
                .map_or(Ok(SearchLimit::default()), SearchLimit::parse),
        );
        let (Some(words), Some(filter), Some(limit)) = (words, filter, limit) else {
            return Err(errors.into_error());
        };
        Ok((words, filter, limit))
    }
}

/// The hits of a search, most relevant first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MarketplaceHits {
    pub items: Vec<MarketplaceHit>,
}

// `POST /api/v1/marketplace/{id}/install`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallBody {
    /// The copy's name; the item's when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl InstallBody {
    /// The copy's name, when the body gives one.
    pub fn into_name(self) -> Result<Option<Name>, Invalid> {
        Ok(self
            .name
            .as_deref()
            .map(|n| Name::parse("name", n))
            .transpose()?)
    }
}

fn filter(
    errors: &mut FieldErrors,
    kind: Option<&str>,
    tag: Option<String>,
    mine: Option<bool>,
) -> Option<MarketplaceFilter> {
    let kind = errors.check(kind.map(str::parse::<MarketplaceKind>).transpose())?;
    Some(MarketplaceFilter {
        kind,
        tag,
        mine: mine.unwrap_or(false),
    })
}
