//! Wake-ups for claims that wait for work: a commit that queues tasks wakes as many of its
//! organization's waiting claims in this process as it queued tasks, and, on PostgreSQL, those
//! of every other process through `NOTIFY` (sent at commit, so never before the tasks are
//! visible), whose payload says how many.
//!
//! One task wakes one claim, not all of them: every claim woken at once would look at the same
//! task and all but one come back empty, a burst of statements on the database for each task
//! (on two cores, the herd nearly doubled the claim's latency). A woken claim that takes fewer tasks
//! than it was woken for passes the rest of its wake-up on to a claim that has not looked since
//! the tasks were queued (one whose agent may take what this one cannot), so every waiting claim
//! still sees every task it could take, and the passing ends once each has looked. (A claim that
//! finds nothing cannot tell a task its agent may not run from one another claim took first, so
//! at worst the passing wakes, one after another, every claim that waited before the task came:
//! as many looks as the herd made at once, and usually one.) A store's listener skips the
//! notifications the store sent itself: its commits woke its own claims directly (a write
//! inside a store transaction, once the outermost transaction commits: `mutation::Aftermath`).
//!
//! `NOTIFY` serializes the commits that send it (PostgreSQL takes one lock for the queue of
//! notifications), so a process sends at most one per organization every
//! [`Wakeups::NOTIFY_GAP`]: the tasks committed in between are counted and announced by one
//! `NOTIFY` at the gap's end.
//!
//! A waiting claim also looks again at a short interval ([`Wakeups::RECHECK`]): for tasks whose
//! `run_after` comes due, for a wake-up missed while the listener reconnects, and for writers
//! that do not notify (another process on the same SQLite file, raw SQL).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::{Notify, OnceCell, oneshot};
use uuid::Uuid;

/// The PostgreSQL channel; the payload is the organization id, the number of tasks queued and
/// the sending store's id, separated by spaces (an organization id alone counts as one task).
pub(crate) const CHANNEL: &str = "orchestore_queue";

/// What a `NOTIFY` announces.
#[derive(Debug, PartialEq, Eq)]
struct Announcement {
    org: Uuid,
    tasks: usize,
    /// The store that sent it, if it says.
    sender: Option<Uuid>,
}

impl Announcement {
    fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.split(' ');
        let org = Uuid::parse_str(parts.next()?).ok()?;
        let tasks = parts.next().map_or(Ok(1), str::parse).ok()?;
        let sender = parts.next().map(Uuid::parse_str).transpose().ok()?;
        parts
            .next()
            .is_none()
            .then_some(Self { org, tasks, sender })
    }
}

/// What a wake-up tells the claim it wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wake {
    /// The claims that began looking before this point had not seen the tasks.
    looked_before: u64,
    /// How many of the tasks this claim is to account for: it takes them or passes the rest on.
    pub(crate) tasks: usize,
}

/// A waiting claim as the wake-ups see it: when it began looking and where to wake it.
#[derive(Debug)]
struct Waiter {
    look: u64,
    wake: oneshot::Sender<Wake>,
}

#[derive(Debug, Default)]
struct Waiting {
    /// Numbers the claims' looks in the order they begin.
    next_look: u64,
    /// Each organization's waiting claims, earliest look first.
    by_org: HashMap<Uuid, VecDeque<Waiter>>,
}

impl Waiting {
    /// Wakes up to `wake.tasks` of `org`'s claims that began looking before the wake-up, the
    /// earliest first, and shares the tasks among them.
    fn deliver(&mut self, org: Uuid, wake: Wake) {
        let Some(claims) = self.by_org.get_mut(&org) else {
            return;
        };
        let unaware = claims
            .iter()
            .filter(|claim| claim.look < wake.looked_before)
            .count();
        let woken = unaware.min(wake.tasks);
        if woken == 0 {
            return;
        }
        let (share, extra) = (wake.tasks / woken, wake.tasks % woken);
        let mut sent = 0;
        let mut kept = VecDeque::with_capacity(claims.len() - woken);
        for claim in claims.drain(..) {
            if sent < woken && claim.look < wake.looked_before {
                let tasks = share + usize::from(sent < extra);
                sent += 1;
                // Its receiver lives until the claim leaves, which takes this lock first (see
                // `WaitingClaim`'s drop): the send does not fail.
                let _ = claim.wake.send(Wake { tasks, ..wake });
            } else {
                kept.push_back(claim);
            }
        }
        if kept.is_empty() {
            self.by_org.remove(&org);
        } else {
            *claims = kept;
        }
    }
}

/// How a commit's queued tasks are announced to other processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// By a `NOTIFY` of this many tasks, sent with the commit.
    Now(usize),
    /// By a `NOTIFY` at the end of the gap, once the commit is done (see
    /// [`Wakeups::announce_later`]).
    Later,
}

/// An organization's announcements from this store.
#[derive(Debug)]
struct Announced {
    /// When this store last sent, or decided to send, `NOTIFY` for it.
    at: Instant,
    /// Tasks committed since, to announce at the end of the gap.
    pending: usize,
    /// Whether a task waits to send them.
    due: bool,
}

#[derive(Debug)]
pub(crate) struct Wakeups {
    /// Names this store in its `NOTIFY` payloads, so that its listener skips its own: the
    /// commit already woke this store's claims.
    id: Uuid,
    waiting: Mutex<Waiting>,
    announced: Mutex<HashMap<Uuid, Announced>>,
    listener: OnceCell<()>,
    /// Told when the store closes or is dropped, so that the listener gives its pooled
    /// connection back (a pool closes only once every connection it lent is back).
    stop_listening: Arc<Notify>,
}

impl Default for Wakeups {
    fn default() -> Self {
        Self {
            id: Uuid::new_v4(),
            waiting: Mutex::default(),
            announced: Mutex::default(),
            listener: OnceCell::new(),
            stop_listening: Arc::default(),
        }
    }
}

impl Drop for Wakeups {
    fn drop(&mut self) {
        self.stop_listening();
    }
}

/// A claim of an organization about to look for work, registered before it looks, so that
/// tasks queued after the look still wake it. It carries the wake-up that woke its previous
/// wait, if any: what its look does not take of it goes on to other claims, when it waits
/// again or leaves (returned, failed or dropped). A wake-up it receives while it looks goes on
/// whole if it leaves: its look may have begun before those tasks were there.
#[derive(Debug)]
pub(crate) struct WaitingClaim {
    wakeups: Arc<Wakeups>,
    org: Uuid,
    look: u64,
    woken: oneshot::Receiver<Wake>,
    carried: Option<Wake>,
    taken: usize,
}

impl WaitingClaim {
    /// After a look that took nothing: passes the carried wake-up on, then waits for one of
    /// its own until `pause` ends.
    pub(crate) async fn woken_within(mut self, pause: Duration) -> Option<Wake> {
        if let Some(carried) = self.carried.take() {
            self.wakeups.pass_on(self.org, carried, 0);
        }
        tokio::time::timeout(pause, &mut self.woken)
            .await
            .ok()?
            .ok()
    }

    /// Leaves after a look that took `tasks`.
    pub(crate) fn took(mut self, tasks: usize) {
        self.taken = tasks;
    }
}

impl Drop for WaitingClaim {
    fn drop(&mut self) {
        let mut waiting = self.wakeups.waiting();
        let registered = waiting.by_org.get_mut(&self.org).and_then(|claims| {
            let at = claims.iter().position(|claim| claim.look == self.look)?;
            claims.remove(at);
            Some(claims.is_empty())
        });
        match registered {
            Some(true) => {
                waiting.by_org.remove(&self.org);
            }
            Some(false) => {}
            // Not registered any more: it was woken, under this lock, so the wake-up is here
            // unless the claim waited for it.
            None => {
                if let Ok(wake) = self.woken.try_recv() {
                    waiting.deliver(self.org, wake);
                }
            }
        }
        if let Some(carried) = self.carried.take() {
            let tasks = carried.tasks.saturating_sub(self.taken);
            if tasks > 0 {
                waiting.deliver(self.org, Wake { tasks, ..carried });
            }
        }
    }
}

impl Wakeups {
    /// How often a waiting claim looks again without a wake-up.
    pub(crate) const RECHECK: Duration = Duration::from_secs(1);

    /// The least time between two `NOTIFY` of one organization from this process: a task
    /// queued within it is announced at its end, a few milliseconds late, and a stream of
    /// enqueues sends at most 200 a second. (A store closed within the gap does not send it:
    /// claims elsewhere find those tasks at their recheck.)
    pub(crate) const NOTIFY_GAP: Duration = Duration::from_millis(5);

    fn waiting(&self) -> MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a claim of `org` about to look for work, carrying the wake-up that ended its
    /// last wait; hold it while looking and waiting.
    pub(crate) fn wait(self: &Arc<Self>, org: Uuid, carried: Option<Wake>) -> WaitingClaim {
        let (wake, woken) = oneshot::channel();
        let mut waiting = self.waiting();
        let look = waiting.next_look;
        waiting.next_look += 1;
        waiting
            .by_org
            .entry(org)
            .or_default()
            .push_back(Waiter { look, wake });
        WaitingClaim {
            wakeups: Arc::clone(self),
            org,
            look,
            woken,
            carried,
            taken: 0,
        }
    }

    /// Wakes as many of `org`'s claims waiting in this process as `tasks` were queued (all
    /// committed).
    pub(crate) fn wake(&self, org: Uuid, tasks: usize) {
        let mut waiting = self.waiting();
        let looked_before = waiting.next_look;
        waiting.deliver(
            org,
            Wake {
                looked_before,
                tasks,
            },
        );
    }

    /// Passes the part of `wake` a woken claim did not take to claims that have not looked
    /// since it.
    fn pass_on(&self, org: Uuid, wake: Wake, taken: usize) {
        let tasks = wake.tasks.saturating_sub(taken);
        if tasks > 0 {
            self.waiting().deliver(org, Wake { tasks, ..wake });
        }
    }

    /// The payload of a `NOTIFY` of `tasks` queued in `org`, sent by this store.
    pub(crate) fn payload(&self, org: Uuid, tasks: usize) -> String {
        format!("{org} {tasks} {}", self.id)
    }

    /// How a commit that queues tasks of `org` announces them to other processes: with the
    /// commit, or, within [`Wakeups::NOTIFY_GAP`] of the last `NOTIFY`, at the gap's end.
    pub(crate) fn notice(&self, org: Uuid, tasks: usize) -> Notice {
        self.notice_at(org, tasks, Instant::now())
    }

    fn notice_at(&self, org: Uuid, tasks: usize, now: Instant) -> Notice {
        let mut announced = self.announced();
        if announced.len() > 10_000 {
            announced.retain(|_, a| a.due || now.duration_since(a.at) < Self::NOTIFY_GAP);
        }
        match announced.get_mut(&org) {
            Some(last) if now.duration_since(last.at) < Self::NOTIFY_GAP => Notice::Later,
            Some(last) => {
                last.at = now;
                Notice::Now(tasks)
            }
            None => {
                announced.insert(
                    org,
                    Announced {
                        at: now,
                        pending: 0,
                        due: false,
                    },
                );
                Notice::Now(tasks)
            }
        }
    }

    fn announced(&self) -> MutexGuard<'_, HashMap<Uuid, Announced>> {
        self.announced.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts `tasks` of `org`, committed under [`Notice::Later`], for the `NOTIFY` at the end of
    /// the gap, and starts the task that sends it unless one waits already.
    pub(crate) fn announce_later(
        self: &Arc<Self>,
        pool: &DatabaseConnection,
        org: Uuid,
        tasks: usize,
    ) {
        let Some(delay) = self.count_pending(org, tasks, Instant::now()) else {
            return;
        };
        let (wakeups, pool) = (Arc::clone(self), pool.clone());
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let Some(tasks) = wakeups.take_pending(org) else {
                return;
            };
            if let Err(error) = pool.execute_raw(notify(wakeups.payload(org, tasks))).await {
                tracing::warn!(%error, "queue wake-ups: a NOTIFY failed; claims elsewhere look again within a second");
            }
        });
    }

    /// Adds `tasks` to those of `org` to announce; how long until the end of the gap when no
    /// task waits to send them yet.
    fn count_pending(&self, org: Uuid, tasks: usize, now: Instant) -> Option<Duration> {
        let mut announced = self.announced();
        let last = announced.entry(org).or_insert(Announced {
            at: now,
            pending: 0,
            due: false,
        });
        last.pending = last.pending.saturating_add(tasks);
        // A sender that never ran (its runtime ended first) would leave `due` set for good: it
        // counts as gone once a recheck's time has passed since it was due.
        let stale = last.at + Self::NOTIFY_GAP + Self::RECHECK;
        if last.due && now < stale {
            return None;
        }
        last.due = true;
        Some((last.at + Self::NOTIFY_GAP).saturating_duration_since(now))
    }

    /// The tasks of `org` counted since its last `NOTIFY`, now to be announced.
    fn take_pending(&self, org: Uuid) -> Option<usize> {
        let mut announced = self.announced();
        let last = announced.get_mut(&org)?;
        last.due = false;
        if last.pending == 0 {
            return None;
        }
        last.at = Instant::now();
        Some(std::mem::take(&mut last.pending))
    }

    /// Ends the listener's task, if it runs (or when it starts), giving its connection back.
    pub(crate) fn stop_listening(&self) {
        // A permit kept for a listener not waiting yet: it stops at its next wait.
        self.stop_listening.notify_one();
    }

    /// Starts, once per store, the task that turns PostgreSQL notifications into wake-ups. It
    /// holds one pooled connection while it runs and reconnects after an outage; if it cannot
    /// start, waiting claims still look again every [`Wakeups::RECHECK`].
    pub(crate) async fn listen(self: &Arc<Self>, pool: &DatabaseConnection) {
        let wakeups = Arc::downgrade(self);
        let pool = pool.get_postgres_connection_pool().clone();
        self.listener
            .get_or_init(|| async move {
                let mut listener = match PgListener::connect_with(&pool).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, "queue wake-ups: cannot listen; claims poll");
                        return;
                    }
                };
                if let Err(error) = listener.listen(CHANNEL).await {
                    tracing::warn!(%error, "queue wake-ups: cannot listen; claims poll");
                    return;
                }
                let stop = Arc::clone(&self.stop_listening);
                tokio::spawn(async move {
                    loop {
                        let received = tokio::select! {
                            received = listener.recv() => received,
                            () = stop.notified() => return,
                        };
                        match received {
                            Ok(notification) => {
                                let Some(wakeups) = wakeups.upgrade() else {
                                    return;
                                };
                                if let Some(announced) = Announcement::parse(notification.payload())
                                    && announced.sender != Some(wakeups.id)
                                {
                                    wakeups.wake(announced.org, announced.tasks);
                                }
                            }
                            Err(error) => {
                                // `recv` reconnects by itself on the next call.
                                tracing::warn!(%error, "queue wake-ups: listener lost");
                                tokio::time::sleep(Wakeups::RECHECK).await;
                            }
                        }
                    }
                });
            })
            .await;
    }
}

/// The statement of a `NOTIFY` of `payload` on the queue's channel.
pub(crate) fn notify(payload: String) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), payload.into()],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wake-up `claim` holds, without waiting (it passes what it carries on first).
    async fn woken(claim: WaitingClaim) -> Option<Wake> {
        claim.woken_within(Duration::ZERO).await
    }

    fn tasks(wake: Option<Wake>) -> Option<usize> {
        wake.map(|wake| wake.tasks)
    }

    #[tokio::test]
    async fn one_task_wakes_one_claim_the_earliest() {
        let wakeups = Arc::new(Wakeups::default());
        let org = Uuid::now_v7();
        let first = wakeups.wait(org, None);
        let (second, third) = (wakeups.wait(org, None), wakeups.wait(org, None));
        wakeups.wake(org, 1);
        assert_eq!(tasks(woken(first).await), Some(1));
        assert_eq!(woken(second).await, None);
        assert_eq!(woken(third).await, None);
        assert!(
            wakeups.waiting().by_org.is_empty(),
            "no claim is left registered"
        );
    }

    #[tokio::test]
    async fn tasks_are_shared_among_the_claims_they_wake() {
        let wakeups = Arc::new(Wakeups::default());
        let org = Uuid::now_v7();
        let (first, second) = (wakeups.wait(org, None), wakeups.wait(org, None));
        let elsewhere = wakeups.wait(Uuid::now_v7(), None);
        wakeups.wake(org, 5);
        assert_eq!(tasks(woken(first).await), Some(3));
        assert_eq!(tasks(woken(second).await), Some(2));
        assert_eq!(
            woken(elsewhere).await,
            None,
            "another organization's claim sleeps on"
        );
    }

    #[tokio::test]
    async fn what_a_look_did_not_take_goes_to_a_claim_that_has_not_looked_since() {
        let wakeups = Arc::new(Wakeups::default());
        let org = Uuid::now_v7();
        let (first, second) = (wakeups.wait(org, None), wakeups.wait(org, None));
        wakeups.wake(org, 1);
        let wake = woken(first).await;
        assert_eq!(tasks(wake), Some(1));
        // The first looks again, carrying its wake-up, and takes nothing (its agent may not
        // run the task): waiting again, it passes the wake-up on.
        let first_again = wakeups.wait(org, wake);
        let third = wakeups.wait(org, None);
        assert_eq!(woken(first_again).await, None, "it has seen the task");
        let passed = woken(second).await;
        assert_eq!(tasks(passed), Some(1));
        // Every claim registered since looked after the task was there: no one else is woken.
        let second_again = wakeups.wait(org, passed);
        assert_eq!(woken(second_again).await, None);
        assert_eq!(woken(third).await, None);
        // What a look took is not passed on; the rest is.
        let (fourth, fifth) = (wakeups.wait(org, None), wakeups.wait(org, None));
        let carried = Wake {
            looked_before: wakeups.waiting().next_look,
            tasks: 3,
        };
        wakeups.wait(org, Some(carried)).took(2);
        assert_eq!(tasks(woken(fourth).await), Some(1));
        assert_eq!(woken(fifth).await, None);
        assert!(
            wakeups.waiting().by_org.is_empty(),
            "no claim is left registered"
        );
    }

    #[tokio::test]
    async fn a_claim_that_leaves_hands_on_a_wake_up_it_got_while_looking() {
        let wakeups = Arc::new(Wakeups::default());
        let org = Uuid::now_v7();
        // Woken while its look takes a task: the task woken for may have come after the look
        // began, so the wake-up goes on whole.
        let (looking, waiting) = (wakeups.wait(org, None), wakeups.wait(org, None));
        wakeups.wake(org, 1);
        looking.took(1);
        assert_eq!(tasks(woken(waiting).await), Some(1));
        // Dropped (its caller went away): the same.
        let (dropped, waiting) = (wakeups.wait(org, None), wakeups.wait(org, None));
        wakeups.wake(org, 1);
        drop(dropped);
        assert_eq!(tasks(woken(waiting).await), Some(1));
        assert!(
            wakeups.waiting().by_org.is_empty(),
            "no claim is left registered"
        );
    }

    #[test]
    fn commits_within_the_gap_are_counted_and_announced_at_its_end() {
        let wakeups = Wakeups::default();
        let (org, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (start, gap) = (Instant::now(), Wakeups::NOTIFY_GAP);
        assert_eq!(wakeups.notice_at(org, 3, start), Notice::Now(3));
        assert_eq!(wakeups.notice_at(other, 1, start), Notice::Now(1));
        assert_eq!(wakeups.notice_at(org, 2, start + gap / 5), Notice::Later);
        // Counted once committed; the first starts the sender, due at the gap's end.
        assert_eq!(
            wakeups.count_pending(org, 2, start + gap / 5),
            Some(gap - gap / 5)
        );
        assert_eq!(wakeups.notice_at(org, 4, start + gap / 2), Notice::Later);
        assert_eq!(wakeups.count_pending(org, 4, start + gap / 2), None);
        assert_eq!(wakeups.take_pending(org), Some(6));
        assert_eq!(wakeups.take_pending(org), None, "sent once");
        assert_eq!(wakeups.take_pending(other), None);
        // A commit after a late one is counted: its sender is due at once.
        assert_eq!(
            wakeups.count_pending(other, 1, start + gap * 2),
            Some(Duration::ZERO)
        );
        assert_eq!(wakeups.take_pending(other), Some(1));
        assert_eq!(
            wakeups.notice_at(other, 1, start + gap * 10),
            Notice::Now(1)
        );
    }

    #[test]
    fn a_sender_that_never_ran_is_replaced() {
        let wakeups = Wakeups::default();
        let org = Uuid::now_v7();
        let start = Instant::now();
        assert_eq!(wakeups.notice_at(org, 1, start), Notice::Now(1));
        assert!(wakeups.count_pending(org, 1, start).is_some());
        let gone = start + Wakeups::NOTIFY_GAP + Wakeups::RECHECK;
        assert_eq!(
            wakeups.count_pending(org, 1, gone - Wakeups::NOTIFY_GAP),
            None
        );
        assert_eq!(wakeups.count_pending(org, 1, gone), Some(Duration::ZERO));
        assert_eq!(wakeups.take_pending(org), Some(3));
    }

    #[test]
    fn a_payload_names_the_organization_the_tasks_and_the_sender() {
        let wakeups = Wakeups::default();
        let org = Uuid::now_v7();
        let expected = Announcement {
            org,
            tasks: 7,
            sender: Some(wakeups.id),
        };
        assert_eq!(
            Announcement::parse(&wakeups.payload(org, 7)),
            Some(expected)
        );
        let alone = Announcement {
            org,
            tasks: 1,
            sender: None,
        };
        assert_eq!(
            Announcement::parse(&org.to_string()),
            Some(alone),
            "an id alone is one task"
        );
        assert_eq!(Announcement::parse("not an id"), None);
        assert_eq!(Announcement::parse(&format!("{org} many")), None);
        assert_eq!(
            Announcement::parse(&format!("{} and more", wakeups.payload(org, 1))),
            None
        );
    }
}
