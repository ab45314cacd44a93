//! `orchestore seed clean`: removing a seeded organization, only when every row in it is the
//! seed's or their trail.

use std::collections::BTreeMap;
use std::io::Write;

use orchestore_domain::{OrganizationId, Slug};
use orchestore_repo::RepoError;
use orchestore_sea::{SeaStore, SeedInventory, SeedState};
use serde::Serialize;

use super::{CleanOptions, SeedError, SeedProfile, to_json, write};

/// How many foreign rows `seed clean` names before it says how many more there are.
const FOREIGN_ROWS_SHOWN: usize = 20;

/// What `seed clean` found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum CleanStatus {
    /// The profile's organization does not exist.
    Absent,
    /// Not confirmed: what would go.
    WouldRemove,
    Removed,
    /// Rows someone else added are in it: nothing removed.
    Refused,
}

#[derive(Debug, Serialize)]
struct CleanReport<'a> {
    profile: SeedProfile,
    slug: &'a str,
    organization_id: Option<OrganizationId>,
    status: CleanStatus,
    seeded_rows: &'a BTreeMap<String, u64>,
    trail_rows: &'a BTreeMap<String, u64>,
    foreign_rows: Vec<ForeignRowReport<'a>>,
}

#[derive(Debug, Serialize)]
struct ForeignRowReport<'a> {
    table: &'a str,
    key: &'a str,
}

pub(super) async fn clean(
    store: &SeaStore,
    options: CleanOptions,
    out: &mut (dyn Write + Send),
) -> Result<(), SeedError> {
    let profile = options.profile;
    let slug = profile.slug();
    let parsed_slug = Slug::parse("slug", &slug).map_err(RepoError::from)?;
    let report = |organization_id, status, inventory| Report {
        profile,
        slug: &slug,
        organization_id,
        status,
        inventory,
        json: options.json,
    };
    let organization_id = match store.seed_state(&parsed_slug).await? {
        SeedState::Absent => {
            let empty = SeedInventory::default();
            return write(out, &report(None, CleanStatus::Absent, &empty).render());
        }
        SeedState::NotSeeded { .. } => return Err(SeedError::NotSeeded { slug }),
        SeedState::Seeded {
            profile: seeded, ..
        } if seeded != profile.name() => {
            return Err(SeedError::OtherProfile {
                slug,
                seeded,
                asked: profile.name(),
            });
        }
        SeedState::Seeded {
            organization_id, ..
        } => organization_id,
    };
    let mut inventory = store.seed_inventory(organization_id).await?;
    if inventory.foreign.is_empty() && !options.confirm {
        write(
            out,
            &report(Some(organization_id), CleanStatus::WouldRemove, &inventory).render(),
        )?;
        return Err(SeedError::Unconfirmed {
            profile: profile.name(),
        });
    }
    if inventory.foreign.is_empty() {
        // Compared again inside the removal's transaction: a row added meanwhile refuses it.
        match store.remove_seeded_organization(organization_id).await {
            Ok(removed) => {
                return write(
                    out,
                    &report(Some(organization_id), CleanStatus::Removed, &removed).render(),
                );
            }
            Err(RepoError::Conflict { .. }) => {
                inventory = store.seed_inventory(organization_id).await?;
            }
            Err(err) => return Err(err.into()),
        }
    }
    write(
        out,
        &report(Some(organization_id), CleanStatus::Refused, &inventory).render(),
    )?;
    Err(SeedError::ForeignRows {
        slug: slug.clone(),
        count: inventory.foreign.len(),
    })
}

/// One `seed clean` outcome, as text or JSON.
struct Report<'a> {
    profile: SeedProfile,
    slug: &'a str,
    organization_id: Option<OrganizationId>,
    status: CleanStatus,
    inventory: &'a SeedInventory,
    json: bool,
}

impl Report<'_> {
    fn render(&self) -> String {
        let inventory = self.inventory;
        if self.json {
            let report = CleanReport {
                profile: self.profile,
                slug: self.slug,
                organization_id: self.organization_id,
                status: self.status,
                seeded_rows: &inventory.seeded,
                trail_rows: &inventory.trail,
                foreign_rows: inventory
                    .foreign
                    .iter()
                    .map(|row| ForeignRowReport {
                        table: &row.table,
                        key: &row.key,
                    })
                    .collect(),
            };
            return to_json(&report);
        }
        let slug = self.slug;
        let Some(organization_id) = self.organization_id else {
            return format!(
                "nothing to clean: no organization {slug} (profile {} is not seeded)\n",
                self.profile.name()
            );
        };
        let mut text = match self.status {
            CleanStatus::Removed => format!("removed organization {slug} ({organization_id}):\n"),
            CleanStatus::WouldRemove => {
                format!("would remove organization {slug} ({organization_id}):\n")
            }
            CleanStatus::Absent | CleanStatus::Refused => format!(
                "keeping organization {slug} ({organization_id}): it holds rows the seed did \
                 not create\n"
            ),
        };
        text.push_str(&format!(
            "  {} seeded rows: {}\n",
            inventory.seeded_rows(),
            by_table(&inventory.seeded)
        ));
        text.push_str(&format!(
            "  {} rows of their trail added since: {}\n",
            inventory.trail_rows(),
            by_table(&inventory.trail)
        ));
        if !inventory.foreign.is_empty() {
            text.push_str(&format!(
                "  {} rows not created by the seed:\n",
                inventory.foreign.len()
            ));
            for row in inventory.foreign.iter().take(FOREIGN_ROWS_SHOWN) {
                text.push_str(&format!("    {} {}\n", row.table, row.key));
            }
            if inventory.foreign.len() > FOREIGN_ROWS_SHOWN {
                text.push_str(&format!(
                    "    … and {} more\n",
                    inventory.foreign.len() - FOREIGN_ROWS_SHOWN
                ));
            }
        }
        text
    }
}

fn by_table(rows: &BTreeMap<String, u64>) -> String {
    if rows.is_empty() {
        return "none".to_owned();
    }
    rows.iter()
        .map(|(table, count)| format!("{table} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}
