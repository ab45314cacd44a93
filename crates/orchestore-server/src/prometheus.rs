//! `GET /metrics`: the process's metrics in the Prometheus text format, rendered by
//! `metrics-exporter-prometheus` from what is recorded through the `metrics` facade — the HTTP
//! requests (recorded by [`record_request`]), the queue's counters (recorded in
//! `orchestore-sea` where claims, completions, failures and lease expiries happen), and any
//! other counter of the facade — plus gauges sampled at each scrape: the connection pool, the
//! queue's depth by state and the audit rows waiting for the sealer.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use orchestore_repo::{RepoResult, Store};
use sha2::{Digest as _, Sha256};

use crate::config::MetricsSettings;
use crate::error::{ApiError, AuthFailure};
use crate::state::AppState;

const HTTP_REQUESTS: &str = "orchestore_http_requests_total";
const HTTP_DURATION: &str = "orchestore_http_request_duration_seconds";
const POOL_CONNECTIONS: &str = "orchestore_db_pool_connections";
const DATABASE_UP: &str = "orchestore_database_up";
const QUEUE_DEPTH: &str = "orchestore_queue_depth";
const AUDIT_UNSEALED: &str = "orchestore_audit_unsealed_rows";
const AUDIT_OLDEST_UNSEALED: &str = "orchestore_audit_oldest_unsealed_timestamp_seconds";

/// Upper bounds of the request latency buckets, in seconds: from a cached read to a claim
/// that waits its full minute for work.
const LATENCY_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0,
];
/// The route label of a request no route matched (a 404): its path is not used, so that ids
/// and probes cannot grow the label set.
const UNMATCHED: &str = "unmatched";
/// How long a scrape waits for each figure it reads from the database (the queue's depth, the
/// audit backlog) before answering without it.
const DATABASE_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// How often histograms are folded into their buckets between scrapes, which bounds the
/// memory they hold when nobody scrapes.
pub(crate) const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process's recorder: installed as the facade's global recorder by the first application
/// with metrics on, shared by every application of the process after it. `None` when another
/// recorder was installed first (by a program embedding the server).
static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

fn install() -> Option<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = match PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), &LATENCY_BUCKETS)
            {
                Ok(builder) => builder.build_recorder(),
                Err(error) => {
                    tracing::warn!(%error, "metrics: the latency buckets are refused");
                    return None;
                }
            };
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!(
                    "metrics: another recorder is installed in this process; /metrics is off"
                );
                return None;
            }
            describe();
            Some(handle)
        })
        .clone()
}

/// The `# HELP` lines.
fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests served, by method, route pattern and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time to serve an HTTP request, by method and route pattern"
    );
    metrics::describe_gauge!(
        POOL_CONNECTIONS,
        "Connections of this server's database pool, by state (in_use, idle)"
    );
    metrics::describe_gauge!(
        DATABASE_UP,
        "1 when the last scrape could read both the queue's depth and the audit backlog from the \
         database, else 0"
    );
    metrics::describe_gauge!(
        QUEUE_DEPTH,
        "Tasks of every organization by queue state (blocked, queued, scheduled, running, \
         expired_lease), as of the last scrape that reached the database"
    );
    metrics::describe_gauge!(
        AUDIT_UNSEALED,
        "Audit rows of every organization not sealed into their chain yet, as of the last \
         scrape that reached the database"
    );
    metrics::describe_gauge!(
        AUDIT_OLDEST_UNSEALED,
        metrics::Unit::Seconds,
        "When the oldest unsealed audit row was written (Unix time), or when the last scrape \
         that reached the database found none waiting: time() minus it is how long the oldest \
         row has waited for the sealer"
    );
    orchestore_sea::describe_queue_metrics();
    orchestore_sea::describe_audit_metrics();
}

/// What the `/metrics` route needs besides the store.
#[derive(Clone)]
pub(crate) struct MetricsEndpoint {
    handle: PrometheusHandle,
    /// The SHA-256 of the configured token, compared with that of the one sent.
    token: Option<[u8; 32]>,
}

impl MetricsEndpoint {
    /// The endpoint `settings` describe, with the process's recorder installed; `None` when
    /// metrics are off, or another recorder holds the process.
    pub(crate) fn new(settings: &MetricsSettings) -> Option<Self> {
        if !settings.enabled {
            return None;
        }
        Some(Self {
            handle: install()?,
            token: settings
                .token
                .as_ref()
                .map(|token| Sha256::digest(token.expose().as_bytes()).into()),
        })
    }

    /// Folds the histograms' recent samples into their buckets, every [`UPKEEP_INTERVAL`].
    pub(crate) async fn run_upkeep(self) {
        let mut ticker = tokio::time::interval(UPKEEP_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.handle.run_upkeep();
        }
    }

    fn authorize(&self, req: &HttpRequest) -> Result<(), ApiError> {
        let Some(expected) = self.token else {
            return Ok(());
        };
        let sent = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated(AuthFailure::MissingToken))?;
        let sent: [u8; 32] = Sha256::digest(sent.trim().as_bytes()).into();
        if sent == expected {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated(AuthFailure::InvalidToken))
        }
    }
}

/// Registers `GET /metrics` when `endpoint` is given (outside `/api/v1`: a scrape carries no
/// user's credentials).
pub(crate) fn configure(cfg: &mut web::ServiceConfig, endpoint: Option<&MetricsEndpoint>) {
    if let Some(endpoint) = endpoint {
        cfg.service(
            web::resource("/metrics")
                .app_data(web::Data::new(endpoint.clone()))
                .route(web::get().to(scrape))
                .default_service(web::to(|| async {
                    Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow: "GET" })
                })),
        );
    }
}

async fn scrape(
    req: HttpRequest,
    endpoint: web::Data<MetricsEndpoint>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    endpoint.authorize(&req)?;
    sample(state.store.as_ref()).await;
    endpoint.handle.run_upkeep();
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(endpoint.handle.render()))
}

/// Sets the gauges read at scrape time: the pool now, and the queue's depth and the audit
/// backlog, each read at once on a connection of its own, when the database answers in time.
/// A figure that could not be read keeps its last value, and `orchestore_database_up` goes to 0.
async fn sample(store: &dyn Store) {
    let pool = store.pool_status();
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(pool.in_use);
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(pool.idle);
    let (depth, backlog) = tokio::join!(
        read_in_time("the queue's depth", store.queue_depth()),
        read_in_time("the audit backlog", store.audit_backlog()),
    );
    let up = depth.is_some() && backlog.is_some();
    metrics::gauge!(DATABASE_UP).set(if up { 1.0 } else { 0.0 });
    if let Some(depth) = depth {
        for (state, n) in [
            ("blocked", depth.blocked),
            ("queued", depth.queued),
            ("scheduled", depth.scheduled),
            ("running", depth.running),
            ("expired_lease", depth.expired_leases),
        ] {
            // A gauge is an f64: exact below 2^53 tasks.
            metrics::gauge!(QUEUE_DEPTH, "state" => state).set(n as f64);
        }
    }
    if let Some(backlog) = backlog {
        metrics::gauge!(AUDIT_UNSEALED).set(backlog.unsealed as f64);
        // With nothing waiting, "now": the oldest row's wait is 0, and grows from here while
        // scrapes stop reaching the database.
        let oldest = backlog.oldest_unsealed_at.unwrap_or_else(chrono::Utc::now);
        metrics::gauge!(AUDIT_OLDEST_UNSEALED).set(oldest.timestamp_micros() as f64 / 1e6);
    }
}

/// `read`'s figure, or `None` (with a warning naming `what`) when it fails or takes longer than
/// [`DATABASE_READ_TIMEOUT`].
async fn read_in_time<T>(
    what: &'static str,
    read: impl Future<Output = RepoResult<T>>,
) -> Option<T> {
    match tokio::time::timeout(DATABASE_READ_TIMEOUT, read).await {
        Ok(Ok(figure)) => Some(figure),
        Ok(Err(error)) => {
            tracing::warn!(%error, "metrics: reading {what}");
            None
        }
        Err(_) => {
            tracing::warn!(timeout = ?DATABASE_READ_TIMEOUT, "metrics: reading {what} timed out");
            None
        }
    }
}

/// The method label: the standard methods by name, anything else as `other`, so that a client
/// cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts each request by method, route pattern (`/api/v1/tasks/{id}`, never the
/// path with its ids) and status, and records how long it took.
pub(crate) async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = method_label(req.method());
    let started = Instant::now();
    let outcome = next.call(req).await;
    let (route, status) = match &outcome {
        // The pattern is known once routing matched a resource.
        Ok(response) => (response.request().match_pattern(), response.status()),
        Err(error) => (None, error.as_response_error().status_code()),
    };
    let route = route.unwrap_or_else(|| UNMATCHED.to_owned());
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        HTTP_REQUESTS,
        "method" => method,
        "route" => route,
        "status" => status_label(status),
    )
    .increment(1);
    outcome
}

fn status_label(status: StatusCode) -> String {
    status.as_u16().to_string()
}
