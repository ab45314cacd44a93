//! `/api/v1/projects` through the typed client.

use futures_util::TryStreamExt;
use orchestore_client::Error;
use orchestore_client::api::PatchField;
use orchestore_client::api::projects::{CreateProjectBody, ListProjectsQuery, PatchProjectBody};

use crate::helpers::*;

pub async fn projects_are_managed_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let created = client
        .create_project(&CreateProjectBody {
            name: "  Apollo ".into(),
            tags: Some(vec!["space".into(), "nasa".into()]),
            ..Default::default()
        })
        .await
        .expect("created");
    assert_eq!(created.name.as_str(), "Apollo");
    assert_eq!(client.get_project(created.id).await.expect("read"), created);

    for name in ["Gemini", "Mercury"] {
        client
            .create_project(&CreateProjectBody {
                name: name.into(),
                ..Default::default()
            })
            .await
            .expect("created");
    }
    let first = client
        .list_projects(&ListProjectsQuery {
            limit: Some(2),
            ..Default::default()
        })
        .await
        .expect("a page");
    assert_eq!(first.items.len(), 2);
    assert!(first.next_cursor.is_some());
    let every: Vec<_> = client
        .list_projects_stream(&ListProjectsQuery {
            limit: Some(2),
            ..Default::default()
        })
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(every.len(), 3);

    let renamed = client
        .update_project(
            created.id,
            &PatchProjectBody {
                name: PatchField::Value("Artemis".into()),
                ..Default::default()
            },
            Some(created.revision),
        )
        .await
        .expect("renamed");
    assert_eq!(renamed.name.as_str(), "Artemis");
    assert_eq!(
        renamed.tags, created.tags,
        "absent fields stay as they were"
    );

    // The revision read before the rename is stale now: nothing is written.
    let stale = client
        .delete_project(created.id, Some(created.revision))
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412));
    let stats = client.project_stats(created.id).await.expect("stats");
    assert_eq!(stats.total, 0);

    client
        .delete_project(created.id, Some(renamed.revision))
        .await
        .expect("deleted");
    let gone = client.get_project(created.id).await.expect_err("gone");
    assert_eq!(gone.status(), Some(404));
}

pub async fn a_refusal_carries_its_problem_document(app: &TestApp) {
    let client = app.admin_client().await;
    let err = client
        .create_project(&CreateProjectBody {
            name: " ".into(),
            repository_url: Some("not a url".into()),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    let Error::Problem(problem) = &err else {
        panic!("a problem document, not {err:?}");
    };
    assert_eq!(problem.status, 422);
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "repository_url"]);

    let anonymous = app.client(orchestore_client::Credential::Anonymous);
    let err = anonymous
        .list_projects(&ListProjectsQuery::default())
        .await
        .expect_err("no credential");
    assert_eq!(err.status(), Some(401));
    assert!(err.problem().is_some_and(|p| !p.detail.is_empty()));
}
