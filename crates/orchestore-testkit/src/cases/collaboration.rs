//! Collaboration: points and levels, rated matches, leaderboards, rewards and penalties;
//! brainstorms and mentorships; proposals and votes; achievements and snapshots.

mod achievements;
mod boards;
mod brainstorms;
mod matches;
mod mentorships;
mod points;
mod proposals;
mod ranks;
mod reputation;
mod sanctions;

pub use achievements::*;
pub use boards::*;
pub use brainstorms::*;
pub use matches::*;
pub use mentorships::*;
pub use points::*;
pub use proposals::*;
pub use ranks::*;
pub use reputation::*;
pub use sanctions::*;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use orchestore_domain::{
    Agent, AgentKind, Name, NewAgent, NewPointAward, Participant, PointAmount, PointReason,
    PointSource,
};
use orchestore_repo::{Ctx, Store};

async fn agent<S: Store + ?Sized>(store: &S, ctx: &Ctx, name: &str) -> Agent {
    store
        .create_agent(
            ctx,
            NewAgent::named(Name::parse("name", name).expect("name"), AgentKind::Ai),
        )
        .await
        .expect("create agent")
}

fn award(holder: impl Into<Participant>, points: i64) -> NewPointAward {
    NewPointAward {
        holder: holder.into(),
        points: PointAmount::parse(points).expect("points"),
        reason: PointReason::parse("reviewed a pull request").expect("reason"),
        source: PointSource::parse("review").expect("source"),
    }
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs the futures at once (on one task: their database calls are in flight together) and
/// returns their outputs in order.
async fn all_at_once<T>(futures: Vec<Boxed<'_, T>>) -> Vec<T> {
    let mut running: Vec<Option<Boxed<'_, T>>> = futures.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<T>> = running.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, output) in running.iter_mut().zip(outputs.iter_mut()) {
            if let Some(future) = slot {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => {
                        *output = Some(value);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
