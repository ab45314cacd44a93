use std::sync::Arc;

use orchestore_repo::Store;

use crate::tokens::TokenIssuer;

/// What every handler shares: the store and the token issuer.
pub(crate) struct AppState {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) tokens: TokenIssuer,
}
