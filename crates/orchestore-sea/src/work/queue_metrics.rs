//! The queue's counters, recorded through the `metrics` facade once a call has succeeded: a
//! no-op unless the embedding program installs a recorder (the server exports them at
//! `/metrics`). Library and HTTP use count alike. A call inside a store transaction counts
//! when it returns, even if the transaction is rolled back later.

use orchestore_domain::TaskStatus;

/// Tasks handed out by claims.
const CLAIMS: &str = "orchestore_queue_claims_total";
/// Runs ended in success.
const COMPLETIONS: &str = "orchestore_queue_completions_total";
/// Runs that failed, by `outcome`: `retried` (queued again after a backoff) or `dead` (failed
/// for good).
const FAILURES: &str = "orchestore_queue_failures_total";
/// Leases that expired before their run ended, by `outcome`: `requeued` or `dead`.
const LEASE_EXPIRIES: &str = "orchestore_queue_lease_expiries_total";

/// Gives the queue's counters their `# HELP` text in the recorder installed now (the server
/// calls it once it has installed its own).
pub fn describe() {
    metrics::describe_counter!(CLAIMS, "Tasks handed out by claims");
    metrics::describe_counter!(COMPLETIONS, "Runs ended in success");
    metrics::describe_counter!(FAILURES, "Runs that failed, by outcome (retried, dead)");
    metrics::describe_counter!(
        LEASE_EXPIRIES,
        "Leases that expired before their run ended, by outcome (requeued, dead)"
    );
}

pub(super) fn claimed(tasks: usize) {
    if tasks > 0 {
        metrics::counter!(CLAIMS).increment(as_count(tasks));
    }
}

pub(super) fn completed(runs: usize) {
    if runs > 0 {
        metrics::counter!(COMPLETIONS).increment(as_count(runs));
    }
}

/// A failed run that ended in `status`: `queued` again, or `failed` for good.
pub(super) fn failed(status: TaskStatus) {
    let outcome = if status == TaskStatus::Failed {
        "dead"
    } else {
        "retried"
    };
    metrics::counter!(FAILURES, "outcome" => outcome).increment(1);
}

pub(super) fn leases_expired(requeued: usize, dead: usize) {
    for (outcome, n) in [("requeued", requeued), ("dead", dead)] {
        if n > 0 {
            metrics::counter!(LEASE_EXPIRIES, "outcome" => outcome).increment(as_count(n));
        }
    }
}

fn as_count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
