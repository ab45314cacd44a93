use std::sync::Arc;

use orchestore_repo::Store;

use crate::login_limits::LoginLimits;
use crate::standing::Standings;
use crate::tokens::TokenIssuer;

/// What every handler shares: the store, the bcrypt cost of new passwords, the token issuer
/// and the cached standings of sessions.
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) password_cost: u32,
    pub(crate) tokens: TokenIssuer,
    pub(crate) standings: Standings,
    pub(crate) login_limits: LoginLimits,
    /// `server.trusted_proxies`.
    pub(crate) trusted_proxies: Vec<std::net::IpAddr>,
}
