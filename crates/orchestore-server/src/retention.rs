//! What `orchestore retention run` and the server's scheduled purge do, over any [`Store`]:
//! purge each organization that has a retention policy, and print what went.

use std::io::IsTerminal as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use orchestore_domain::{OrganizationId, PurgeBatch};
use orchestore_repo::{Ctx, RepoResult, RetentionReport, Store};

/// Purges `organization`, or every organization whose policy names something, at `now`, in
/// batches of `batch`; with `dry_run`, counts instead. One report per organization, in id
/// order. A bar on standard error shows the organizations done, when it is a terminal.
pub async fn purge_organizations(
    store: &dyn Store,
    organization: Option<OrganizationId>,
    now: DateTime<Utc>,
    batch: PurgeBatch,
    dry_run: bool,
) -> RepoResult<Vec<RetentionReport>> {
    let organizations = match organization {
        Some(org) => vec![org],
        None => store.organizations_with_retention_policy().await?,
    };
    let progress = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(organizations.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut reports = Vec::with_capacity(organizations.len());
    for org in organizations {
        progress.set_message(org.to_string());
        reports.push(
            store
                .purge_retention(&Ctx::system(org), now, batch, dry_run)
                .await?,
        );
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(reports)
}

/// The report as `retention run` prints it: per organization, a line with the total, then one
/// line per target its policy names (the table, the rows, and the instant they were older
/// than).
pub fn report_text(reports: &[RetentionReport]) -> String {
    if reports.is_empty() {
        return "no organization has a retention policy\n".to_owned();
    }
    let mut out = String::new();
    for report in reports {
        let verb = if report.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        out.push_str(&format!(
            "{}  {verb} {} row(s)\n",
            report.organization_id,
            report.total()
        ));
        for purged in &report.purged {
            out.push_str(&format!(
                "  {:<16} {:<10} {:>8}  older than {} ({})\n",
                purged.target.as_str(),
                purged.table,
                purged.rows,
                purged.older_than.format("%Y-%m-%dT%H:%M:%SZ"),
                purged.max_age,
            ));
        }
    }
    out
}

/// Purges every organization with a policy every `interval`, logging what went. Replicas may
/// all run it: a batch deletes rows no other batch has, and a row gone is not counted twice.
pub(crate) async fn purge_on_schedule(
    store: std::sync::Arc<dyn Store>,
    interval: Duration,
    batch: PurgeBatch,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        purge_expired_idempotency_keys(store.as_ref()).await;
        let organizations = match store.organizations_with_retention_policy().await {
            Ok(organizations) => organizations,
            Err(error) => {
                tracing::warn!(%error, "retention: listing organizations");
                continue;
            }
        };
        for org in organizations {
            match store
                .purge_retention(&Ctx::system(org), Utc::now(), batch, false)
                .await
            {
                Ok(report) if report.total() > 0 => tracing::info!(
                    %org,
                    deleted = report.total(),
                    report = %report_text(std::slice::from_ref(&report)).trim_end(),
                    "retention: purged"
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!(%org, %error, "retention"),
            }
        }
    }
}

/// Deletes the `Idempotency-Key` answers that expired, a bounded batch at a time.
async fn purge_expired_idempotency_keys(store: &dyn Store) {
    const BATCH: u32 = 1000;
    loop {
        match store
            .purge_expired_idempotent_requests(Utc::now(), BATCH)
            .await
        {
            Ok(deleted) if deleted < u64::from(BATCH) => {
                if deleted > 0 {
                    tracing::info!(deleted, "retention: purged expired idempotency keys");
                }
                return;
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(%error, "retention: purging expired idempotency keys");
                return;
            }
        }
    }
}
