//! The knowledge base and the marketplace.

use std::collections::BTreeMap;

use orchestore_domain::{
    CollectionName, KnowledgeCollection, KnowledgeEntry, KnowledgeEntryPatch, MarketplaceItem,
    MarketplaceSource, NewKnowledgeEntry, SearchLimit, TextQuery,
};
use orchestore_repo::{KnowledgeFilter, KnowledgeSearch, MarketplaceFilter, SearchMode};

use super::super::knowledge::{collection, entry, vector};
use super::super::marketplace::publication;
use super::*;

/// What an organization holds of the knowledge base and the marketplace: an entry of its
/// project with a vector in its collection, and an item it published, installed itself and
/// unpublished (so no other organization may see it).
pub(super) struct KnowledgeHoldings {
    pub(super) entry: KnowledgeEntry,
    pub(super) collection: KnowledgeCollection,
    pub(super) item: MarketplaceItem,
}

impl KnowledgeHoldings {
    pub(super) async fn create<S: Store + ?Sized>(
        store: &S,
        fixture: &Fixture,
        project: &Project,
        workflow: &Workflow,
    ) -> Self {
        let ctx = &fixture.ctx;
        let collection = store
            .create_knowledge_collection(ctx, collection(&format!("model-{}", fixture.org.slug), 2))
            .await
            .expect("collection");
        let entry = store
            .create_knowledge_entry(
                ctx,
                NewKnowledgeEntry {
                    project_id: Some(project.id),
                    embeddings: BTreeMap::from([(collection.name.clone(), vector(&[1.0, 0.0]))]),
                    ..entry("Rocket fuel", "Keep the rocket fuel cold.")
                },
            )
            .await
            .expect("entry");
        let item = store
            .publish_marketplace_item(
                ctx,
                publication(
                    MarketplaceSource::Workflow {
                        id: workflow.id,
                        version: None,
                    },
                    "rocket pipeline",
                ),
            )
            .await
            .expect("publish");
        store
            .install_marketplace_item(ctx, item.id, Some(name("Installed pipeline")))
            .await
            .expect("install");
        let item = store
            .unpublish_marketplace_item(ctx, item.id)
            .await
            .expect("unpublish");
        Self {
            entry,
            collection,
            item,
        }
    }
}

/// What the organization reads of its knowledge and marketplace rows.
pub(super) async fn knowledge_view<S: Store + ?Sized>(store: &S, h: &Holdings) -> Vec<String> {
    let ctx = &h.fixture.ctx;
    let k = &h.knowledge;
    let mine = MarketplaceFilter {
        mine: true,
        ..MarketplaceFilter::default()
    };
    vec![
        format!(
            "{:?}",
            store
                .list_knowledge_entries(ctx, KnowledgeFilter::default(), all())
                .await
        ),
        format!("{:?}", store.get_knowledge_entry(ctx, k.entry.id).await),
        format!("{:?}", store.search_knowledge(ctx, rocket()).await),
        format!("{:?}", store.list_knowledge_collections(ctx, all()).await),
        format!(
            "{:?}",
            store.get_knowledge_collection(ctx, k.collection.id).await
        ),
        format!(
            "{:?}",
            store
                .list_marketplace_items(ctx, MarketplaceFilter::default(), all())
                .await
        ),
        format!(
            "{:?}",
            store.list_marketplace_items(ctx, mine.clone(), all()).await
        ),
        format!(
            "{:?}",
            store
                .search_marketplace_items(ctx, words("rocket"), mine, SearchLimit::default())
                .await
        ),
        format!("{:?}", store.get_marketplace_item(ctx, k.item.id).await),
        format!("{:?}", store.list_marketplace_installs(ctx, all()).await),
    ]
}

fn words(raw: &str) -> TextQuery {
    TextQuery::parse(raw).expect("query")
}

fn rocket() -> KnowledgeSearch {
    KnowledgeSearch {
        mode: SearchMode::Text(words("rocket fuel")),
        filter: KnowledgeFilter::default(),
        limit: SearchLimit::default(),
    }
}

pub(super) async fn check_knowledge_and_marketplace<S: Store + ?Sized>(
    store: &S,
    a: &Holdings,
    b: &Holdings,
    c: &mut Checks,
) {
    let ctx = &b.fixture.ctx;
    let k = &a.knowledge;
    c.reference(
        "create_knowledge_entry",
        "project_id",
        store
            .create_knowledge_entry(
                ctx,
                NewKnowledgeEntry {
                    project_id: Some(a.project.id),
                    ..entry("Theirs", "rocket")
                },
            )
            .await,
    );
    c.not_found(
        "get_knowledge_entry",
        store.get_knowledge_entry(ctx, k.entry.id).await,
    );
    let of_a = KnowledgeFilter {
        project_id: Some(a.project.id),
        ..KnowledgeFilter::default()
    };
    c.clean(
        "list_knowledge_entries",
        store.list_knowledge_entries(ctx, of_a.clone(), all()).await,
    );
    c.not_found(
        "update_knowledge_entry",
        store
            .update_knowledge_entry(ctx, k.entry.id, KnowledgeEntryPatch::default(), None)
            .await,
    );
    c.not_found(
        "delete_knowledge_entry",
        store.delete_knowledge_entry(ctx, k.entry.id, None).await,
    );
    // A's words, A's project, A's vector: B's own entries only.
    c.clean(
        "search_knowledge",
        store.search_knowledge(ctx, rocket()).await,
    );
    c.clean(
        "search_knowledge",
        store
            .search_knowledge(
                ctx,
                KnowledgeSearch {
                    filter: of_a,
                    ..rocket()
                },
            )
            .await,
    );
    let nearest = |name: &CollectionName| KnowledgeSearch {
        mode: SearchMode::Hybrid {
            query: words("rocket"),
            collection: name.clone(),
            vector: vector(&[1.0, 0.0]),
        },
        filter: KnowledgeFilter::default(),
        limit: SearchLimit::default(),
    };
    c.clean(
        "search_knowledge",
        store
            .search_knowledge(ctx, nearest(&b.knowledge.collection.name))
            .await,
    );
    // A's collection is not B's, whatever its name.
    c.reference(
        "search_knowledge",
        "collection",
        store
            .search_knowledge(ctx, nearest(&k.collection.name))
            .await,
    );
    c.clean(
        "create_knowledge_collection",
        store
            .create_knowledge_collection(ctx, collection(k.collection.name.as_str(), 2))
            .await,
    );
    c.not_found(
        "get_knowledge_collection",
        store.get_knowledge_collection(ctx, k.collection.id).await,
    );
    c.clean(
        "list_knowledge_collections",
        store.list_knowledge_collections(ctx, all()).await,
    );
    c.not_found(
        "delete_knowledge_collection",
        store
            .delete_knowledge_collection(ctx, k.collection.id)
            .await,
    );

    c.reference(
        "publish_marketplace_item",
        "workflow_id",
        store
            .publish_marketplace_item(
                ctx,
                publication(
                    MarketplaceSource::Workflow {
                        id: a.workflow.id,
                        version: None,
                    },
                    "not ours",
                ),
            )
            .await,
    );
    // A's item is unpublished: no other organization sees it.
    c.clean(
        "list_marketplace_items",
        store
            .list_marketplace_items(ctx, MarketplaceFilter::default(), all())
            .await,
    );
    c.clean(
        "search_marketplace_items",
        store
            .search_marketplace_items(
                ctx,
                words("rocket pipeline"),
                MarketplaceFilter::default(),
                SearchLimit::default(),
            )
            .await,
    );
    c.not_found(
        "get_marketplace_item",
        store.get_marketplace_item(ctx, k.item.id).await,
    );
    c.not_found(
        "unpublish_marketplace_item",
        store.unpublish_marketplace_item(ctx, k.item.id).await,
    );
    c.not_found(
        "install_marketplace_item",
        store
            .install_marketplace_item(ctx, k.item.id, Some(name("Taken")))
            .await,
    );
    c.clean(
        "list_marketplace_installs",
        store.list_marketplace_installs(ctx, all()).await,
    );
}
