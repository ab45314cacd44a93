//! What `orchestore audit seal` and `orchestore audit verify` do, over any [`Store`]: the
//! binary prints the lines these return.

use orchestore_domain::OrganizationId;
use orchestore_repo::{ChainReport, Ctx, RepoResult, SealOutcome, Store};

/// Seals the unsealed audit rows of `organization`, or of every organization that has some:
/// what the server's sealer does every `audit.seal_interval`, all at once.
pub async fn seal_chains(
    store: &dyn Store,
    organization: Option<OrganizationId>,
) -> RepoResult<Vec<(OrganizationId, SealOutcome)>> {
    let organizations = match organization {
        Some(org) => vec![org],
        None => store.organizations_with_unsealed_audit(u32::MAX).await?,
    };
    let mut sealed = Vec::with_capacity(organizations.len());
    for org in organizations {
        let outcome = store.seal_audit(&Ctx::system(org), u32::MAX).await?;
        sealed.push((org, outcome));
    }
    Ok(sealed)
}

/// Verifies the chain of `organization`, or of every organization that has audit rows or a
/// chain head.
pub async fn verify_chains(
    store: &dyn Store,
    organization: Option<OrganizationId>,
) -> RepoResult<Vec<ChainReport>> {
    let organizations = match organization {
        Some(org) => vec![org],
        None => store.audited_organizations().await?,
    };
    let mut reports = Vec::with_capacity(organizations.len());
    for org in organizations {
        reports.push(store.verify_audit(&Ctx::system(org)).await?);
    }
    Ok(reports)
}

/// One line of `audit seal`: the organization, how many rows were sealed, and its head.
pub fn seal_line(org: OrganizationId, outcome: &SealOutcome) -> String {
    match &outcome.head {
        Some(head) => format!(
            "{org}  sealed {}  head seq {} hash {}",
            outcome.sealed, head.seq, head.hash
        ),
        None => format!("{org}  sealed 0  nothing to seal"),
    }
}

/// One line of `audit verify`: `ok` with the head (to copy somewhere the database's writers
/// cannot reach, and compare later), or `BROKEN` with the first row that does not fit.
pub fn verify_line(report: &ChainReport) -> String {
    let org = report.organization_id;
    let unsealed = match report.unsealed {
        0 => String::new(),
        n => format!("  ({n} unsealed)"),
    };
    match (&report.broken, &report.head) {
        (Some(broken), _) => format!(
            "{org}  BROKEN  {broken}  ({} rows verified before it){unsealed}",
            report.verified
        ),
        (None, Some(head)) => format!(
            "{org}  ok  head seq {} hash {}{unsealed}",
            head.seq, head.hash
        ),
        (None, None) => format!("{org}  ok  nothing sealed yet{unsealed}"),
    }
}
