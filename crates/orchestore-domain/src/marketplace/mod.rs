//! The marketplace: workflow versions and templates an organization publishes for every
//! organization to browse, search and install.
//!
//! Publishing copies a snapshot of what is published into the item, so that later changes to
//! the original reach no one; installing copies the item into the installing organization
//! and records where the copy came from. Items are the one thing an organization reads of
//! another's, and they show only what was published.

mod item;

pub use item::{
    InstalledCopy, MarketplaceContent, MarketplaceInstall, MarketplaceItem, MarketplaceKind,
    MarketplaceSource, NewMarketplaceItem,
};
