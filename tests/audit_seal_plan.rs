//! Sealing finds each audit row by its primary key, whatever the planner's statistics say. Taken
//! while no row waited to be sealed (the usual state while the server is quiet), they had the
//! planner expect one unsealed row in the organization; matching the partial index of unsealed
//! rows, the sealing statement then scanned all of them once per row it sealed, and under load
//! cost PostgreSQL as much per row as the creates that wrote the rows.

use orchestore_repo::AuditRepo;
use orchestore_testkit::{Fixture, TestDb};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Unsealed rows written after the statistics were taken: a few seconds of creates under load.
const UNSEALED: usize = 3_000;

#[tokio::test]
async fn sealing_reads_rows_by_primary_key_on_stale_statistics() {
    let Some(test_db) = TestDb::postgres().await else {
        return;
    };
    let store = test_db.store();
    let fixture = Fixture::create(store, "acme", "correct horse battery").await;
    fixture.project(store, "Apollo").await;
    store
        .seal_audit(&fixture.ctx, 1_000)
        .await
        .expect("seal what the fixture wrote");
    let db = test_db.connection();
    db.execute_unprepared("VACUUM ANALYZE audit_logs")
        .await
        .expect("analyze while every row is sealed");
    // Statistics stay as they are, whatever autovacuum would make of the rows written next.
    db.execute_unprepared("ALTER TABLE audit_logs SET (autovacuum_enabled = off)")
        .await
        .expect("no autovacuum");
    db.execute_unprepared(&format!(
        "INSERT INTO audit_logs (organization_id, id, actor, action, entity, entity_id, changes,
             created_at)
         SELECT '{org}', gen_random_uuid(), 'user:seeded', 'task.create', 'task',
             gen_random_uuid()::text, jsonb_build_object('i', i), now()
         FROM generate_series(1, {UNSEALED}) AS i",
        org = fixture.org.id,
    ))
    .await
    .expect("unsealed rows");

    // The setup is the one that misled the planner: joined on the links and checked by
    // `seq IS NULL` (the statement before), the plan reads the unsealed index.
    let before = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "EXPLAIN UPDATE audit_logs AS a SET seq = l.seq, hash = l.hash
                 FROM jsonb_to_recordset((SELECT jsonb_agg(jsonb_build_object(
                         'id', id, 'seq', 0, 'hash', ''))
                     FROM (SELECT id FROM audit_logs WHERE seq IS NULL LIMIT 500) AS u))
                     AS l(id uuid, seq bigint, hash text)
                 WHERE a.organization_id = '{org}' AND a.id = l.id AND a.seq IS NULL",
                org = fixture.org.id,
            ),
        ))
        .await
        .expect("explain the statement before")
        .iter()
        .map(|row| {
            row.try_get::<String>("", "QUERY PLAN")
                .expect("a plan line")
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        before.contains("idx_audit_logs_unsealed"),
        "the setup no longer misleads the planner, so this test proves nothing:\n{before}"
    );

    let plan = store
        .explain_seal(&fixture.ctx, 500)
        .await
        .expect("explain")
        .expect("PostgreSQL seals by one statement");
    assert!(
        plan.contains("pk_audit_logs") && !plan.contains("idx_audit_logs_unsealed"),
        "sealing does not find its rows by the primary key:\n{plan}"
    );

    let sealed = store
        .seal_audit(&fixture.ctx, 10_000)
        .await
        .expect("seal the rows");
    assert_eq!(sealed.sealed, UNSEALED as u64);
    let report = store.verify_audit(&fixture.ctx).await.expect("verify");
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(report.unsealed, 0);
}
