//! What agents know and share, through the typed client: `/api/v1/knowledge`,
//! `/api/v1/learning-records` and `/api/v1/marketplace`.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use orchestore_client::api::knowledge::{
    CreateCollectionBody, CreateEntryBody, ListEntriesQuery, PatchEntryBody, SearchBody,
};
use orchestore_client::api::learning::{CreateRecordBody, ListRecordsQuery};
use orchestore_client::api::marketplace::{
    InstallBody, ListItemsQuery, PublishBody, SearchBody as MarketplaceSearchBody,
};
use orchestore_client::api::{PageQuery, PatchField};
use orchestore_domain::{InstalledCopy, LearningOutcome, MarketplaceKind, WorkflowId};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

pub async fn knowledge_is_managed_and_searched_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let collection = client
        .create_knowledge_collection(&CreateCollectionBody {
            name: "model-a".into(),
            dimension: 2,
        })
        .await
        .expect("created");
    assert_eq!(collection.name.as_str(), "model-a");
    assert_eq!(
        client
            .get_knowledge_collection(collection.id)
            .await
            .expect("read"),
        collection
    );
    let collections: Vec<_> = client
        .list_knowledge_collections_stream(&PageQuery::default())
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(collections, std::slice::from_ref(&collection));

    let vector = |values: [f64; 2]| {
        Some(BTreeMap::from([(
            "model-a".to_owned(),
            Some(values.to_vec()),
        )]))
    };
    let checklist = client
        .create_knowledge_entry(&CreateEntryBody {
            title: "Rocket launch checklist".into(),
            content: "Check the rocket before every launch.".into(),
            tags: Some(vec!["ops".into()]),
            source: Some("wiki".into()),
            embeddings: vector([0.0, 1.0]),
            ..Default::default()
        })
        .await
        .expect("created");
    assert_eq!(checklist.embeddings.len(), 1);
    let toy = client
        .create_knowledge_entry(&CreateEntryBody {
            title: "Kitchen".into(),
            content: "A toy rocket.".into(),
            embeddings: vector([1.0, 0.0]),
            ..Default::default()
        })
        .await
        .expect("created");
    assert_eq!(
        client
            .get_knowledge_entry(checklist.id)
            .await
            .expect("read"),
        checklist
    );

    let ops = client
        .list_knowledge_entries(&ListEntriesQuery {
            tags: Some("ops".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(ops.items, std::slice::from_ref(&checklist));
    let every: Vec<_> = client
        .list_knowledge_entries_stream(&ListEntriesQuery {
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 2);

    let by_text = client
        .search_knowledge(&SearchBody {
            query: Some("checklist".into()),
            ..Default::default()
        })
        .await
        .expect("hits");
    assert_eq!(by_text.items.len(), 1);
    assert_eq!(by_text.items[0].entry.id, checklist.id);
    let nearest = client
        .search_knowledge(&SearchBody {
            collection: Some("model-a".into()),
            vector: Some(vec![0.9, 0.1]),
            ..Default::default()
        })
        .await
        .expect("hits");
    assert_eq!(nearest.items[0].entry.id, toy.id);

    let retitled = client
        .update_knowledge_entry(
            checklist.id,
            &PatchEntryBody {
                title: PatchField::Value("Launch checklist".into()),
                source: PatchField::Null,
                ..Default::default()
            },
            Some(checklist.revision),
        )
        .await
        .expect("changed");
    assert_eq!(retitled.title.as_str(), "Launch checklist");
    assert_eq!(retitled.source, None);
    assert_eq!(
        retitled.tags, checklist.tags,
        "absent fields stay as they were"
    );
    let stale = client
        .delete_knowledge_entry(checklist.id, Some(checklist.revision))
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412));
    client
        .delete_knowledge_entry(checklist.id, Some(retitled.revision))
        .await
        .expect("deleted");
    let gone = client
        .get_knowledge_entry(checklist.id)
        .await
        .expect_err("gone");
    assert_eq!(gone.status(), Some(404));

    let err = client
        .search_knowledge(&SearchBody {
            vector: Some(vec![1.0, 0.0]),
            ..Default::default()
        })
        .await
        .expect_err("a vector without its collection");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("collection")
    );
    client
        .delete_knowledge_collection(collection.id)
        .await
        .expect("deleted");
    let gone = client
        .get_knowledge_collection(collection.id)
        .await
        .expect_err("gone");
    assert_eq!(gone.status(), Some(404));
}

pub async fn learning_records_are_kept_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let mut made = Vec::new();
    for (pattern, service, score) in [
        ("deploy.rollback", "api", 0.9),
        ("deploy.canary", "web", 0.4),
        ("review", "api", 0.7),
    ] {
        let record = client
            .create_learning_record(&CreateRecordBody {
                pattern: pattern.into(),
                context: Some(json!({"service": service})),
                outcome: "success".into(),
                score,
            })
            .await
            .expect("recorded");
        assert_eq!(record.outcome, LearningOutcome::Success);
        made.push(record);
    }
    assert_eq!(
        client.get_learning_record(made[0].id).await.expect("read"),
        made[0]
    );
    let deploys = client
        .list_learning_records(&ListRecordsQuery {
            pattern_prefix: Some("deploy.".into()),
            sort: Some("-score".into()),
            ..Default::default()
        })
        .await
        .expect("a page");
    let patterns: Vec<_> = deploys.items.iter().map(|r| r.pattern.as_str()).collect();
    assert_eq!(patterns, ["deploy.rollback", "deploy.canary"]);
    let of_api: Vec<_> = client
        .list_learning_records_stream(&ListRecordsQuery {
            context: Some(json!({"service": "api"}).to_string()),
            limit: Some(1),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(of_api.len(), 2);

    let err = client
        .list_learning_records(&ListRecordsQuery {
            pattern: Some("review".into()),
            pattern_prefix: Some("deploy.".into()),
            ..Default::default()
        })
        .await
        .expect_err("both");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("pattern_prefix")
    );
}

pub async fn marketplace_items_are_published_and_installed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    // Workflows have no client methods here yet: the workflow to publish is made over HTTP.
    let token = app.admin_token().await;
    let workflow = app
        .post(&token, "/api/v1/workflows", json!({"name": "Pipeline"}))
        .await;
    let workflow_id: WorkflowId = workflow.body["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("an id");
    let version = app
        .post(
            &token,
            &format!("/api/v1/workflows/{workflow_id}/versions"),
            json!({"definition": {"steps": [{"name": "build"}]}}),
        )
        .await;
    assert_eq!(version.status, StatusCode::CREATED, "{}", version.body);

    let item = client
        .publish_marketplace_item(&PublishBody {
            workflow_id: Some(workflow_id),
            description: Some("Builds".into()),
            tags: Some(vec!["ci".into()]),
            readme: Some("Compiles rockets.".into()),
            ..Default::default()
        })
        .await
        .expect("published");
    assert_eq!(item.kind, MarketplaceKind::Workflow);
    assert_eq!(item.version, 1);
    assert!(item.published_by_caller);
    assert_eq!(
        client.get_marketplace_item(item.id).await.expect("read"),
        item
    );
    let tagged: Vec<_> = client
        .list_marketplace_items_stream(&ListItemsQuery {
            tag: Some("ci".into()),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(tagged, std::slice::from_ref(&item));
    let found = client
        .search_marketplace(&MarketplaceSearchBody {
            query: "compiling rockets".into(),
            kind: Some("workflow".into()),
            ..Default::default()
        })
        .await
        .expect("hits");
    assert_eq!(found.items[0].item.id, item.id);

    let installed = client
        .install_marketplace_item(
            item.id,
            &InstallBody {
                name: Some("Pipeline copy".into()),
            },
        )
        .await
        .expect("installed");
    assert_eq!(installed.install.item_id, item.id);
    let InstalledCopy::Workflow { workflow, .. } = &installed.copy else {
        panic!("a workflow item makes a workflow, not {:?}", installed.copy);
    };
    assert_eq!(workflow.name.as_str(), "Pipeline copy");
    assert_eq!(installed.install.workflow_id, Some(workflow.id));
    let installs = client
        .list_marketplace_installs(&PageQuery::default())
        .await
        .expect("a page");
    assert_eq!(installs.items, std::slice::from_ref(&installed.install));
    let every_install: Vec<_> = client
        .list_marketplace_installs_stream(&PageQuery::default())
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every_install, installs.items);

    let unpublished = client
        .unpublish_marketplace_item(item.id)
        .await
        .expect("unpublished");
    assert!(unpublished.unpublished_at.is_some());
    let mine = client
        .list_marketplace_items(&ListItemsQuery::default())
        .await
        .expect("a page");
    assert_eq!(
        mine.items,
        [unpublished],
        "its publisher alone sees it still"
    );

    let err = client
        .publish_marketplace_item(&PublishBody::default())
        .await
        .expect_err("no source");
    assert_eq!(err.status(), Some(422));
    assert_eq!(
        err.problem().map(|p| p.errors[0].field.as_str()),
        Some("workflow_id")
    );
}
