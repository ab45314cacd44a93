//! The organization, the instance, the audit log, the retention policy and health through the
//! typed client.

use futures_util::TryStreamExt;
use orchestore_client::Credential;
use orchestore_client::api::audit_logs::ListAuditQuery;
use orchestore_client::api::projects::CreateProjectBody;
use orchestore_client::api::retention::PolicyBody;
use orchestore_repo::AuditEntry;

use crate::helpers::*;

pub async fn the_organization_and_the_instance_are_read_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let organization = client.get_organization().await.expect("the organization");
    assert_eq!(organization.slug.as_str(), ORGANIZATION);
    let database = client.get_database_status().await.expect("the database");
    assert!(!database.tables.is_empty());

    let admin = app.admin_token().await;
    app.create_user(&admin, "dev@example.test", &["developer"])
        .await;
    let developer = app.client(Credential::Bearer(
        app.token("dev@example.test", USER_PASSWORD).await,
    ));
    let refused = developer
        .get_database_status()
        .await
        .expect_err("no system:read");
    assert_eq!(refused.status(), Some(403));
    assert!(refused.problem().is_some(), "{refused:?}");

    let anonymous = app.client(Credential::Anonymous);
    assert_eq!(anonymous.health_live().await.expect("alive").status, "ok");
    let ready = anonymous.health_ready().await.expect("ready");
    assert_eq!(ready.status, "ready");
    assert_eq!(ready.backend, database.backend);
}

pub async fn the_audit_log_is_listed_and_verified_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    for name in ["Apollo", "Gemini", "Mercury"] {
        client
            .create_project(&CreateProjectBody {
                name: name.into(),
                ..Default::default()
            })
            .await
            .expect("created");
    }
    let query = ListAuditQuery {
        entity: Some("project".into()),
        ..Default::default()
    };
    let first = client.list_audit_logs(&query).await.expect("a page");
    assert_eq!(first.items.len(), 3);
    let streamed: Vec<_> = client
        .list_audit_logs_stream(&ListAuditQuery {
            limit: Some(2),
            ..query.clone()
        })
        .try_collect()
        .await
        .expect("every page");
    // The same rows; the server's sealer may have given them their place in between.
    let unsealed = |entries: Vec<AuditEntry>| -> Vec<AuditEntry> {
        entries
            .into_iter()
            .map(|entry| AuditEntry {
                seq: None,
                hash: None,
                ..entry
            })
            .collect()
    };
    assert_eq!(unsealed(streamed), unsealed(first.items));

    let bad = client
        .list_audit_logs(&ListAuditQuery {
            actor: Some("nobody".into()),
            ..Default::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));
    let fields: Vec<_> = bad
        .problem()
        .map(|p| p.errors.iter().map(|e| e.field.clone()).collect())
        .unwrap_or_default();
    assert_eq!(fields, ["actor"]);

    let report = client.verify_audit_logs().await.expect("verified");
    assert!(report.is_intact(), "{report:?}");
}

pub async fn the_retention_policy_is_read_and_replaced_through_the_client(app: &TestApp) {
    let client = app.admin_client().await;
    let unset = client.get_retention_policy().await.expect("the policy");
    assert_eq!(unset.events, None);
    assert_eq!(unset.updated_at, None);

    let set = client
        .replace_retention_policy(
            &PolicyBody {
                succeeded_tasks: Some("30d".into()),
                events: Some("120m".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .expect("replaced");
    assert_eq!(set.succeeded_tasks.as_deref(), Some("30d"));
    assert_eq!(
        set.events.as_deref(),
        Some("2h"),
        "in the largest exact unit"
    );
    assert!(set.updated_at.is_some());
    assert_eq!(client.get_retention_policy().await.expect("read"), set);

    let bad = client
        .replace_retention_policy(
            &PolicyBody {
                metrics: Some("soon".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .expect_err("refused");
    assert_eq!(bad.status(), Some(422));
    assert_eq!(client.get_retention_policy().await.expect("read"), set);
}
