//! The marketplace: publishing, browsing, searching, installing and unpublishing.

use orchestore_domain::{
    Description, InstalledCopy, MarketplaceContent, MarketplaceItem, MarketplaceKind,
    MarketplaceSource, Name, NewMarketplaceItem, NewTemplate, NewWorkflow, SearchLimit, Tags,
    Template, TemplateBody, TemplateKind, TemplateParameters, TextQuery, Workflow,
    WorkflowDefinition,
};
use orchestore_repo::{MarketplaceFilter, PageRequest, Store};
use serde_json::json;

use super::{PASSWORD, assert_conflict, assert_not_found, assert_reference};
use crate::Fixture;

fn name(text: &str) -> Name {
    Name::parse("name", text).expect("name")
}

pub(crate) fn definition(step: &str) -> WorkflowDefinition {
    WorkflowDefinition::parse(json!({"steps": [{"name": step, "title": "Run {step}"}]}))
        .expect("definition")
}

/// A workflow with one version of one step.
pub(crate) async fn workflow<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    title: &str,
) -> Workflow {
    let ctx = &fixture.ctx;
    let workflow = store
        .create_workflow(
            ctx,
            NewWorkflow {
                name: name(title),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");
    store
        .create_version(ctx, workflow.id, definition("build"))
        .await
        .expect("version");
    workflow
}

pub(crate) async fn template<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    title: &str,
) -> Template {
    let parameters = TemplateParameters::default();
    let body = TemplateBody::parse(
        TemplateKind::Task,
        &parameters,
        json!({"tasks": [{"title": "Review"}]}),
    )
    .expect("body");
    store
        .create_template(
            &fixture.ctx,
            NewTemplate {
                name: name(title),
                description: Description::empty(),
                kind: TemplateKind::Task,
                parameters,
                body,
            },
        )
        .await
        .expect("template")
}

pub(crate) fn publication(source: MarketplaceSource, readme: &str) -> NewMarketplaceItem {
    NewMarketplaceItem {
        source,
        name: None,
        description: Description::parse("description", "Builds things").expect("description"),
        tags: Tags::parse(&["ci"]).expect("tags"),
        readme: Description::parse("readme", readme).expect("readme"),
    }
}

fn ids(items: &[MarketplaceItem]) -> Vec<String> {
    items.iter().map(|item| item.id.to_string()).collect()
}

pub async fn published_items_are_browsed_and_searched_by_every_organization<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let pipeline = workflow(store, &acme, "Pipeline").await;
    let review = template(store, &acme, "Review").await;
    let item = store
        .publish_marketplace_item(
            &acme.ctx,
            publication(
                MarketplaceSource::Workflow {
                    id: pipeline.id,
                    version: None,
                },
                "Compiles rockets and deploys them.",
            ),
        )
        .await
        .expect("publish");
    assert_eq!(item.name.as_str(), "Pipeline");
    assert_eq!(item.version, 1);
    assert_eq!(item.kind, MarketplaceKind::Workflow);
    assert_eq!(item.publisher.as_str(), "Org acme");
    assert!(item.published_by_caller);
    assert_eq!(
        item.content,
        MarketplaceContent::Workflow {
            definition: definition("build")
        }
    );
    let reviewed = store
        .publish_marketplace_item(
            &acme.ctx,
            NewMarketplaceItem {
                name: Some(name("Code review")),
                ..publication(MarketplaceSource::Template(review.id), "Reviews code.")
            },
        )
        .await
        .expect("publish");
    assert_eq!(reviewed.kind, MarketplaceKind::Template);

    // Beta sees both, as published, not as its own.
    let page = store
        .list_marketplace_items(
            &beta.ctx,
            MarketplaceFilter::default(),
            PageRequest::default(),
        )
        .await
        .expect("browse");
    assert_eq!(ids(&page.items), ids(&[reviewed.clone(), item.clone()]));
    assert!(page.items.iter().all(|i| !i.published_by_caller));
    let workflows = MarketplaceFilter {
        kind: Some(MarketplaceKind::Workflow),
        ..MarketplaceFilter::default()
    };
    let page = store
        .list_marketplace_items(&beta.ctx, workflows, PageRequest::default())
        .await
        .expect("browse");
    assert_eq!(ids(&page.items), ids(std::slice::from_ref(&item)));
    let got = store
        .get_marketplace_item(&beta.ctx, item.id)
        .await
        .expect("get");
    assert_eq!(got.content, item.content);
    let hits = store
        .search_marketplace_items(
            &beta.ctx,
            TextQuery::parse("deploying rockets").expect("query"),
            MarketplaceFilter::default(),
            SearchLimit::default(),
        )
        .await
        .expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].item.id, item.id);
    // The name outranks the readme.
    let hits = store
        .search_marketplace_items(
            &beta.ctx,
            TextQuery::parse("review").expect("query"),
            MarketplaceFilter::default(),
            SearchLimit::default(),
        )
        .await
        .expect("search");
    assert_eq!(hits[0].item.id, reviewed.id);

    // Only its publisher unpublishes it.
    assert_not_found(
        store.unpublish_marketplace_item(&beta.ctx, item.id).await,
        "marketplace_item",
    );
    // A source of another organization is not ours to publish.
    assert_reference(
        store
            .publish_marketplace_item(
                &beta.ctx,
                publication(MarketplaceSource::Template(review.id), "Mine now."),
            )
            .await,
        "template_id",
    );
    let bare = store
        .create_workflow(
            &beta.ctx,
            NewWorkflow {
                name: name("Bare"),
                description: Description::empty(),
            },
        )
        .await
        .expect("workflow");
    assert_reference(
        store
            .publish_marketplace_item(
                &beta.ctx,
                publication(
                    MarketplaceSource::Workflow {
                        id: bare.id,
                        version: None,
                    },
                    "No steps yet.",
                ),
            )
            .await,
        "version",
    );
}

pub async fn publishing_a_name_again_makes_its_next_version<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let pipeline = workflow(store, &acme, "Pipeline").await;
    let source = MarketplaceSource::Workflow {
        id: pipeline.id,
        version: Some(1),
    };
    let first = store
        .publish_marketplace_item(&acme.ctx, publication(source, "v1"))
        .await
        .expect("publish");
    store
        .create_version(&acme.ctx, pipeline.id, definition("test"))
        .await
        .expect("version 2");
    let second = store
        .publish_marketplace_item(
            &acme.ctx,
            publication(
                MarketplaceSource::Workflow {
                    id: pipeline.id,
                    version: None,
                },
                "v2",
            ),
        )
        .await
        .expect("publish");
    assert_eq!((first.version, second.version), (1, 2));
    assert_eq!(
        second.content,
        MarketplaceContent::Workflow {
            definition: definition("test")
        }
    );
    // Another organization's item of the same name starts at 1.
    let theirs = workflow(store, &beta, "pipeline").await;
    let other = store
        .publish_marketplace_item(
            &beta.ctx,
            publication(
                MarketplaceSource::Workflow {
                    id: theirs.id,
                    version: None,
                },
                "theirs",
            ),
        )
        .await
        .expect("publish");
    assert_eq!(other.version, 1);
}

pub async fn installing_copies_the_item_and_records_its_source<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let pipeline = workflow(store, &acme, "Pipeline").await;
    let review = template(store, &acme, "Review").await;
    let flow_item = store
        .publish_marketplace_item(
            &acme.ctx,
            publication(
                MarketplaceSource::Workflow {
                    id: pipeline.id,
                    version: None,
                },
                "readme",
            ),
        )
        .await
        .expect("publish");
    let template_item = store
        .publish_marketplace_item(
            &acme.ctx,
            publication(MarketplaceSource::Template(review.id), "readme"),
        )
        .await
        .expect("publish");

    let installed = store
        .install_marketplace_item(&beta.ctx, flow_item.id, None)
        .await
        .expect("install");
    let InstalledCopy::Workflow { workflow, version } = &installed.copy else {
        panic!("expected a workflow, got {:?}", installed.copy);
    };
    assert_eq!(workflow.organization_id, beta.org.id);
    assert_eq!(workflow.name.as_str(), "Pipeline");
    assert_eq!(workflow.latest_version, Some(1));
    assert_eq!(version.definition, definition("build"));
    assert_eq!(installed.install.item_id, flow_item.id);
    assert_eq!(installed.install.item_version, 1);
    assert_eq!(installed.install.workflow_id, Some(workflow.id));
    assert_eq!(installed.install.installed_by, beta.ctx.actor().to_string());
    let read = store
        .get_workflow(&beta.ctx, workflow.id)
        .await
        .expect("the copy is beta's");
    assert_eq!(read.id, workflow.id);

    // The name is taken now: a conflict on the install's name, and nothing is written.
    assert_conflict(
        store
            .install_marketplace_item(&beta.ctx, flow_item.id, None)
            .await,
        Some("name"),
    );
    let copy = store
        .install_marketplace_item(&beta.ctx, template_item.id, Some(name("Our review")))
        .await
        .expect("install");
    let InstalledCopy::Template(template) = &copy.copy else {
        panic!("expected a template, got {:?}", copy.copy);
    };
    assert_eq!(template.name.as_str(), "Our review");
    assert_eq!(template.body, review.body);
    assert_eq!(copy.install.template_id, Some(template.id));

    let installs = store
        .list_marketplace_installs(&beta.ctx, PageRequest::default())
        .await
        .expect("installs");
    assert_eq!(installs.items, [installed.install.clone(), copy.install]);
    let none = store
        .list_marketplace_installs(&acme.ctx, PageRequest::default())
        .await
        .expect("installs");
    assert!(none.items.is_empty());
}

pub async fn unpublished_items_are_hidden_and_installs_keep_their_copies<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let beta = Fixture::create(store, "beta", PASSWORD).await;
    let pipeline = workflow(store, &acme, "Pipeline").await;
    let item = store
        .publish_marketplace_item(
            &acme.ctx,
            publication(
                MarketplaceSource::Workflow {
                    id: pipeline.id,
                    version: None,
                },
                "rockets",
            ),
        )
        .await
        .expect("publish");
    let installed = store
        .install_marketplace_item(&beta.ctx, item.id, None)
        .await
        .expect("install");
    let unpublished = store
        .unpublish_marketplace_item(&acme.ctx, item.id)
        .await
        .expect("unpublish");
    assert!(unpublished.unpublished_at.is_some());
    let again = store
        .unpublish_marketplace_item(&acme.ctx, item.id)
        .await
        .expect("unpublish again");
    assert_eq!(again.unpublished_at, unpublished.unpublished_at);

    assert_not_found(
        store.get_marketplace_item(&beta.ctx, item.id).await,
        "marketplace_item",
    );
    assert_not_found(
        store
            .install_marketplace_item(&beta.ctx, item.id, Some(name("Again")))
            .await,
        "marketplace_item",
    );
    let browse = store
        .list_marketplace_items(
            &beta.ctx,
            MarketplaceFilter::default(),
            PageRequest::default(),
        )
        .await
        .expect("browse");
    assert!(browse.items.is_empty());
    let hits = store
        .search_marketplace_items(
            &beta.ctx,
            TextQuery::parse("rockets").expect("query"),
            MarketplaceFilter::default(),
            SearchLimit::default(),
        )
        .await
        .expect("search");
    assert!(hits.is_empty());
    // Its publisher still sees it among its own.
    let mine = MarketplaceFilter {
        mine: true,
        ..MarketplaceFilter::default()
    };
    let own = store
        .list_marketplace_items(&acme.ctx, mine, PageRequest::default())
        .await
        .expect("browse");
    assert_eq!(ids(&own.items), ids(&[unpublished]));
    // The copy made stays.
    let InstalledCopy::Workflow { workflow, .. } = installed.copy else {
        panic!("expected a workflow");
    };
    store
        .get_workflow(&beta.ctx, workflow.id)
        .await
        .expect("the copy stays");
}
