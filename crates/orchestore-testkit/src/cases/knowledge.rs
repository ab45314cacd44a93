//! The knowledge base: entries, full-text search, vectors and hybrid search.

use std::collections::BTreeMap;

use orchestore_domain::{
    CollectionName, Dimension, Embedding, EntryContent, EntrySource, EntryTitle, KnowledgeEntry,
    KnowledgeEntryPatch, Metadata, NewKnowledgeCollection, NewKnowledgeEntry, ProjectId,
    SearchLimit, Tags, TextQuery,
};
use orchestore_repo::{
    KnowledgeFilter, KnowledgeHit, KnowledgeSearch, PageRequest, SearchMode, Store,
};
use serde_json::json;

use super::{PASSWORD, assert_conflict, assert_invalid, assert_not_found, assert_reference};
use crate::Fixture;

pub(crate) fn entry(title: &str, content: &str) -> NewKnowledgeEntry {
    NewKnowledgeEntry::new(
        EntryTitle::parse(title).expect("title"),
        EntryContent::parse(content).expect("content"),
    )
}

pub(crate) fn collection(name: &str, dimension: i64) -> NewKnowledgeCollection {
    NewKnowledgeCollection {
        name: CollectionName::parse(name).expect("collection name"),
        dimension: Dimension::parse(dimension).expect("dimension"),
    }
}

pub(crate) fn vector(values: &[f64]) -> Embedding {
    Embedding::parse("vector", values).expect("vector")
}

fn tags(list: &[&str]) -> Tags {
    Tags::parse(list).expect("tags")
}

fn with_vector(new: NewKnowledgeEntry, collection: &str, values: &[f64]) -> NewKnowledgeEntry {
    NewKnowledgeEntry {
        embeddings: BTreeMap::from([(
            CollectionName::parse(collection).expect("collection name"),
            vector(values),
        )]),
        ..new
    }
}

pub(crate) fn text(query: &str) -> KnowledgeSearch {
    KnowledgeSearch {
        mode: SearchMode::Text(TextQuery::parse(query).expect("query")),
        filter: KnowledgeFilter::default(),
        limit: SearchLimit::default(),
    }
}

fn nearest(collection: &str, values: &[f64]) -> KnowledgeSearch {
    KnowledgeSearch {
        mode: SearchMode::Vector {
            collection: CollectionName::parse(collection).expect("collection name"),
            vector: vector(values),
        },
        filter: KnowledgeFilter::default(),
        limit: SearchLimit::default(),
    }
}

fn titles(hits: &[KnowledgeHit]) -> Vec<&str> {
    hits.iter().map(|hit| hit.entry.title.as_str()).collect()
}

async fn search<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    search: KnowledgeSearch,
) -> Vec<KnowledgeHit> {
    store
        .search_knowledge(&fixture.ctx, search)
        .await
        .expect("search")
}

pub async fn entry_crud_is_scoped_to_the_organization<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let project = acme.project(store, "Apollo").await;
    let ctx = &acme.ctx;
    let created = store
        .create_knowledge_entry(
            ctx,
            NewKnowledgeEntry {
                tags: tags(&["ops", "rockets"]),
                source: Some(EntrySource::parse("wiki").expect("source")),
                project_id: Some(project.id),
                metadata: Metadata::parse("metadata", json!({"page": 7})).expect("metadata"),
                ..entry("Launch checklist", "Fuel, then count down.")
            },
        )
        .await
        .expect("create");
    assert_eq!(created.created_by, acme.ctx.actor().to_string());
    assert_eq!(created.project_id, Some(project.id));
    let other = store
        .create_knowledge_entry(ctx, entry("Kitchen", "The oven is hot."))
        .await
        .expect("create");
    assert_eq!(
        store
            .get_knowledge_entry(ctx, created.id)
            .await
            .expect("get"),
        created
    );

    let by = |filter: KnowledgeFilter| async move {
        let page = store
            .list_knowledge_entries(ctx, filter, PageRequest::default())
            .await
            .expect("list");
        page.items.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    assert_eq!(by(KnowledgeFilter::default()).await, [created.id, other.id]);
    let tagged = KnowledgeFilter {
        tags: tags(&["rockets"]),
        ..KnowledgeFilter::default()
    };
    assert_eq!(by(tagged).await, [created.id]);
    let in_project = KnowledgeFilter {
        project_id: Some(project.id),
        ..KnowledgeFilter::default()
    };
    assert_eq!(by(in_project).await, [created.id]);
    let from_slack = KnowledgeFilter {
        source: Some(EntrySource::parse("slack").expect("source")),
        ..KnowledgeFilter::default()
    };
    assert!(by(from_slack).await.is_empty());

    let updated = store
        .update_knowledge_entry(
            ctx,
            created.id,
            KnowledgeEntryPatch {
                title: Some(EntryTitle::parse("Launch checklist v2").expect("title")),
                source: Some(None),
                project_id: Some(None),
                ..KnowledgeEntryPatch::default()
            },
            None,
        )
        .await
        .expect("update");
    assert_eq!(updated.title.as_str(), "Launch checklist v2");
    assert_eq!(updated.source, None);
    assert_eq!(updated.project_id, None);
    assert_eq!(updated.content, created.content);

    // Another organization: its project is a bad reference, our entry is not found.
    let foreign = NewKnowledgeEntry {
        project_id: Some(project.id),
        ..entry("Theirs", "Their words.")
    };
    assert_reference(
        store.create_knowledge_entry(&beta.ctx, foreign).await,
        "project_id",
    );
    assert_reference(
        store
            .create_knowledge_entry(
                ctx,
                NewKnowledgeEntry {
                    project_id: Some(ProjectId::new()),
                    ..entry("Lost", "No such project.")
                },
            )
            .await,
        "project_id",
    );
    assert_not_found(
        store.get_knowledge_entry(&beta.ctx, created.id).await,
        "knowledge_entry",
    );
    assert_not_found(
        store
            .delete_knowledge_entry(&beta.ctx, created.id, None)
            .await,
        "knowledge_entry",
    );
    store
        .delete_knowledge_entry(ctx, created.id, None)
        .await
        .expect("delete");
    assert_not_found(
        store.get_knowledge_entry(ctx, created.id).await,
        "knowledge_entry",
    );
    // An entry goes with its project.
    let in_apollo = store
        .create_knowledge_entry(
            ctx,
            NewKnowledgeEntry {
                project_id: Some(project.id),
                ..entry("Apollo notes", "Notes.")
            },
        )
        .await
        .expect("create");
    store
        .delete_project(ctx, project.id, None)
        .await
        .expect("delete project");
    assert_not_found(
        store.get_knowledge_entry(ctx, in_apollo.id).await,
        "knowledge_entry",
    );
}

/// Three entries whose relevance to "rocket" is unambiguous on both rankers: in the title
/// and twice in the content, once in the content, not at all.
async fn rocket_entries<S: Store + ?Sized>(store: &S, fixture: &Fixture) -> [KnowledgeEntry; 3] {
    let ctx = &fixture.ctx;
    let best = store
        .create_knowledge_entry(
            ctx,
            entry(
                "Rocket launch checklist",
                "Check the rocket before every rocket launch <b>twice</b> & log it.",
            ),
        )
        .await
        .expect("create");
    let once = store
        .create_knowledge_entry(
            ctx,
            entry("Kitchen notes", "Someone parked a toy rocket by the oven."),
        )
        .await
        .expect("create");
    let none = store
        .create_knowledge_entry(ctx, entry("Garden", "Tomatoes need water."))
        .await
        .expect("create");
    [best, once, none]
}

pub async fn text_search_ranks_by_relevance_and_highlights<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let [best, once, _] = rocket_entries(store, &fixture).await;

    let hits = search(store, &fixture, text("rocket")).await;
    assert_eq!(titles(&hits), [best.title.as_str(), once.title.as_str()]);
    assert!(hits[0].score > hits[1].score, "{hits:?}");
    assert_eq!(hits[0].text_rank, Some(1));
    assert_eq!(hits[1].text_rank, Some(2));
    assert_eq!(hits[0].vector_rank, None);
    let first = hits[0].highlight.as_ref().expect("highlight");
    assert_eq!(first.title, "<mark>Rocket</mark> launch checklist");
    // The entry's own markup is escaped: every `<mark>` is a match.
    assert!(first.snippet.contains("<mark>rocket</mark>"), "{first:?}");
    assert!(!first.snippet.contains("<b>"), "{first:?}");
    let second = hits[1].highlight.as_ref().expect("highlight");
    assert_eq!(second.title, "Kitchen notes");
    assert!(
        second
            .snippet
            .contains("a toy <mark>rocket</mark> by the oven"),
        "{second:?}"
    );

    // Words are stemmed alike: "launches" finds "launch".
    let hits = search(store, &fixture, text("LAUNCHES")).await;
    assert_eq!(titles(&hits), [best.title.as_str()]);
    // Every word is required; a phrase keeps its order.
    assert!(
        search(store, &fixture, text("rocket tomatoes"))
            .await
            .is_empty()
    );
    let hits = search(store, &fixture, text(r#""toy rocket""#)).await;
    assert_eq!(titles(&hits), [once.title.as_str()]);
    assert!(
        search(store, &fixture, text(r#""rocket toy""#))
            .await
            .is_empty()
    );
    // A user's quotes and operators are text, never syntax.
    for raw in [
        r#"rocket" OR -(oven*"#,
        "rocket NEAR/2 AND OR NOT",
        "title:rocket ^ {x}",
        "rocket' ; DROP TABLE knowledge_entries; --",
    ] {
        store
            .search_knowledge(&fixture.ctx, text(raw))
            .await
            .unwrap_or_else(|e| panic!("{raw}: {e}"));
    }
    assert_eq!(
        TextQuery::parse("the of and").unwrap_err().field(),
        Some("query")
    );
}

pub async fn text_search_applies_filters_inside_the_query<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let project = fixture.project(store, "Apollo").await;
    let ctx = &fixture.ctx;
    let [best, once, _] = rocket_entries(store, &fixture).await;
    let filtered = store
        .create_knowledge_entry(
            ctx,
            NewKnowledgeEntry {
                tags: tags(&["hardware"]),
                source: Some(EntrySource::parse("slack").expect("source")),
                project_id: Some(project.id),
                ..entry("Bench", "A rocket engine on the bench.")
            },
        )
        .await
        .expect("create");
    assert_eq!(search(store, &fixture, text("rocket")).await.len(), 3);
    // The best match overall is filtered out, and the limit of one still finds the entry
    // that passes: the filter is applied before the ranking is cut.
    for filter in [
        KnowledgeFilter {
            tags: tags(&["hardware"]),
            ..KnowledgeFilter::default()
        },
        KnowledgeFilter {
            project_id: Some(project.id),
            ..KnowledgeFilter::default()
        },
        KnowledgeFilter {
            source: Some(EntrySource::parse("slack").expect("source")),
            ..KnowledgeFilter::default()
        },
    ] {
        let hits = search(
            store,
            &fixture,
            KnowledgeSearch {
                filter: filter.clone(),
                limit: SearchLimit::parse(1).expect("limit"),
                ..text("rocket")
            },
        )
        .await;
        assert_eq!(titles(&hits), [filtered.title.as_str()], "{filter:?}");
    }
    let hits = search(
        store,
        &fixture,
        KnowledgeSearch {
            limit: SearchLimit::parse(2).expect("limit"),
            ..text("rocket")
        },
    )
    .await;
    assert_eq!(hits.len(), 2);
    // The other two hold the word once each: which comes second is the ranker's call.
    assert_eq!(hits[0].entry.id, best.id);
    assert!([once.id, filtered.id].contains(&hits[1].entry.id));
}

pub async fn search_follows_updates_and_deletes<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let [best, once, _] = rocket_entries(store, &fixture).await;
    store
        .update_knowledge_entry(
            ctx,
            once.id,
            KnowledgeEntryPatch {
                content: Some(EntryContent::parse("A spaceship parked by the oven.").expect("c")),
                ..KnowledgeEntryPatch::default()
            },
            None,
        )
        .await
        .expect("update");
    let hits = search(store, &fixture, text("rocket")).await;
    assert_eq!(titles(&hits), [best.title.as_str()]);
    let hits = search(store, &fixture, text("spaceship")).await;
    assert_eq!(titles(&hits), [once.title.as_str()]);
    store
        .delete_knowledge_entry(ctx, best.id, None)
        .await
        .expect("delete");
    assert!(search(store, &fixture, text("rocket")).await.is_empty());
}

pub async fn vectors_need_their_collections_dimension<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    let small = store
        .create_knowledge_collection(ctx, collection("small", 3))
        .await
        .expect("collection");
    assert_eq!(small.dimension.get(), 3);
    assert_conflict(
        store
            .create_knowledge_collection(ctx, collection("small", 5))
            .await,
        Some("name"),
    );
    assert_invalid(
        store
            .create_knowledge_entry(ctx, with_vector(entry("A", "a"), "small", &[1.0, 0.0]))
            .await,
        "embeddings",
    );
    assert_reference(
        store
            .create_knowledge_entry(ctx, with_vector(entry("A", "a"), "large", &[1.0]))
            .await,
        "embeddings",
    );
    // Nothing of a refused entry was written.
    let listed = store
        .list_knowledge_entries(ctx, KnowledgeFilter::default(), PageRequest::default())
        .await
        .expect("list");
    assert!(listed.items.is_empty());

    let kept = store
        .create_knowledge_entry(ctx, with_vector(entry("A", "a"), "small", &[1.0, 0.0, 0.0]))
        .await
        .expect("create");
    assert_eq!(kept.embeddings, std::slice::from_ref(&small.name));
    assert_invalid(
        store
            .search_knowledge(ctx, nearest("small", &[1.0, 0.0]))
            .await,
        "vector",
    );
    assert_reference(
        store.search_knowledge(ctx, nearest("large", &[1.0])).await,
        "collection",
    );
    let removed = store
        .update_knowledge_entry(
            ctx,
            kept.id,
            KnowledgeEntryPatch {
                embeddings: BTreeMap::from([(small.name.clone(), None)]),
                ..KnowledgeEntryPatch::default()
            },
            None,
        )
        .await
        .expect("update");
    assert!(removed.embeddings.is_empty());
    assert!(
        search(store, &fixture, nearest("small", &[1.0, 0.0, 0.0]))
            .await
            .is_empty()
    );

    store
        .update_knowledge_entry(
            ctx,
            kept.id,
            KnowledgeEntryPatch {
                embeddings: BTreeMap::from([(small.name.clone(), Some(vector(&[0.0, 1.0, 0.0])))]),
                ..KnowledgeEntryPatch::default()
            },
            None,
        )
        .await
        .expect("update");
    assert_eq!(
        search(store, &fixture, nearest("small", &[0.0, 2.0, 0.0]))
            .await
            .len(),
        1
    );
    // A collection goes with its vectors; the entries stay.
    store
        .delete_knowledge_collection(ctx, small.id)
        .await
        .expect("delete collection");
    let entry = store.get_knowledge_entry(ctx, kept.id).await.expect("get");
    assert!(entry.embeddings.is_empty());
    let collections = store
        .list_knowledge_collections(ctx, PageRequest::default())
        .await
        .expect("list");
    assert!(collections.items.is_empty());
}

pub async fn vector_search_orders_by_cosine_similarity<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    store
        .create_knowledge_collection(ctx, collection("model-a", 2))
        .await
        .expect("collection");
    let mut made = Vec::new();
    // Angles from the query [1, 0]: 0°, 30°, 60°, 90°, 180°.
    for (title, values) in [
        ("ninety", [0.0, 5.0]),
        ("thirty", [0.866_025_4, 0.5]),
        ("opposite", [-1.0, 0.0]),
        ("zero", [3.0, 0.0]),
        ("sixty", [0.5, 0.866_025_4]),
    ] {
        let new = NewKnowledgeEntry {
            tags: tags(if title == "sixty" { &["odd"] } else { &[] }),
            ..with_vector(entry(title, "text"), "model-a", &values)
        };
        made.push(
            store
                .create_knowledge_entry(ctx, new)
                .await
                .expect("create"),
        );
    }
    let hits = search(store, &fixture, nearest("model-a", &[2.0, 0.0])).await;
    assert_eq!(
        titles(&hits),
        ["zero", "thirty", "sixty", "ninety", "opposite"]
    );
    let similarities: Vec<f64> = hits
        .iter()
        .map(|h| h.similarity.unwrap_or(f64::NAN))
        .collect();
    for (got, expected) in similarities.iter().zip([1.0, 0.866_025, 0.5, 0.0, -1.0]) {
        assert!((got - expected).abs() < 1e-5, "{similarities:?}");
    }
    assert_eq!(hits[0].vector_rank, Some(1));
    assert_eq!(hits[0].score, hits[0].similarity.unwrap_or_default());
    assert!(hits[0].highlight.is_none());

    let limited = KnowledgeSearch {
        limit: SearchLimit::parse(2).expect("limit"),
        ..nearest("model-a", &[1.0, 0.0])
    };
    assert_eq!(
        titles(&search(store, &fixture, limited).await),
        ["zero", "thirty"]
    );
    let filtered = KnowledgeSearch {
        filter: KnowledgeFilter {
            tags: tags(&["odd"]),
            ..KnowledgeFilter::default()
        },
        limit: SearchLimit::parse(1).expect("limit"),
        ..nearest("model-a", &[1.0, 0.0])
    };
    assert_eq!(titles(&search(store, &fixture, filtered).await), ["sixty"]);
}

pub async fn hybrid_search_fuses_the_ranks<S: Store + ?Sized>(store: &S) {
    let fixture = Fixture::create(store, "acme", PASSWORD).await;
    let ctx = &fixture.ctx;
    store
        .create_knowledge_collection(ctx, collection("model-a", 2))
        .await
        .expect("collection");
    // Text order for "rocket": best, once. Vector order for [1, 0]: far-text (no words),
    // once, best.
    for (title, content, values) in [
        (
            "Rocket launch checklist",
            "Check the rocket before every rocket launch.",
            [0.0, 1.0],
        ),
        (
            "Kitchen notes",
            "Someone parked a toy rocket here.",
            [0.8, 0.6],
        ),
        ("Garden", "Tomatoes need water.", [1.0, 0.0]),
    ] {
        store
            .create_knowledge_entry(ctx, with_vector(entry(title, content), "model-a", &values))
            .await
            .expect("create");
    }
    let hybrid = KnowledgeSearch {
        mode: SearchMode::Hybrid {
            query: TextQuery::parse("rocket").expect("query"),
            collection: CollectionName::parse("model-a").expect("name"),
            vector: vector(&[1.0, 0.0]),
        },
        filter: KnowledgeFilter::default(),
        limit: SearchLimit::default(),
    };
    let hits = search(store, &fixture, hybrid).await;
    // Kitchen: text 2 + vector 2 = 2/62; checklist: text 1 + vector 3 = 1/61 + 1/63 (just
    // above); garden: vector 1 alone = 1/61.
    assert_eq!(
        titles(&hits),
        ["Rocket launch checklist", "Kitchen notes", "Garden"]
    );
    let ranks: Vec<(Option<u32>, Option<u32>)> =
        hits.iter().map(|h| (h.text_rank, h.vector_rank)).collect();
    assert_eq!(
        ranks,
        [(Some(1), Some(3)), (Some(2), Some(2)), (None, Some(1))]
    );
    assert!((hits[1].score - 2.0 / 62.0).abs() < 1e-12);
    assert!((hits[2].score - 1.0 / 61.0).abs() < 1e-12);
    assert!(hits[0].highlight.is_some());
    assert!(hits[2].highlight.is_none());
    assert!(hits[2].similarity.is_some_and(|s| (s - 1.0).abs() < 1e-6));
}

pub async fn another_organizations_entries_never_appear_in_search<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    for fixture in [&acme, &beta] {
        store
            .create_knowledge_collection(&fixture.ctx, collection("model-a", 2))
            .await
            .expect("collection");
    }
    let ours = store
        .create_knowledge_entry(
            &acme.ctx,
            with_vector(entry("Rocket", "rocket fuel"), "model-a", &[1.0, 0.0]),
        )
        .await
        .expect("create");
    let theirs = store
        .create_knowledge_entry(
            &beta.ctx,
            with_vector(entry("Rocket", "rocket fuel"), "model-a", &[1.0, 0.0]),
        )
        .await
        .expect("create");
    for (fixture, own) in [(&acme, ours.id), (&beta, theirs.id)] {
        let hits = search(store, fixture, text("rocket")).await;
        assert_eq!(hits.iter().map(|h| h.entry.id).collect::<Vec<_>>(), [own]);
        let hits = search(store, fixture, nearest("model-a", &[1.0, 0.0])).await;
        assert_eq!(hits.iter().map(|h| h.entry.id).collect::<Vec<_>>(), [own]);
    }
}
