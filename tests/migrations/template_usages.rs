use super::*;

// Template usage versions (m20261127_000014): a usage written before reads back with no
// version, the two new columns are set together or not at all, and `down` restores exactly the
// earlier schema, keeping the rows.

const USAGE_VERSIONS: &str = "m20261127_000014_template_usage_versions";

/// How many migrations come before the usage versions.
fn before_usage_versions() -> u32 {
    let position = Migrator::migrations()
        .iter()
        .position(|m| m.name() == USAGE_VERSIONS)
        .expect("the usage versions migration is registered");
    u32::try_from(position).expect("a few migrations")
}

/// Inserts a usage of `template` naming `workflow` version `number`; the database's answer.
async fn insert_usage(
    db: &DatabaseConnection,
    (org, template): (Uuid, Uuid),
    workflow: Option<Uuid>,
    number: Option<i32>,
) -> Result<(), sea_orm::DbErr> {
    let statement = Query::insert()
        .into_table(Alias::new("template_usages"))
        .columns(
            [
                "organization_id",
                "id",
                "template_id",
                "arguments",
                "created_by",
                "created_entities",
                "workflow_id",
                "workflow_version",
                "created_at",
            ]
            .map(Alias::new),
        )
        .values_panic([
            org.into(),
            Uuid::now_v7().into(),
            template.into(),
            Value::from(serde_json::json!({})).into(),
            "system".into(),
            Value::from(serde_json::json!([])).into(),
            workflow.into(),
            number.into(),
            Utc::now().into(),
        ])
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

async fn usage_versions_keep_the_usages(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(before_usage_versions()))
        .await
        .expect("up to the usage versions");
    let earlier = schema(db).await;
    let now = Utc::now();
    let json = |v: serde_json::Value| Value::from(v);
    let (org, template, usage) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    insert(
        db,
        "organizations",
        vec![
            ("id", org.into()),
            ("slug", "acme".into()),
            ("name", "Acme".into()),
            ("settings", json(serde_json::json!({}))),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    insert(
        db,
        "templates",
        vec![
            ("organization_id", org.into()),
            ("id", template.into()),
            ("name", "Review".into()),
            ("name_key", "review".into()),
            ("description", "".into()),
            ("kind", "task".into()),
            ("parameters", json(serde_json::json!([]))),
            (
                "body",
                json(serde_json::json!({"tasks": [{"title": "Review"}]})),
            ),
            ("usage_count", 1_i64.into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    )
    .await;
    let task = Uuid::now_v7().to_string();
    insert(
        db,
        "template_usages",
        vec![
            ("organization_id", org.into()),
            ("id", usage.into()),
            ("template_id", template.into()),
            ("arguments", json(serde_json::json!({}))),
            ("created_by", "system".into()),
            ("created_entities", json(serde_json::json!([task]))),
            ("created_at", now.into()),
        ],
    )
    .await;

    Migrator::up(db, Some(1)).await.expect("the usage versions");
    let later = schema(db).await;
    assert_ne!(earlier, later);
    // The store of this build reads the columns later migrations add (templates' revision):
    // they are applied for its read, and reverted after it.
    let later_migrations = u32::try_from(Migrator::migrations().len()).expect("a few migrations")
        - before_usage_versions()
        - 1;
    Migrator::up(db, None).await.expect("the later migrations");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::system(OrganizationId::from_uuid(org));
    let usages = store
        .list_template_usages(
            &ctx,
            TemplateId::from_uuid(template),
            PageRequest::default(),
        )
        .await
        .expect("the old usage decodes");
    assert_eq!(usages.items.len(), 1);
    assert_eq!(usages.items[0].id.as_uuid(), usage);
    assert_eq!(usages.items[0].created_entities, vec![task]);
    assert_eq!(usages.items[0].workflow_version, None);
    drop(store);
    Migrator::down(db, Some(later_migrations))
        .await
        .expect("back to the usage versions");
    assert_eq!(schema(db).await, later);
    // Set together, the number from 1, or neither.
    let keys = (org, template);
    insert_usage(db, keys, Some(Uuid::now_v7()), Some(1))
        .await
        .expect("a workflow and its version number");
    for (workflow, number) in [
        (Some(Uuid::now_v7()), None),
        (None, Some(1)),
        (Some(Uuid::now_v7()), Some(0)),
    ] {
        assert!(
            insert_usage(db, keys, workflow, number).await.is_err(),
            "{workflow:?} {number:?} must be refused"
        );
    }
    assert_eq!(count(db, "template_usages").await, 2);

    Migrator::down(db, Some(1)).await.expect("down one step");
    assert_eq!(schema(db).await, earlier);
    assert_eq!(count(db, "template_usages").await, 2, "rows kept");
    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(later)
    );
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_usage_versions_keep_the_usages() {
    usage_versions_keep_the_usages(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_usage_versions_keep_the_usages() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    usage_versions_keep_the_usages(raw).await;
}
