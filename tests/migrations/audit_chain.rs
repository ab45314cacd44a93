use super::*;

// The audit chain (m20261128_000020): rows written before it read back unsealed, with no
// address or credential, and the first sealer chains them, oldest first; a place in a chain is
// unique; `down` restores exactly the earlier schema, keeping the rows, and after `up` again
// they are sealed anew.

const AUDIT_CHAIN: &str = "m20261128_000020_audit_chain";

/// How many migrations come after `name`.
fn migrations_after(name: &str) -> u32 {
    u32::try_from(Migrator::migrations().len()).expect("a few migrations")
        - migrations_before(name)
        - 1
}

/// Inserts an audit row as the schema before the chain held them.
async fn insert_row(db: &DatabaseConnection, org: Uuid, at: chrono::DateTime<Utc>) -> Uuid {
    let id = Uuid::now_v7();
    insert(
        db,
        "audit_logs",
        vec![
            ("organization_id", org.into()),
            ("id", id.into()),
            ("actor", "system".into()),
            ("action", "task.create".into()),
            ("entity", "task".into()),
            ("entity_id", Uuid::now_v7().to_string().into()),
            ("changes", Value::from(serde_json::json!({"title": "old"}))),
            ("request_id", Value::String(None)),
            ("created_at", at.into()),
        ],
    )
    .await;
    id
}

async fn seal_and_verify(store: &SeaStore, org: Uuid, rows: u64) {
    let ctx = Ctx::system(OrganizationId::from_uuid(org));
    let sealed = store.seal_audit(&ctx, 100).await.expect("seal");
    assert_eq!(sealed.sealed, rows);
    let report = store.verify_audit(&ctx).await.expect("verify");
    assert_eq!((report.verified, report.broken), (rows, None));
}

async fn the_audit_chain_keeps_the_rows(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(migrations_before(AUDIT_CHAIN)))
        .await
        .expect("up to the audit chain");
    let earlier = schema(db).await;
    let (acme, other) = (Uuid::now_v7(), Uuid::now_v7());
    let now = Utc::now();
    // Written out of id order: the sealer follows `created_at`.
    let second = insert_row(db, acme, now).await;
    let first = insert_row(db, acme, now - Duration::seconds(1)).await;
    let third = insert_row(db, acme, now + Duration::seconds(1)).await;
    insert_row(db, other, now).await;

    Migrator::up(db, Some(1)).await.expect("the audit chain");
    let later = schema(db).await;
    assert_ne!(earlier, later);
    // The store reads the schema of the latest migration (the chain head has columns added
    // since): sealed there, then back to this migration.
    Migrator::up(db, None).await.expect("up to the latest");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    let ctx = Ctx::system(OrganizationId::from_uuid(acme));
    let old = store
        .list_audit(&ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("the old rows decode");
    assert_eq!(old.items.len(), 3);
    assert!(
        old.items
            .iter()
            .all(|e| e.seq.is_none() && e.client_addr.is_none() && e.credential.is_none())
    );
    seal_and_verify(&store, acme, 3).await;
    seal_and_verify(&store, other, 1).await;
    let sealed = store
        .list_audit(&ctx, AuditFilter::default(), PageRequest::default())
        .await
        .expect("sealed")
        .items;
    // Listed in id order, sealed in `created_at` order.
    let order: Vec<(Uuid, Option<u64>)> = sealed.iter().map(|e| (e.id.as_uuid(), e.seq)).collect();
    assert_eq!(
        order,
        [(second, Some(2)), (first, Some(1)), (third, Some(3))]
    );
    drop(store);
    Migrator::down(db, Some(migrations_after(AUDIT_CHAIN)))
        .await
        .expect("back to the audit chain");
    // One row a place: a second row at place 1 is refused.
    let twice = Query::update()
        .table(Alias::new("audit_logs"))
        .value(Alias::new("seq"), 1_i64)
        .and_where(Expr::col(Alias::new("id")).eq(third))
        .to_owned();
    assert!(db.execute(&twice).await.is_err());

    Migrator::down(db, Some(1)).await.expect("down one step");
    assert_eq!(schema(db).await, earlier);
    assert_eq!(count(db, "audit_logs").await, 4, "rows kept");
    Migrator::up(db, Some(1)).await.expect("up again");
    // PostgreSQL numbers a column added again after the dropped ones.
    assert_eq!(
        without_positions(schema(db).await),
        without_positions(later)
    );
    Migrator::up(db, None).await.expect("up to the latest");
    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(&raw.url))
        .await
        .expect("store");
    seal_and_verify(&store, acme, 3).await;
    drop(store);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_the_audit_chain_keeps_the_rows() {
    the_audit_chain_keeps_the_rows(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_audit_chain_keeps_the_rows() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_audit_chain_keeps_the_rows(raw).await;
}
