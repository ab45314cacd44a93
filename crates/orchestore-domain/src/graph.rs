//! Cycles in directed graphs (task dependencies, workflow steps), found without recursion so
//! that a long chain cannot overflow the stack.
//!
//! Keys are any `Ord + Clone` values (ids, step names); the walk visits nodes and their
//! successors in key order, so the cycle reported for a given graph is always the same.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Display;

use crate::DomainError;

/// The graph with its keys numbered `0..n` in key order, each node's successors sorted.
struct Indexed<K> {
    keys: Vec<K>,
    successors: Vec<Vec<usize>>,
}

impl<K: Ord + Clone> Indexed<K> {
    fn new(nodes: impl IntoIterator<Item = K>, edges: impl IntoIterator<Item = (K, K)>) -> Self {
        let edges: Vec<(K, K)> = edges.into_iter().collect();
        let mut index: BTreeMap<K, usize> = nodes.into_iter().map(|k| (k, 0)).collect();
        for (from, to) in &edges {
            index.entry(from.clone()).or_insert(0);
            index.entry(to.clone()).or_insert(0);
        }
        let mut keys = Vec::with_capacity(index.len());
        for (i, (key, slot)) in index.iter_mut().enumerate() {
            *slot = i;
            keys.push(key.clone());
        }
        let mut successors = vec![Vec::new(); keys.len()];
        for (from, to) in &edges {
            successors[index[from]].push(index[to]);
        }
        for next in &mut successors {
            next.sort_unstable();
            next.dedup();
        }
        Self { keys, successors }
    }

    fn path(&self, indices: impl IntoIterator<Item = usize>) -> Vec<K> {
        indices.into_iter().map(|i| self.keys[i].clone()).collect()
    }
}

/// A cycle among `edges` (each `(from, to)`), or `None` when the graph is acyclic. `nodes`
/// may add nodes no edge mentions. The cycle is returned as a path whose first node is
/// repeated at the end: `[a, b, a]` for `a → b → a`, `[a, a]` for a self-loop.
pub fn find_cycle<K: Ord + Clone>(
    nodes: impl IntoIterator<Item = K>,
    edges: impl IntoIterator<Item = (K, K)>,
) -> Option<Vec<K>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unseen,
        OnPath,
        Done,
    }

    let graph = Indexed::new(nodes, edges);
    let mut mark = vec![Mark::Unseen; graph.keys.len()];
    // The current depth-first path: each node with the position of its next successor.
    let mut path: Vec<(usize, usize)> = Vec::new();
    for start in 0..graph.keys.len() {
        if mark[start] != Mark::Unseen {
            continue;
        }
        mark[start] = Mark::OnPath;
        path.push((start, 0));
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            let Some(&successor) = graph.successors[node].get(*next) else {
                mark[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            match mark[successor] {
                Mark::Unseen => {
                    mark[successor] = Mark::OnPath;
                    path.push((successor, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|&(n, _)| n == successor)?;
                    let cycle = path[from..].iter().map(|&(n, _)| n);
                    return Some(graph.path(cycle.chain([successor])));
                }
                Mark::Done => {}
            }
        }
    }
    None
}

/// Whether adding the edge `from → to` to the acyclic `edges` would close a cycle: the
/// shortest such cycle, as `[from, to, …, from]` (`[from, from]` for a self-loop), or `None`
/// when the edge may be added.
pub fn would_close_cycle<K: Ord + Clone>(
    edges: impl IntoIterator<Item = (K, K)>,
    from: &K,
    to: &K,
) -> Option<Vec<K>> {
    if from == to {
        return Some(vec![from.clone(), to.clone()]);
    }
    let graph = Indexed::new([from.clone(), to.clone()], edges);
    let find = |key: &K| graph.keys.binary_search(key).ok();
    let (source, target) = (find(from)?, find(to)?);
    // Breadth first from `to`: the first time `from` is reached is by a shortest path.
    let mut parent: Vec<Option<usize>> = vec![None; graph.keys.len()];
    let mut queue = VecDeque::from([target]);
    parent[target] = Some(target);
    while let Some(node) = queue.pop_front() {
        for &successor in &graph.successors[node] {
            if parent[successor].is_some() {
                continue;
            }
            parent[successor] = Some(node);
            if successor == source {
                let mut back = vec![source];
                let mut at = source;
                while at != target {
                    at = parent[at]?;
                    back.push(at);
                }
                back.push(source);
                back.reverse();
                return Some(graph.path(back));
            }
            queue.push_back(successor);
        }
    }
    None
}

/// [`would_close_cycle`] as a check: a [`DomainError::Cycle`] on `field` when adding
/// `from → to` would close a cycle.
pub fn check_new_edge<K: Ord + Clone + Display>(
    field: &'static str,
    edges: impl IntoIterator<Item = (K, K)>,
    from: &K,
    to: &K,
) -> Result<(), DomainError> {
    match would_close_cycle(edges, from, to) {
        Some(cycle) => Err(DomainError::cycle(field, &cycle)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edges(list: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
        list.to_vec()
    }

    /// Each step of `path` is an edge, and the path comes back to its start.
    fn is_cycle_of<K: Ord + Clone>(path: &[K], edges: &[(K, K)]) -> bool {
        let edges: std::collections::BTreeSet<_> = edges.iter().cloned().collect();
        path.len() >= 2
            && path.first() == path.last()
            && path
                .windows(2)
                .all(|step| edges.contains(&(step[0].clone(), step[1].clone())))
    }

    #[test]
    fn acyclic_graphs_have_no_cycle() {
        assert_eq!(find_cycle::<u32>([], []), None);
        assert_eq!(find_cycle([1, 2, 3], []), None);
        let diamond = edges(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("a", "d")]);
        assert_eq!(find_cycle([], diamond), None);
    }

    #[test]
    fn cycles_are_found_with_their_path() {
        assert_eq!(find_cycle([], [("a", "a")]), Some(vec!["a", "a"]));
        assert_eq!(
            find_cycle([], [("a", "b"), ("b", "a")]),
            Some(vec!["a", "b", "a"])
        );
        let graph = edges(&[
            ("start", "x"),
            ("x", "y"),
            ("y", "z"),
            ("z", "x"),
            ("start", "end"),
        ]);
        let cycle = find_cycle([], graph.clone()).expect("a cycle");
        assert_eq!(cycle, vec!["x", "y", "z", "x"]);
        assert!(is_cycle_of(&cycle, &graph));
    }

    #[test]
    fn a_cycle_reached_only_from_a_later_node_is_found() {
        let graph = edges(&[("a", "b"), ("z", "y"), ("y", "x"), ("x", "y")]);
        let cycle = find_cycle(["c"], graph.clone()).expect("a cycle");
        assert!(is_cycle_of(&cycle, &graph), "{cycle:?}");
        assert_eq!(cycle, vec!["x", "y", "x"]);
    }

    #[test]
    fn closing_edges_are_told_apart() {
        let graph = edges(&[("a", "b"), ("b", "c"), ("c", "d"), ("b", "d")]);
        assert_eq!(
            would_close_cycle(graph.clone(), &"d", &"a"),
            Some(vec!["d", "a", "b", "d"]),
            "the shortest way back"
        );
        assert_eq!(
            would_close_cycle(graph.clone(), &"c", &"b"),
            Some(vec!["c", "b", "c"])
        );
        assert_eq!(would_close_cycle(graph.clone(), &"a", &"d"), None);
        assert_eq!(would_close_cycle(graph.clone(), &"a", &"new"), None);
        assert_eq!(would_close_cycle(graph.clone(), &"new", &"a"), None);
        assert_eq!(would_close_cycle(graph, &"a", &"a"), Some(vec!["a", "a"]));
    }

    #[test]
    fn a_closing_edge_is_a_domain_error() {
        let graph = edges(&[("a", "b")]);
        assert_eq!(
            check_new_edge("depends_on", graph.clone(), &"a", &"c"),
            Ok(())
        );
        let err = check_new_edge("depends_on", graph, &"b", &"a").unwrap_err();
        assert_eq!(err.field(), Some("depends_on"));
        assert_eq!(err.to_string(), "adding this edge makes a cycle: b → a → b");
    }

    #[test]
    fn a_chain_of_ten_thousand_nodes() {
        const N: u32 = 10_000;
        let chain: Vec<(u32, u32)> = (0..N - 1).map(|i| (i, i + 1)).collect();
        assert_eq!(find_cycle(0..N, chain.clone()), None);
        assert_eq!(would_close_cycle(chain.clone(), &0, &(N - 1)), None);

        let back = would_close_cycle(chain.clone(), &(N - 1), &0).expect("a cycle");
        assert_eq!(back.len(), N as usize + 1);
        assert_eq!(back.first(), Some(&(N - 1)));
        assert_eq!(
            back[1..N as usize],
            (0..N).collect::<Vec<_>>()[..N as usize - 1]
        );

        let mut closed = chain;
        closed.push((N - 1, 0));
        let cycle = find_cycle([], closed.clone()).expect("a cycle");
        assert_eq!(cycle.len(), N as usize + 1);
        assert!(is_cycle_of(&cycle, &closed));
    }
}
