//! Learning records, by pattern and by context.

use orchestore_domain::{
    ContextFilter, LearningOutcome, LearningRecord, LearningRecordId, Metadata, NewLearningRecord,
    Pattern, PatternPrefix, PatternQuery, Score,
};
use orchestore_repo::{LearningFilter, LearningSort, Limit, PageRequest, Store};
use serde_json::{Value, json};

use super::{PASSWORD, assert_not_found};
use crate::Fixture;

pub(super) fn new_record(
    pattern: &str,
    context: Value,
    outcome: LearningOutcome,
    score: f64,
) -> NewLearningRecord {
    NewLearningRecord {
        pattern: Pattern::parse(pattern).expect("pattern"),
        context: Metadata::parse("context", context).expect("context"),
        outcome,
        score: Score::parse(score).expect("score"),
    }
}

async fn find<S: Store + ?Sized>(
    store: &S,
    fixture: &Fixture,
    filter: LearningFilter,
    sort: LearningSort,
) -> Vec<String> {
    store
        .list_learning_records(
            &fixture.ctx,
            filter,
            PageRequest::first(Limit::parse(200).expect("limit")).sorted(sort),
        )
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|record| format!("{} {}", record.pattern, record.score.get()))
        .collect()
}

fn by_pattern(query: PatternQuery) -> LearningFilter {
    LearningFilter {
        pattern: Some(query),
        ..LearningFilter::default()
    }
}

fn by_context(context: Value) -> LearningFilter {
    LearningFilter {
        context: Some(ContextFilter::parse(context).expect("context filter")),
        ..LearningFilter::default()
    }
}

pub async fn learning_records_are_written_read_and_audited<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    let record: LearningRecord = store
        .create_learning_record(
            &acme.ctx,
            new_record(
                "deploy.rollback",
                json!({"service": "api", "n": 1.50}),
                LearningOutcome::Success,
                0.8765432,
            ),
        )
        .await
        .expect("create");
    assert_eq!(record.score.millionths(), 876_543);
    assert_eq!(record.created_by, acme.ctx.actor().to_string());
    assert_eq!(
        record.context.to_value(),
        json!({"service": "api", "n": 1.50})
    );
    assert_eq!(
        store
            .get_learning_record(&acme.ctx, record.id)
            .await
            .expect("get"),
        record
    );
    assert_not_found(
        store
            .get_learning_record(&acme.ctx, LearningRecordId::new())
            .await,
        "learning_record",
    );
    let other = Fixture::create(store, "other", PASSWORD).await;
    assert_not_found(
        store.get_learning_record(&other.ctx, record.id).await,
        "learning_record",
    );
    assert!(
        find(
            store,
            &other,
            LearningFilter::default(),
            LearningSort::default()
        )
        .await
        .is_empty()
    );
    let audit = super::audit_of(store, &acme, "learning_record").await;
    assert_eq!(super::actions(&audit), ["learning_record.create"]);
    assert_eq!(audit[0].entity_id, record.id.to_string());
}

pub async fn learning_records_are_found_by_pattern_exactly_and_by_prefix<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    for (pattern, score) in [
        ("deploy.rollback", 0.9),
        ("deploy.canary", 0.5),
        ("deploy", 0.1),
        ("Deploy.rollback", 0.2),
        ("deploy/x", 0.3),
        ("deploy.ß", 0.4),
        ("review.rust", 0.7),
    ] {
        store
            .create_learning_record(
                &acme.ctx,
                new_record(pattern, json!({}), LearningOutcome::Partial, score),
            )
            .await
            .expect("create");
    }
    let exact = |p: &str| PatternQuery::Exact(Pattern::parse(p).expect("pattern"));
    let prefix = |p: &str| PatternQuery::Prefix(PatternPrefix::parse(p).expect("prefix"));
    assert_eq!(
        find(
            store,
            &acme,
            by_pattern(exact("deploy.rollback")),
            LearningSort::ScoreDesc
        )
        .await,
        ["deploy.rollback 0.9"]
    );
    // By code point, case included: `Deploy…` and `deploy/…` are not under `deploy.`.
    assert_eq!(
        find(
            store,
            &acme,
            by_pattern(prefix("deploy.")),
            LearningSort::ScoreDesc
        )
        .await,
        ["deploy.rollback 0.9", "deploy.canary 0.5", "deploy.ß 0.4"]
    );
    assert_eq!(
        find(
            store,
            &acme,
            by_pattern(prefix("deploy")),
            LearningSort::CreatedAt
        )
        .await,
        [
            "deploy.rollback 0.9",
            "deploy.canary 0.5",
            "deploy 0.1",
            "deploy/x 0.3",
            "deploy.ß 0.4"
        ]
    );
    assert!(
        find(
            store,
            &acme,
            by_pattern(prefix("deploy.z")),
            LearningSort::CreatedAt
        )
        .await
        .is_empty()
    );
    // Newest first by default.
    assert_eq!(
        find(
            store,
            &acme,
            LearningFilter::default(),
            LearningSort::default()
        )
        .await
        .first()
        .map(String::as_str),
        Some("review.rust 0.7")
    );
}

pub async fn learning_records_are_found_by_context_alike_on_both_backends<S: Store + ?Sized>(
    store: &S,
) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    for (pattern, context) in [
        ("a", json!({"model": "m1", "tries": 2, "ok": true})),
        ("b", json!({"model": "m1", "tries": 2.0, "ok": false})),
        ("c", json!({"model": "m2", "tries": "2", "ok": 1})),
        ("d", json!({"nested": {"model": "m1"}, "list": ["m1"]})),
        ("e", json!({"model": "M1", "tries": 3})),
    ] {
        store
            .create_learning_record(
                &acme.ctx,
                new_record(pattern, context, LearningOutcome::Success, 0.5),
            )
            .await
            .expect("create");
    }
    let patterns = async |context: Value| {
        let mut found = find(store, &acme, by_context(context), LearningSort::CreatedAt).await;
        found.iter_mut().for_each(|f| f.truncate(1));
        found
    };
    assert_eq!(patterns(json!({"model": "m1"})).await, ["a", "b"]);
    // A number matches a number of equal value, not a string.
    assert_eq!(patterns(json!({"tries": 2})).await, ["a", "b"]);
    assert_eq!(patterns(json!({"tries": "2"})).await, ["c"]);
    // A boolean matches the same boolean, not 1.
    assert_eq!(patterns(json!({"ok": true})).await, ["a"]);
    assert_eq!(patterns(json!({"ok": false})).await, ["b"]);
    // Every key must match; top-level keys only.
    assert_eq!(patterns(json!({"model": "m1", "ok": false})).await, ["b"]);
    assert!(patterns(json!({"missing": "m1"})).await.is_empty());

    // With a pattern and an outcome, and paged by score.
    let filter = LearningFilter {
        outcome: Some(LearningOutcome::Failure),
        ..by_context(json!({"model": "m1"}))
    };
    assert!(
        find(store, &acme, filter, LearningSort::CreatedAt)
            .await
            .is_empty()
    );
}

pub async fn learning_records_page_by_score<S: Store + ?Sized>(store: &S) {
    let acme = Fixture::create(store, "acme", PASSWORD).await;
    for (pattern, score) in [("a", 0.5), ("b", 1.0), ("c", 0.5), ("d", 0.0), ("e", 0.75)] {
        store
            .create_learning_record(
                &acme.ctx,
                new_record(pattern, json!({}), LearningOutcome::Success, score),
            )
            .await
            .expect("create");
    }
    let mut seen = Vec::new();
    let mut page =
        PageRequest::first(Limit::parse(2).expect("limit")).sorted(LearningSort::ScoreDesc);
    loop {
        let got = store
            .list_learning_records(&acme.ctx, LearningFilter::default(), page.clone())
            .await
            .expect("page");
        seen.extend(got.items.iter().map(|r| r.pattern.to_string()));
        let Some(next) = got.next_cursor else { break };
        page = page.next(Some(next));
    }
    // Highest first; equal scores oldest first.
    assert_eq!(seen, ["b", "e", "a", "c", "d"]);
}
