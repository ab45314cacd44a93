//! The periodic jobs every replica runs over the organizations that have work for them:
//! expired leases, due proposals, schedules and waits, the audit sealer, ended sanctions,
//! leaderboard snapshots and the reputation feeder. Replicas may all run each one: the
//! repositories make every unit of work happen once, whoever gets to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use orchestore_domain::OrganizationId;
use orchestore_repo::{Ctx, FeedRound, RepoResult, SealOutcome, Store, feed_every_organization};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::in_flight::RequestsInFlight;

/// A periodic job; it stops when the application goes.
pub(crate) struct Sweeper(tokio::task::JoinHandle<()>);

impl Sweeper {
    pub(crate) fn spawn(job: impl Future<Output = ()> + Send + 'static) -> Self {
        Self(tokio::spawn(job))
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The most organizations one round of a sweep visits; the rest wait for the next.
const SWEEP_ORGANIZATIONS: u32 = 100;
/// The most due schedules, or due waits, one round ends in each organization.
const DUE_PER_ORGANIZATION: u32 = 100;
/// The most rows one round of sealing seals in an organization; an organization with more
/// goes again, after a rest while requests are being handled (see [`SealPace`]).
const SEAL_ROWS: u32 = 500;
/// While requests are being handled, the sealer rests this many times as long as its last
/// round took (wall time) before the next: it then takes at most a tenth of the time.
const SEAL_REST_WHILE_BUSY: u32 = 9;
/// For how many `audit.seal_interval`s at most an organization's sealing yields (a minute by
/// default): after that its rounds follow each other at once until it has caught up.
const SEAL_YIELD_INTERVALS: u32 = 12;
/// How long after a slot starts its snapshots are taken: the timer and the clock the slot is
/// read from may differ by a little.
const SNAPSHOT_MARGIN: Duration = Duration::from_millis(50);

/// A ticker of `interval` whose late ticks wait rather than burst.
fn ticker(interval: Duration) -> Interval {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker
}

/// At every tick: lists the organizations `due` names, runs `each` in each of them, and logs
/// what `report` says of its outcome (a failure as a warning naming `job`). When `left_work`
/// says of an outcome that the round stopped at its bound with work left, those organizations
/// go again at once, in turn, rather than at the next tick: work that arrives faster than one
/// round a tick can do is still done. One that failed waits for the tick.
async fn over_organizations<T, Due, Each>(
    job: &'static str,
    mut ticker: Interval,
    store: Arc<dyn Store>,
    // Closures of owned arguments returning futures, not async closures over borrowed ones:
    // those are not yet `Send` enough for `tokio::spawn`.
    due: impl Fn(Arc<dyn Store>) -> Due,
    each: impl Fn(Arc<dyn Store>, Ctx) -> Each,
    left_work: impl Fn(&T) -> bool,
    report: impl Fn(OrganizationId, T),
) where
    Due: Future<Output = RepoResult<Vec<OrganizationId>>>,
    Each: Future<Output = RepoResult<T>>,
{
    let mut unfinished: Vec<OrganizationId> = Vec::new();
    loop {
        let organizations = if unfinished.is_empty() {
            ticker.tick().await;
            match due(Arc::clone(&store)).await {
                Ok(organizations) => organizations,
                Err(error) => {
                    tracing::warn!(%error, "{job}: listing organizations");
                    continue;
                }
            }
        } else {
            std::mem::take(&mut unfinished)
        };
        for org in organizations {
            match each(Arc::clone(&store), Ctx::system(org)).await {
                Ok(outcome) => {
                    if left_work(&outcome) {
                        unfinished.push(org);
                    }
                    report(org, outcome);
                }
                Err(error) => tracing::warn!(%org, %error, "{job}"),
            }
        }
    }
}

/// For the jobs whose every round does all there is.
fn nothing_left<T>(_: &T) -> bool {
    false
}

/// Returns expired leases to the queue (or fails their tasks) and closes the proposals past
/// their closing time, computing their results (a read or a vote closes one too; whichever
/// comes first writes it), every `interval`.
pub(crate) async fn expire_leases_and_close_proposals(store: Arc<dyn Store>, interval: Duration) {
    let leases = over_organizations(
        "lease sweep",
        ticker(interval),
        Arc::clone(&store),
        |store: Arc<dyn Store>| async move {
            store
                .organizations_with_expired_leases(SWEEP_ORGANIZATIONS)
                .await
        },
        |store: Arc<dyn Store>, ctx: Ctx| async move { store.expire_leases(&ctx).await },
        nothing_left,
        |org, expired| {
            if !expired.is_empty() {
                tracing::info!(
                    %org,
                    requeued = expired.requeued.len(),
                    failed = expired.failed.len(),
                    "lease sweep: expired leases"
                );
            }
        },
    );
    let proposals = over_organizations(
        "proposal sweep",
        ticker(interval),
        store,
        |store: Arc<dyn Store>| async move {
            store
                .organizations_with_due_proposals(SWEEP_ORGANIZATIONS)
                .await
        },
        |store: Arc<dyn Store>, ctx: Ctx| async move {
            store.close_due_proposals(&ctx, chrono::Utc::now()).await
        },
        nothing_left,
        |org, closed| {
            if !closed.is_empty() {
                tracing::info!(%org, closed = closed.len(), "proposal sweep: closed proposals");
            }
        },
    );
    tokio::join!(leases, proposals);
}

/// Fires the due schedules of every organization that has some, every `interval`; each
/// occurrence is fired by one replica (see `ScheduleRepo`).
pub(crate) async fn fire_due_schedules(store: Arc<dyn Store>, interval: Duration) {
    over_organizations(
        "scheduler",
        ticker(interval),
        store,
        |store: Arc<dyn Store>| async move {
            store
                .organizations_with_due_schedules(chrono::Utc::now(), SWEEP_ORGANIZATIONS)
                .await
        },
        |store: Arc<dyn Store>, ctx: Ctx| async move {
            store
                .fire_due_schedules(&ctx, chrono::Utc::now(), DUE_PER_ORGANIZATION)
                .await
        },
        nothing_left,
        |org, fired| {
            if !fired.is_empty() {
                tracing::debug!(%org, fired = fired.len(), "scheduler: fired schedules");
            }
        },
    )
    .await;
}

/// Ends the due waits of every organization that has some, every `interval`; each wait is
/// ended by one replica (see `WaitRepo`).
pub(crate) async fn fire_due_waits(store: Arc<dyn Store>, interval: Duration) {
    over_organizations(
        "wait sweep",
        ticker(interval),
        store,
        |store: Arc<dyn Store>| async move {
            store
                .organizations_with_due_waits(chrono::Utc::now(), SWEEP_ORGANIZATIONS)
                .await
        },
        |store: Arc<dyn Store>, ctx: Ctx| async move {
            store
                .fire_due_waits(&ctx, chrono::Utc::now(), DUE_PER_ORGANIZATION)
                .await
        },
        nothing_left,
        |org, ended| {
            if !ended.is_empty() {
                tracing::debug!(%org, ended = ended.len(), "wait sweep: ended waits");
            }
        },
    )
    .await;
}

/// When the sealer rests between an organization's rounds. Sealing a row rewrites it and every
/// index it is in, about as much work for the database as writing it: under a burst of writes,
/// a sealer keeping pace would take close to half of the database from them, for a chain that
/// can as well be extended a little later. So while requests are being handled it works a tenth
/// of the time, and once they stop it catches up at once; but an organization is never left
/// behind for longer than `most_behind`, past which it is sealed at full pace whatever the load,
/// which bounds how long a row stays outside the chain.
struct SealPace {
    requests: RequestsInFlight,
    most_behind: Duration,
    /// Since when each organization's rounds have been leaving rows unsealed.
    behind_since: Mutex<HashMap<OrganizationId, Instant>>,
}

impl SealPace {
    fn new(requests: RequestsInFlight, interval: Duration) -> Self {
        Self {
            requests,
            most_behind: interval * SEAL_YIELD_INTERVALS,
            behind_since: Mutex::default(),
        }
    }

    /// How long to rest after a round of `org` that took `round` and left rows unsealed or not
    /// (`more`), at `now`, with requests being handled or not (`busy`).
    fn rest(
        &self,
        org: OrganizationId,
        round: Duration,
        more: bool,
        busy: bool,
        now: Instant,
    ) -> Duration {
        let mut behind_since = self
            .behind_since
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !more {
            behind_since.remove(&org);
            return Duration::ZERO;
        }
        let since = *behind_since.entry(org).or_insert(now);
        if busy && now.duration_since(since) < self.most_behind {
            round * SEAL_REST_WHILE_BUSY
        } else {
            Duration::ZERO
        }
    }
}

/// Seals the audit rows written since into their organizations' chains, every `interval`, at
/// the pace [`SealPace`] sets; an organization's sealers take turns on its chain head.
pub(crate) async fn seal_audit_chains(
    store: Arc<dyn Store>,
    interval: Duration,
    requests: RequestsInFlight,
) {
    let pace = Arc::new(SealPace::new(requests, interval));
    over_organizations(
        "audit sealer",
        ticker(interval),
        store,
        |store: Arc<dyn Store>| async move {
            store
                .organizations_with_unsealed_audit(SWEEP_ORGANIZATIONS)
                .await
        },
        move |store: Arc<dyn Store>, ctx: Ctx| {
            let pace = Arc::clone(&pace);
            async move {
                let started = Instant::now();
                let outcome = store.seal_audit(&ctx, SEAL_ROWS).await?;
                let now = Instant::now();
                let busy = pace.requests.busy();
                let rest = pace.rest(ctx.org(), now - started, outcome.more, busy, now);
                tokio::time::sleep(rest).await;
                Ok(outcome)
            }
        },
        |outcome: &SealOutcome| outcome.more,
        |org, outcome| {
            tracing::debug!(
                %org,
                sealed = outcome.sealed,
                head = outcome.head.as_ref().map(|head| head.seq),
                "audit sealer: sealed"
            );
        },
    )
    .await;
}

/// Marks what ended (rewards not redeemed in time, grants and suspensions past their end) in
/// every organization that has some, every `interval`.
pub(crate) async fn sweep_ended_sanctions(store: Arc<dyn Store>, interval: Duration) {
    over_organizations(
        "sanction sweep",
        ticker(interval),
        store,
        |store: Arc<dyn Store>| async move {
            store
                .organizations_with_ended_sanctions(SWEEP_ORGANIZATIONS)
                .await
        },
        |store: Arc<dyn Store>, ctx: Ctx| async move { store.expire_sanctions(&ctx).await },
        nothing_left,
        |org, swept| {
            if !swept.is_empty() {
                tracing::info!(
                    %org,
                    rewards = swept.rewards_expired,
                    grants = swept.grants_expired,
                    suspensions = swept.suspensions_ended,
                    "sanction sweep: ended"
                );
            }
        },
    )
    .await;
}

/// Takes the scheduled leaderboard snapshots of every organization with standings at the start
/// of each slot of `every` (whole `every`s since the Unix epoch: midnight UTC for a day); the
/// slot is a unique key, so one replica takes each.
pub(crate) async fn take_scheduled_snapshots(store: Arc<dyn Store>, every: Duration) {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let into_slot = since_epoch.as_nanos() % every.as_nanos().max(1);
    let to_next = every.saturating_sub(Duration::from_nanos(u64::try_from(into_slot).unwrap_or(0)));
    let mut ticker = tokio::time::interval_at(Instant::now() + to_next + SNAPSHOT_MARGIN, every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    over_organizations(
        "leaderboard snapshots",
        ticker,
        store,
        |store: Arc<dyn Store>| async move {
            store
                .organizations_due_for_snapshots(every, SWEEP_ORGANIZATIONS)
                .await
        },
        |store: Arc<dyn Store>, ctx: Ctx| async move {
            store.take_scheduled_snapshots(&ctx, every).await
        },
        nothing_left,
        |org, taken| tracing::debug!(%org, taken = taken.len(), "leaderboard snapshots"),
    )
    .await;
}

/// Turns the task runs that ended since into reliability events, in every organization that
/// has some, every `interval`; feeders of one organization take turns, and an ending counts
/// once whoever records it.
pub(crate) async fn feed_task_outcomes(store: Arc<dyn Store>, interval: Duration) {
    let mut ticker = ticker(interval);
    loop {
        ticker.tick().await;
        let round = match feed_every_organization(store.as_ref(), FeedRound::default()).await {
            Ok(round) => round,
            Err(error) => {
                tracing::warn!(%error, "reputation feeder: listing organizations");
                continue;
            }
        };
        for (org, fed) in round {
            match fed {
                Ok(fed) if fed.recorded > 0 => {
                    tracing::debug!(%org, recorded = fed.recorded, "reputation feeder: fed")
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%org, %error, "reputation feeder"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use orchestore_testkit::TestDb;

    use super::*;

    const INTERVAL: Duration = Duration::from_secs(3600);

    /// An organization whose round left work goes again at once, alone, until its work is
    /// done; the others wait for the next tick. (Time is paused once the store is open: it
    /// then moves only when every task waits for a timer, so rounds run at once share an
    /// instant.)
    #[tokio::test]
    async fn a_round_that_left_work_is_followed_at_once() {
        let db = TestDb::sqlite().await;
        let store: Arc<dyn Store> = Arc::new(db.store().clone());
        tokio::time::pause();
        let (busy, quiet) = (OrganizationId::new(), OrganizationId::new());
        let rounds: Arc<Mutex<Vec<(OrganizationId, Instant)>>> = Arc::default();
        let recorded = Arc::clone(&rounds);
        let job = over_organizations(
            "test sweep",
            ticker(INTERVAL),
            store,
            move |_| async move { Ok(vec![busy, quiet]) },
            move |_, ctx: Ctx| {
                let rounds = Arc::clone(&recorded);
                async move {
                    let mut rounds = rounds.lock().unwrap_or_else(|e| e.into_inner());
                    rounds.push((ctx.org(), Instant::now()));
                    let done = rounds.iter().filter(|(org, _)| *org == ctx.org()).count();
                    Ok((ctx.org(), done))
                }
            },
            // The busy organization's first three rounds stop at their bound.
            move |&(org, done): &(OrganizationId, usize)| org == busy && done < 4,
            |_, _| {},
        );
        let _ = tokio::time::timeout(INTERVAL * 2 - Duration::from_secs(1), job).await;
        let rounds = rounds.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let start = rounds[0].1;
        let seen: Vec<(OrganizationId, Duration)> =
            rounds.iter().map(|(org, at)| (*org, *at - start)).collect();
        let zero = Duration::ZERO;
        assert_eq!(
            seen,
            [
                (busy, zero),
                (quiet, zero),
                (busy, zero),
                (busy, zero),
                (busy, zero),
                (busy, INTERVAL),
                (quiet, INTERVAL),
            ],
        );
    }

    #[test]
    fn the_sealer_yields_to_requests_for_a_while_only() {
        let interval = Duration::from_secs(5);
        let pace = SealPace::new(RequestsInFlight::default(), interval);
        let (org, other) = (OrganizationId::new(), OrganizationId::new());
        let round = Duration::from_millis(40);
        let start = Instant::now();
        let rested = |at: Duration, more, busy| pace.rest(org, round, more, busy, start + at);
        assert_eq!(rested(Duration::ZERO, true, true), round * 9, "busy: rests");
        assert_eq!(
            rested(Duration::from_secs(1), true, false),
            Duration::ZERO,
            "idle: at once"
        );
        assert_eq!(
            rested(interval * 11, true, true),
            round * 9,
            "still within the bound"
        );
        assert_eq!(
            rested(interval * 12, true, true),
            Duration::ZERO,
            "behind for twelve intervals: full pace whatever the load"
        );
        assert_eq!(
            pace.rest(other, round, true, true, start + interval * 12),
            round * 9,
            "each organization is behind on its own clock"
        );
        assert_eq!(
            rested(interval * 13, false, true),
            Duration::ZERO,
            "caught up"
        );
        assert_eq!(
            rested(interval * 14, true, true),
            round * 9,
            "behind again: it yields again"
        );
    }
}
