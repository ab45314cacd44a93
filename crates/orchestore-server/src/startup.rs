//! [`Application`]: connect, migrate, bootstrap, bind, serve.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use orchestore_domain::{
    DomainError, Email, Name, NewOrganization, NewUser, OrganizationId, Password, PasswordHash,
    Slug, SystemRole,
};
use orchestore_repo::{Ctx, RepoError, Store};
use orchestore_sea::{MigrationError, SeaStore};
use rand::{Rng as _, RngCore as _};

use crate::config::{BootstrapSettings, Secret, Settings};
use crate::deadline::Deadlines;
use crate::docs;
use crate::error::{json_config, path_config};
use crate::head::head_as_get;
use crate::idempotency;
use crate::in_flight::{RequestsInFlight, count_in_flight};
use crate::login_limits::LoginLimits;
use crate::prometheus::{self, MetricsEndpoint};
use crate::request_id::assign_request_id;
use crate::routes;
use crate::signup_limits::SignupLimits;
use crate::standing::Standings;
use crate::state::AppState;
use crate::sweeps::{self, Sweeper};
use crate::tokens::TokenIssuer;

/// The instance setting that keeps a generated JWT key.
const JWT_SECRET_SETTING: &str = "auth.jwt_secret";
/// HS256 wants a key at least as long as its hash (256 bits).
const MIN_JWT_SECRET_BYTES: usize = 32;
const DEFAULT_ADMIN_EMAIL: &str = "admin@localhost";
const GENERATED_PASSWORD_CHARS: usize = 24;
/// How long in-flight requests get to finish after SIGINT or SIGTERM.
const SHUTDOWN_GRACE_SECONDS: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("database: {0}")]
    Database(#[from] RepoError),
    /// The database's migrations are not this binary's (newer, or changed).
    #[error("migrations: {0}")]
    Migration(#[from] MigrationError),
    #[error("bootstrap: {0}")]
    Bootstrap(String),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
    sweeper: Sweeper,
    sealer: Sweeper,
    sanctions: Sweeper,
    snapshotter: Sweeper,
    metrics_upkeep: Option<Sweeper>,
    reputation_feeder: Sweeper,
    /// The scheduled retention purge; none when `retention.interval` is 0.
    retention: Option<Sweeper>,
    scheduler: Sweeper,
    /// Ends the durable waits of workflow executions that are due.
    waits: Sweeper,
}

impl Application {
    /// Connects to `settings.database`, migrates when `auto_migrate` is on, then does what
    /// [`Application::with_store`] does.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        check_settings(&settings)?;
        // `Display` of the URL redacts its secrets.
        tracing::info!(database = %settings.database.url, "connecting to the database");
        let store = SeaStore::connect(&settings.database)
            .await?
            .with_password_cost(settings.auth.bcrypt_cost)
            .with_inline_payload_limit(settings.queue.inline_payload_limit);
        if settings.database.auto_migrate {
            store.migrate().await?;
        } else {
            store.check_migrations().await?;
        }
        Self::start(Arc::new(store), settings).await
    }

    /// Serves `store` (already migrated): bootstraps the first organization and owner when
    /// there is no user, resolves the JWT key, and binds `settings.server`. Give a `SeaStore`
    /// the same bcrypt cost as `settings.auth.bcrypt_cost` (`SeaStore::with_password_cost`), so
    /// that a login with an unknown email takes as long as one with a known email.
    pub async fn with_store(
        store: Arc<dyn Store>,
        settings: Settings,
    ) -> Result<Self, StartupError> {
        check_settings(&settings)?;
        Self::start(store, settings).await
    }

    async fn start(store: Arc<dyn Store>, settings: Settings) -> Result<Self, StartupError> {
        bootstrap(
            store.as_ref(),
            &settings.bootstrap,
            settings.auth.bcrypt_cost,
        )
        .await?;
        let secret = jwt_secret(store.as_ref(), settings.auth.jwt_secret.as_ref()).await?;
        let sweeper = Sweeper::spawn(sweeps::expire_leases_and_close_proposals(
            store.clone(),
            settings.queue.lease_sweep_interval,
        ));
        let requests = web::Data::new(RequestsInFlight::default());
        let sealer = Sweeper::spawn(sweeps::seal_audit_chains(
            store.clone(),
            settings.audit.seal_interval,
            RequestsInFlight::clone(&requests),
        ));
        let sanctions = Sweeper::spawn(sweeps::sweep_ended_sanctions(
            store.clone(),
            settings.collaboration.sanction_sweep_interval,
        ));
        let snapshotter = Sweeper::spawn(sweeps::take_scheduled_snapshots(
            store.clone(),
            settings.collaboration.snapshot_interval,
        ));
        let metrics = MetricsEndpoint::new(&settings.metrics);
        let metrics_upkeep = metrics
            .clone()
            .map(|endpoint| Sweeper::spawn(endpoint.run_upkeep()));
        let reputation_feeder = Sweeper::spawn(sweeps::feed_task_outcomes(
            store.clone(),
            settings.collaboration.reputation_feed_interval,
        ));
        let retention = match settings.retention.interval {
            interval if interval.is_zero() => None,
            interval => Some(Sweeper::spawn(crate::retention::purge_on_schedule(
                store.clone(),
                interval,
                retention_batch(&settings)?,
            ))),
        };
        let scheduler = Sweeper::spawn(sweeps::fire_due_schedules(
            store.clone(),
            settings.queue.schedule_interval,
        ));
        let waits = Sweeper::spawn(sweeps::fire_due_waits(
            store.clone(),
            settings.workflows.wait_interval,
        ));
        let state = web::Data::new(AppState {
            store,
            password_cost: settings.auth.bcrypt_cost,
            tokens: TokenIssuer::new(
                &secret,
                settings.auth.access_token_ttl,
                settings.auth.refresh_token_ttl,
            ),
            standings: Standings::new(settings.auth.session_check_interval),
            login_limits: LoginLimits::new(
                settings.auth.login_failures_per_account,
                settings.auth.login_failures_per_address,
                settings.auth.login_failure_window,
            ),
            open_signup: settings.auth.open_signup,
            signup_limits: SignupLimits::new(
                settings.auth.signups_per_address,
                settings.auth.signup_window,
            ),
            invitation_ttl: settings.auth.invitation_ttl,
            trusted_proxies: settings.server.trusted_proxies.clone(),
            operating_organization: settings.bootstrap.organization.clone(),
        });

        let address = format!("{}:{}", settings.server.host, settings.server.port);
        let bind_error = |source| StartupError::Bind {
            address: address.clone(),
            source,
        };
        let deadlines = web::Data::new(Deadlines {
            body_read: settings.server.body_read_timeout,
            request: settings.server.request_timeout,
        });
        let docs = settings.server.docs;
        let host = settings.server.host.as_str();
        let listener = TcpListener::bind((host, settings.server.port)).map_err(bind_error)?;
        let port = listener.local_addr().map_err(bind_error)?.port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(json_config())
                .app_data(path_config())
                .app_data(deadlines.clone())
                .app_data(requests.clone())
                .wrap(from_fn(head_as_get))
                .wrap(from_fn(idempotency::replay_or_record))
                .wrap(from_fn(prometheus::record_request))
                .wrap(from_fn(assign_request_id))
                .wrap(from_fn(count_in_flight))
                .configure(|cfg| prometheus::configure(cfg, metrics.as_ref()))
                // A page and its files, not API resources: outside the route table, which the
                // OpenAPI document and the route matrix describe.
                .configure(|cfg| docs::configure(cfg, docs))
                .configure(routes::configure)
                .default_service(web::to(routes::not_found))
        })
        .shutdown_signal(shutdown_signal())
        .shutdown_timeout(SHUTDOWN_GRACE_SECONDS)
        .listen(listener)
        .map_err(bind_error)?
        .run();
        tracing::info!(host, port, "listening");
        Ok(Self {
            port,
            server,
            sweeper,
            sealer,
            sanctions,
            snapshotter,
            metrics_upkeep,
            reputation_feeder,
            retention,
            scheduler,
            waits,
        })
    }

    /// The bound port (the one picked when the settings said 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server,
            sweeper,
            sealer,
            sanctions,
            snapshotter,
            metrics_upkeep,
            reputation_feeder,
            retention,
            scheduler,
            waits,
            ..
        } = self;
        let stopped = server.await;
        drop((
            sweeper,
            sealer,
            sanctions,
            snapshotter,
            metrics_upkeep,
            reputation_feeder,
            retention,
            scheduler,
            waits,
        ));
        stopped
    }
}

fn retention_batch(settings: &Settings) -> Result<orchestore_domain::PurgeBatch, StartupError> {
    settings
        .retention
        .batch()
        .map_err(|e| StartupError::Config(e.to_string()))
}

/// Refuses settings that cannot work, before anything connects.
fn check_settings(settings: &Settings) -> Result<(), StartupError> {
    retention_batch(settings)?;
    let auth = &settings.auth;
    if !(4..=31).contains(&auth.bcrypt_cost) {
        return Err(StartupError::Config(format!(
            "auth.bcrypt_cost must be between 4 and 31, got {}",
            auth.bcrypt_cost
        )));
    }
    if settings.server.body_read_timeout.is_zero() || settings.server.request_timeout.is_zero() {
        return Err(StartupError::Config(
            "server.body_read_timeout and server.request_timeout must be more than 0".to_owned(),
        ));
    }
    if settings.queue.lease_sweep_interval.is_zero() {
        return Err(StartupError::Config(
            "queue.lease_sweep_interval must be more than 0".to_owned(),
        ));
    }
    if settings.queue.schedule_interval.is_zero() {
        return Err(StartupError::Config(
            "queue.schedule_interval must be more than 0".to_owned(),
        ));
    }
    if settings.workflows.wait_interval.is_zero() {
        return Err(StartupError::Config(
            "workflows.wait_interval must be more than 0".to_owned(),
        ));
    }
    if settings.audit.seal_interval.is_zero() {
        return Err(StartupError::Config(
            "audit.seal_interval must be more than 0".to_owned(),
        ));
    }
    if settings.collaboration.sanction_sweep_interval.is_zero() {
        return Err(StartupError::Config(
            "collaboration.sanction_sweep_interval must be more than 0".to_owned(),
        ));
    }
    if settings.collaboration.reputation_feed_interval.is_zero() {
        return Err(StartupError::Config(
            "collaboration.reputation_feed_interval must be more than 0".to_owned(),
        ));
    }
    if settings.collaboration.snapshot_interval.as_secs() == 0 {
        return Err(StartupError::Config(
            "collaboration.snapshot_interval must be at least 1s".to_owned(),
        ));
    }
    if auth.access_token_ttl.as_secs() == 0 || auth.refresh_token_ttl.as_secs() == 0 {
        return Err(StartupError::Config(
            "auth.access_token_ttl and auth.refresh_token_ttl must be at least 1s".to_owned(),
        ));
    }
    if auth.invitation_ttl.as_secs() == 0 {
        return Err(StartupError::Config(
            "auth.invitation_ttl must be at least 1s".to_owned(),
        ));
    }
    if auth
        .jwt_secret
        .as_ref()
        .is_some_and(|secret| secret.expose().len() < MIN_JWT_SECRET_BYTES)
    {
        return Err(StartupError::Config(format!(
            "auth.jwt_secret must be at least {MIN_JWT_SECRET_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Creates the first organization and its owner when the database has no user at all.
async fn bootstrap(
    store: &dyn Store,
    settings: &BootstrapSettings,
    bcrypt_cost: u32,
) -> Result<(), StartupError> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let invalid = |setting: &str, err: DomainError| {
        StartupError::Bootstrap(format!("bootstrap.{setting}: {err}"))
    };
    let slug = Slug::parse("organization", &settings.organization)
        .map_err(|e| invalid("organization", e))?;
    let name = Name::parse("organization", &settings.organization)
        .map_err(|e| invalid("organization", e))?;
    let email = Email::parse(
        settings
            .admin_email
            .as_deref()
            .unwrap_or(DEFAULT_ADMIN_EMAIL),
    )
    .map_err(|e| invalid("admin_email", e))?;
    let (password, generated) = match &settings.admin_password {
        Some(secret) => (
            Password::parse(secret.expose()).map_err(|e| invalid("admin_password", e))?,
            false,
        ),
        None => (
            Password::parse(&generated_password()).map_err(|e| invalid("admin_password", e))?,
            true,
        ),
    };
    let to_hash = password.clone();
    let password_hash =
        tokio::task::spawn_blocking(move || PasswordHash::hash(&to_hash, bcrypt_cost))
            .await
            .map_err(|e| StartupError::Bootstrap(format!("hashing the admin password: {e}")))?
            .map_err(|e| invalid("admin_password", e))?;

    let display_name = Name::parse("display_name", "Administrator")
        .map_err(|e| StartupError::Bootstrap(e.to_string()))?;
    let owner = NewUser {
        email: email.clone(),
        username: None,
        display_name,
        password_hash,
        roles: vec![SystemRole::Owner.into()],
    };
    // One transaction: a crash in between cannot leave an organization without its owner.
    let ctx = Ctx::system(OrganizationId::new());
    match store
        .create_organization_with_owner(&ctx, NewOrganization { slug, name }, owner)
        .await
    {
        Ok(_) => {}
        // Another replica bootstrapped at the same moment and won, or the organization exists
        // without users: the first is fine, the second would leave nobody able to log in.
        Err(RepoError::Conflict { reason, .. }) => {
            if store.count_users().await? > 0 {
                tracing::warn!(%reason, "another instance bootstrapped first; not creating an owner");
                return Ok(());
            }
            return Err(StartupError::Bootstrap(format!(
                "the database has no user, and the bootstrap organization cannot be created \
                 ({reason}): set ORCHESTORE__BOOTSTRAP__ORGANIZATION to a new slug"
            )));
        }
        Err(err) => return Err(err.into()),
    }
    if generated {
        tracing::warn!(
            "generated admin password for {email}: {} (shown once)",
            password.expose()
        );
    }
    tracing::info!(organization = %settings.organization, admin = %email, "bootstrapped the first organization and owner");
    Ok(())
}

pub(crate) fn generated_password() -> String {
    rand::rng()
        .sample_iter(&rand::distr::Alphanumeric)
        .take(GENERATED_PASSWORD_CHARS)
        .map(char::from)
        .collect()
}

/// The configured key, or the one kept in the database (generated by whichever instance
/// started first).
async fn jwt_secret(
    store: &dyn Store,
    configured: Option<&Secret>,
) -> Result<Secret, StartupError> {
    if let Some(secret) = configured {
        return Ok(secret.clone());
    }
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let stored = store
        .instance_setting_or_insert(JWT_SECRET_SETTING, &hex::encode(bytes))
        .await?;
    Ok(Secret::new(stored))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        #[cfg(unix)]
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn unusable_settings_are_refused() {
        assert!(check_settings(&Settings::default()).is_ok());
        let mut cheap = Settings::default();
        cheap.auth.bcrypt_cost = 3;
        assert!(check_settings(&cheap).is_err());
        let mut short_secret = Settings::default();
        short_secret.auth.jwt_secret = Some(Secret::new("too short"));
        assert!(check_settings(&short_secret).is_err());
        let mut no_ttl = Settings::default();
        no_ttl.auth.access_token_ttl = Duration::ZERO;
        assert!(check_settings(&no_ttl).is_err());
        let mut no_deadline = Settings::default();
        no_deadline.server.request_timeout = Duration::ZERO;
        assert!(check_settings(&no_deadline).is_err());
        let mut never_sealed = Settings::default();
        never_sealed.audit.seal_interval = Duration::ZERO;
        assert!(check_settings(&never_sealed).is_err());
    }

    #[test]
    fn the_token_issuer_does_not_show_its_key() {
        let key = "an HS256 key of at least 32 bytes";
        let issuer = TokenIssuer::new(
            &Secret::new(key),
            Duration::from_secs(60),
            Duration::from_secs(3600),
        );
        for output in [format!("{issuer:?}"), format!("{issuer:#?}")] {
            assert!(!output.contains(key), "{output}");
            assert!(!output.contains(&hex::encode(key)), "{output}");
        }
    }

    #[test]
    fn generated_passwords_are_long_and_alphanumeric() {
        let password = generated_password();
        assert_eq!(password.len(), GENERATED_PASSWORD_CHARS);
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(password, generated_password());
    }
}
