//! Minimal REST stand-in: GET /tasks?id=eq.<uuid> and POST /tasks, PostgREST-shaped.
//! Env: DATABASE_URL (postgres://postgres@127.0.0.1:5432/bench), BIND (127.0.0.1:3001),
//!      POOL (10, PostgREST's default db-pool), WORKERS (actix default: physical cores).
use actix_web::{get, post, web, App, HttpResponse, HttpServer};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

#[derive(Serialize, sqlx::FromRow)]
struct Task {
    id: uuid::Uuid,
    title: Option<String>,
    status: Option<String>,
    priority: Option<i32>,
    payload: Option<serde_json::Value>,
    created_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
struct NewTask {
    title: Option<String>,
    status: Option<String>,
    priority: Option<i32>,
    payload: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Filter {
    id: Option<String>,
}

#[get("/tasks")]
async fn get_tasks(pool: web::Data<PgPool>, q: web::Query<Filter>) -> HttpResponse {
    // PostgREST syntax: ?id=eq.<uuid>
    let id = match q
        .id
        .as_deref()
        .and_then(|s| s.strip_prefix("eq."))
        .map(uuid::Uuid::parse_str)
    {
        Some(Ok(id)) => id,
        _ => return HttpResponse::BadRequest().finish(),
    };
    match sqlx::query_as::<_, Task>(
        "select id, title, status, priority, payload, created_at from tasks where id = $1",
    )
    .bind(id)
    .fetch_all(pool.get_ref())
    .await
    {
        Ok(rows) => HttpResponse::Ok().json(rows),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[post("/tasks")]
async fn post_task(pool: web::Data<PgPool>, body: web::Json<NewTask>) -> HttpResponse {
    let t = body.into_inner();
    match sqlx::query(
        "insert into tasks (title, status, priority, payload) values ($1, $2, $3, $4)",
    )
    .bind(t.title)
    .bind(t.status)
    .bind(t.priority)
    .bind(t.payload)
    .execute(pool.get_ref())
    .await
    {
        // PostgREST's default (Prefer: return=minimal): 201 with an empty body
        Ok(_) => HttpResponse::Created().finish(),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/bench".into());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let pool_size: u32 = std::env::var("POOL")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let pool = PgPoolOptions::new()
        .max_connections(pool_size)
        .min_connections(pool_size)
        .connect(&url)
        .await
        .expect("connect");
    let data = web::Data::new(pool);
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(get_tasks)
            .service(post_task)
    });
    if let Some(w) = std::env::var("WORKERS").ok().and_then(|s| s.parse().ok()) {
        server = server.workers(w);
    }
    server.bind(bind)?.run().await
}
