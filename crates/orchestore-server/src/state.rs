use std::sync::Arc;

use orchestore_repo::Store;

use crate::tokens::TokenIssuer;

/// What every handler shares: the store, the bcrypt cost of new passwords and the token
/// issuer.
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) password_cost: u32,
    pub(crate) tokens: TokenIssuer,
}
