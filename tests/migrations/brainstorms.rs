use orchestore_domain::{
    BrainstormTopic, IdeaText, MentorshipGoals, NewBrainstorm, NewIdea, NewMentorship, Participant,
};
use orchestore_repo::{BrainstormRepo, MentorshipRepo};

use super::*;

// Brainstorms and mentorships (m20261129_000037): the schema refuses what the domain refuses,
// keeps one active mentorship per pair and a vote to an idea of its own brainstorm, and `down`
// restores the schema before it.

const MIGRATION: &str = "m20261129_000037_brainstorms_mentorships";

async fn try_insert(
    db: &DatabaseConnection,
    table: &str,
    row: Vec<(&str, Value)>,
) -> Result<(), sea_orm::DbErr> {
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement = Query::insert()
        .into_table(Alias::new(table))
        .columns(columns.into_iter().map(Alias::new))
        .values_panic(values.into_iter().map(Into::into))
        .to_owned();
    db.execute(&statement).await.map(|_| ())
}

fn assert_unique_violation(answer: Result<(), sea_orm::DbErr>, what: &str) {
    assert!(
        matches!(
            answer.as_ref().map_err(sea_orm::DbErr::sql_err),
            Err(Some(sea_orm::SqlErr::UniqueConstraintViolation(_)))
        ),
        "{what} must break a unique index: {answer:?}"
    );
}

async fn the_schema_keeps_brainstorms_and_mentorships(raw: Raw) {
    let db = &raw.db;
    Migrator::up(db, Some(migrations_before(MIGRATION)))
        .await
        .expect("up to before");
    let before = schema(db).await;
    Migrator::up(db, None).await.expect("up");

    let store = SeaStore::connect(&orchestore_sea::DbConfig::new(raw.url.clone()))
        .await
        .expect("store");
    let acme = Fixture::create(&store, "acme", "correct horse battery").await;
    let ctx = &acme.ctx;
    let owner = Participant::User(acme.owner.id);
    let ada = store
        .create_agent(
            ctx,
            NewAgent::named(Name::parse("name", "ada").expect("name"), AgentKind::Ai),
        )
        .await
        .expect("agent");
    let new_brainstorm = || NewBrainstorm {
        topic: BrainstormTopic::parse("names").expect("topic"),
        description: Description::empty(),
        facilitator: owner,
        project_id: None,
    };
    let first = store
        .create_brainstorm(ctx, new_brainstorm())
        .await
        .expect("brainstorm");
    let second = store
        .create_brainstorm(ctx, new_brainstorm())
        .await
        .expect("brainstorm");
    let idea = store
        .add_brainstorm_idea(
            ctx,
            first.id,
            NewIdea {
                author: owner,
                text: IdeaText::parse("Nova").expect("text"),
            },
        )
        .await
        .expect("idea");
    let org = acme.org.id.as_uuid();
    let owner_id = acme.owner.id.as_uuid();
    let vote = |brainstorm: Uuid, voter: Uuid| {
        vec![
            ("organization_id", org.into()),
            ("brainstorm_id", brainstorm.into()),
            ("idea_id", idea.id.as_uuid().into()),
            ("voter_id", voter.into()),
            ("voter_agent_id", Option::<Uuid>::None.into()),
            ("voter_user_id", Some(voter).into()),
            ("voted_at", Utc::now().into()),
        ]
    };
    try_insert(
        db,
        "brainstorm_idea_votes",
        vote(first.id.as_uuid(), owner_id),
    )
    .await
    .expect("a vote");
    assert_unique_violation(
        try_insert(
            db,
            "brainstorm_idea_votes",
            vote(first.id.as_uuid(), owner_id),
        )
        .await,
        "a second vote of one voter for one idea",
    );
    assert_refused_by(
        try_insert(
            db,
            "brainstorm_idea_votes",
            vote(second.id.as_uuid(), Uuid::now_v7()),
        )
        .await,
        FOREIGN_KEY,
        "a vote naming the idea under another brainstorm",
    );
    let negative = Query::update()
        .table(Alias::new("brainstorm_ideas"))
        .value(Alias::new("votes"), -1i64)
        .and_where(Expr::col(Alias::new("id")).eq(idea.id.as_uuid()))
        .to_owned();
    assert_refused_by(
        db.execute(&negative).await,
        CHECK,
        "a negative count of votes",
    );
    let reopen_without_date = Query::update()
        .table(Alias::new("brainstorms"))
        .value(Alias::new("status"), "closed")
        .and_where(Expr::col(Alias::new("id")).eq(first.id.as_uuid()))
        .to_owned();
    assert_refused_by(
        db.execute(&reopen_without_date).await,
        CHECK,
        "a closed brainstorm without closed_at",
    );

    let goals = MentorshipGoals::parse(&["ship".to_owned()]).expect("goals");
    let pairing = NewMentorship::new(owner, ada.id.into(), goals).expect("pairing");
    let proposed = store
        .create_mentorship(ctx, pairing.clone())
        .await
        .expect("mentorship");
    let mentorship = |status: &str, mentee: Uuid| {
        let now = Utc::now();
        vec![
            ("organization_id", org.into()),
            ("id", Uuid::now_v7().into()),
            ("mentor_id", owner_id.into()),
            ("mentor_agent_id", Option::<Uuid>::None.into()),
            ("mentor_user_id", Some(owner_id).into()),
            ("mentee_id", mentee.into()),
            ("mentee_agent_id", Some(mentee).into()),
            ("mentee_user_id", Option::<Uuid>::None.into()),
            ("goals", serde_json::json!(["ship"]).into()),
            ("status", status.into()),
            ("created_at", now.into()),
            ("started_at", Some(now).into()),
            ("ended_at", Option::<chrono::DateTime<Utc>>::None.into()),
        ]
    };
    let agent = ada.id.as_uuid();
    try_insert(db, "mentorships", mentorship("active", agent))
        .await
        .expect("an active mentorship");
    assert_unique_violation(
        try_insert(db, "mentorships", mentorship("active", agent)).await,
        "a second active mentorship of the pair",
    );
    assert_refused_by(
        try_insert(db, "mentorships", mentorship("paused", agent)).await,
        CHECK,
        "a status the domain does not know",
    );
    let mut oneself = mentorship("proposed", owner_id);
    for (column, value) in &mut oneself {
        match *column {
            "mentee_agent_id" => *value = Option::<Uuid>::None.into(),
            "mentee_user_id" => *value = Some(owner_id).into(),
            _ => {}
        }
    }
    assert_refused_by(
        try_insert(db, "mentorships", oneself).await,
        CHECK,
        "a mentor mentoring itself",
    );
    let session = |progress: i32| {
        vec![
            ("organization_id", org.into()),
            ("id", Uuid::now_v7().into()),
            ("mentorship_id", proposed.id.as_uuid().into()),
            ("held_at", Utc::now().into()),
            ("duration_minutes", 30i32.into()),
            ("notes", "".into()),
            ("progress", progress.into()),
            ("recorded_by", "system".into()),
            ("recorded_at", Utc::now().into()),
        ]
    };
    assert_refused_by(
        try_insert(db, "mentorship_sessions", session(101)).await,
        CHECK,
        "a progress past 100",
    );
    store.connection().clone().close().await.ok();

    let applied = u32::try_from(Migrator::migrations().len()).expect("a few migrations");
    Migrator::down(db, Some(applied - migrations_before(MIGRATION)))
        .await
        .expect("down");
    assert_eq!(schema(db).await, before, "down restores the schema");
    Migrator::up(db, None).await.expect("up again");
    assert_eq!(count(db, "brainstorms").await, 0);
    raw.db.close().await.ok();
}

#[tokio::test]
async fn sqlite_the_schema_keeps_brainstorms_and_mentorships() {
    the_schema_keeps_brainstorms_and_mentorships(sqlite_raw().await).await;
}

#[tokio::test]
async fn postgres_the_schema_keeps_brainstorms_and_mentorships() {
    let Some(raw) = postgres_raw().await else {
        return;
    };
    the_schema_keeps_brainstorms_and_mentorships(raw).await;
}
