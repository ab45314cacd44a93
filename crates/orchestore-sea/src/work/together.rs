//! Work that arrives together, done together: while a statement is doing some calls' work, the
//! calls that arrive wait and go in the next one, so that under load each statement, its commit
//! and its round trip serve many calls (the write buffer of Hatchet, without its wait: a call
//! that finds no statement running is served at once).
//!
//! Each kind of work ([`Joined`]) has its own queue in the store. At most `WRITERS` statements
//! of a kind run at a time, each taking the calls waiting, in order, up to `MOST` of work. They run on tasks of their
//! own, so that a caller that goes away (a client that hangs up) cannot cut short a statement
//! that carries other callers' work. Every caller is answered after its statement ends, with
//! its own outcome.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

use orchestore_repo::{RepoError, RepoResult};
use sea_orm::{DbErr, QueryResult, Value};
use tokio::sync::oneshot;

use super::claim_together::PlainClaim;
use super::complete::OneStatementCompletions;
use super::create_one::PlainCreate;
use crate::SeaStore;
use crate::direct::Planned;
use crate::error::{db_err, sqlx_acquire_err};
use crate::lean_pool::Lent;
use crate::pool::OwnConnections;

/// A kind of work done together.
pub(crate) trait Joined: Send + Sized + 'static {
    /// What one call gets back.
    type Answer: Send + 'static;
    /// Statements of this kind at once: a few, so that the rest of the store still finds
    /// pooled connections, and enough that one slow commit does not hold all.
    const WRITERS: usize;
    /// How much work one statement takes at most, by [`Joined::weight`]: a call heavier than
    /// this goes alone.
    const MOST: usize;
    /// What the work is, for the error of a call left without an answer.
    const WHAT: &'static str;

    /// How much work this call is (a claim: the tasks it may take); one by default.
    fn weight(&self) -> usize {
        1
    }

    /// The queue of this kind in `store`.
    fn queue(store: &SeaStore) -> &Together<Self>;

    /// Does the work of `batch`, answering every call of it.
    fn run(store: &SeaStore, batch: Vec<Waiting<Self>>) -> impl Future<Output = ()> + Send;
}

/// A call waiting for its statement, and where its answer goes.
pub(crate) struct Waiting<J: Joined> {
    pub(crate) job: J,
    pub(crate) answer: oneshot::Sender<RepoResult<J::Answer>>,
}

impl<J: Joined> Waiting<J> {
    /// Answers the call; a caller that went away is not waiting for it.
    pub(crate) fn answer(self, outcome: RepoResult<J::Answer>) {
        let _ = self.answer.send(outcome);
    }
}

/// Why a statement shared by several calls failed, told to each of them.
pub(crate) enum Failed {
    /// The database's answer (a constraint, a lost connection, an outage).
    Database(DbErr),
    /// Before the statement was sent (a value it could not bind).
    Before(String),
}

impl Failed {
    /// The error one call is answered with.
    pub(crate) fn error(&self) -> RepoError {
        match self {
            Self::Database(err) => db_err(err.clone()),
            Self::Before(reason) => RepoError::internal(reason.clone()),
        }
    }

    /// Answers every call of `batch` with this failure.
    pub(crate) fn answer_all<J: Joined>(&self, batch: Vec<Waiting<J>>) {
        for waiting in batch {
            waiting.answer(Err(self.error()));
        }
    }
}

struct Queue<J: Joined> {
    waiting: Vec<Waiting<J>>,
    /// Tasks running statements of this kind now.
    writers: usize,
}

/// The calls of one kind waiting for a statement.
pub(crate) struct Together<J: Joined> {
    queue: Mutex<Queue<J>>,
}

impl<J: Joined> Default for Together<J> {
    fn default() -> Self {
        Self {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                writers: 0,
            }),
        }
    }
}

impl<J: Joined> std::fmt::Debug for Together<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let queue = self.lock();
        f.debug_struct("Together")
            .field("work", &J::WHAT)
            .field("waiting", &queue.waiting.len())
            .field("writers", &queue.writers)
            .finish()
    }
}

impl<J: Joined> Together<J> {
    fn lock(&self) -> MutexGuard<'_, Queue<J>> {
        // A poisoned lock only means a panic elsewhere: the queue itself stays whole.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The queues of every kind of work done together, shared by a store and its clones, with
/// the store's own PostgreSQL connections their statements run on (and single reads).
#[derive(Debug)]
pub(crate) struct Joins {
    pub(crate) plain_creates: Together<PlainCreate>,
    pub(crate) completions: Together<OneStatementCompletions>,
    pub(crate) claims: Together<PlainClaim>,
    /// On PostgreSQL, the connections the store pools itself.
    pub(crate) own: Option<OwnConnections>,
}

impl Joins {
    /// Empty queues over the same connections: for a store that reads another clock, whose
    /// statements must not carry the calls of stores reading this one's.
    pub(crate) fn apart(&self) -> Self {
        Self::new(self.own.clone())
    }

    /// Empty queues over `own`.
    pub(crate) fn new(own: Option<OwnConnections>) -> Self {
        Self {
            plain_creates: Together::default(),
            completions: Together::default(),
            claims: Together::default(),
            own,
        }
    }
}

/// A writer's place among the `WRITERS`, given back when its task ends however it ends (a
/// panic included), so that the places never run out.
struct WriterPlace<J: Joined> {
    store: Option<SeaStore>,
    work: PhantomData<J>,
}

impl<J: Joined> WriterPlace<J> {
    /// Gives the place back under the lock of `queue`, held by the caller.
    fn give_back(mut self, queue: &mut Queue<J>) {
        queue.writers = queue.writers.saturating_sub(1);
        self.store = None;
    }
}

impl<J: Joined> Drop for WriterPlace<J> {
    fn drop(&mut self) {
        if let Some(store) = self.store.take() {
            let abandoned = {
                let mut queue = J::queue(&store).lock();
                queue.writers = queue.writers.saturating_sub(1);
                // The last writer ended early (a panic, its runtime shut down): what still
                // waits is answered with an error rather than left waiting for a writer.
                if queue.writers == 0 {
                    std::mem::take(&mut queue.waiting)
                } else {
                    Vec::new()
                }
            };
            drop(abandoned);
        }
    }
}

impl SeaStore {
    /// Does `job` with whatever other work of its kind is waiting, and answers once its
    /// statement has ended.
    pub(super) async fn together<J: Joined>(&self, job: J) -> RepoResult<J::Answer> {
        let (answer, answered) = oneshot::channel();
        let together = J::queue(self);
        let start_writer = {
            let mut queue = together.lock();
            queue.waiting.push(Waiting { job, answer });
            let start = queue.writers < J::WRITERS;
            if start {
                queue.writers += 1;
            }
            start
        };
        if start_writer {
            let place = WriterPlace::<J> {
                store: Some(self.clone()),
                work: PhantomData,
            };
            let store = self.clone();
            tokio::spawn(async move { store.run_waiting(place).await });
        }
        answered.await.map_err(|_| {
            RepoError::internal(format!(
                "the statement doing a {} ended without an answer",
                J::WHAT
            ))
        })?
    }

    /// A connection for a statement shared by several calls, of the pool kept for them.
    pub(crate) async fn shared_connection(&self) -> Result<Lent, Failed> {
        let own =
            self.joins.own.as_ref().ok_or_else(|| {
                Failed::Before("work is done together on PostgreSQL only".to_owned())
            })?;
        own.together
            .acquire()
            .await
            .map_err(|err| Failed::Database(sqlx_acquire_err(err)))
    }

    /// Runs `sql`, a statement shared by several calls, on `conn` (prepared once and kept).
    pub(crate) async fn fetch_all_shared(
        &self,
        conn: &mut Lent,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Vec<QueryResult>, Failed> {
        let mut failure = None;
        let fetched = self
            .fetch_all_direct_or(conn, sql, values, Planned::Cached, |err| {
                let mapped = db_err(err.clone());
                failure = Some(err);
                mapped
            })
            .await;
        fetched.map_err(|err| match failure {
            Some(failure) => Failed::Database(failure),
            None => Failed::Before(err.to_string()),
        })
    }

    /// Runs waiting work, a statement at a time, until none waits.
    async fn run_waiting<J: Joined>(self, place: WriterPlace<J>) {
        loop {
            let batch: Vec<Waiting<J>> = {
                let mut queue = J::queue(&self).lock();
                if queue.waiting.is_empty() {
                    // Given back under the lock that found the queue empty: work queued after
                    // this finds a place free and starts a writer.
                    place.give_back(&mut queue);
                    return;
                }
                let mut weight = 0;
                let take = queue
                    .waiting
                    .iter()
                    .take_while(|waiting| {
                        weight += waiting.job.weight();
                        weight <= J::MOST
                    })
                    .count()
                    .max(1);
                queue.waiting.drain(..take).collect()
            };
            // A call whose caller went away before its statement began is not done (a claim
            // nobody waits for would hold its tasks until their leases ran out).
            let batch: Vec<Waiting<J>> = batch
                .into_iter()
                .filter(|waiting| !waiting.answer.is_closed())
                .collect();
            if batch.is_empty() {
                continue;
            }
            J::run(&self, batch).await;
        }
    }
}
