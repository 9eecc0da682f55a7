//! Every collection yield waits on its children together, shown with lazy children that depend
//! on each other: the first waits on what a later one sends when it is first polled.
//!
//! A join that stopped at its first pending child would never poll the child that sends, so it
//! would wait forever; the deadline of `on_both` turns that into a failure naming the test.

use coroutine_runtime::*;
use coroutine_tests::on_both;
use futures::FutureExt;
use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use std::collections::{BTreeMap, HashMap};

#[coroutine_runtime::coroutine(lazy)]
fn receive(receiver: oneshot::Receiver<u32>) -> u32 {
    yield_!(receiver).expect("the sending child sent") + 1
}

#[coroutine_runtime::coroutine(lazy)]
fn send(sender: oneshot::Sender<u32>) -> &'static str {
    sender.send(41).expect("the receiving child still waits");
    "sent"
}

#[coroutine_runtime::coroutine]
fn tuple_handshake() -> (u32, &'static str) {
    let (sender, receiver) = oneshot::channel();
    yield_!((receive(receiver), send(sender)))
}

#[test]
fn a_tuple_polls_the_element_after_a_pending_one() {
    on_both(|| async { assert_eq!(tuple_handshake().await, (42, "sent")) });
}

#[coroutine_runtime::coroutine]
fn long_tuple_handshake() -> (u32, u8, u32, &'static str, &'static str) {
    // The sender of the first element comes last, the second receiver's in the middle.
    let (first_sender, first_receiver) = oneshot::channel();
    let (second_sender, second_receiver) = oneshot::channel();
    yield_!((
        receive(first_receiver),
        async { 7 },
        receive(second_receiver),
        send(second_sender),
        send(first_sender),
    ))
}

#[test]
fn a_tuple_of_five_polls_every_element_on_its_first_poll() {
    on_both(|| async {
        assert_eq!(long_tuple_handshake().await, (42, 7, 42, "sent", "sent"));
    });
}

/// A lazy chain of `n` children: child `i` waits on child `i + 1`, then hands child `i - 1` its
/// value plus one; the last child starts the chain when first polled. The children finish from
/// the last to the first, each on a later pass than the one after it.
fn chain(n: usize) -> Vec<LocalBoxFuture<'static, u32>> {
    let mut senders: Vec<Option<oneshot::Sender<u32>>> = Vec::new();
    let mut receivers = Vec::new();
    for _ in 1..n {
        let (sender, receiver) = oneshot::channel();
        senders.push(Some(sender));
        receivers.push(Some(receiver));
    }
    (0..n)
        .map(|i| {
            let from_next = receivers.get_mut(i).and_then(Option::take);
            let to_previous = i.checked_sub(1).and_then(|p| senders[p].take());
            async move {
                let value = match from_next {
                    Some(receiver) => receiver.await.expect("the next child sent") + 1,
                    None => 0,
                };
                if let Some(sender) = to_previous {
                    sender.send(value).expect("the previous child still waits");
                }
                value
            }
            .boxed_local()
        })
        .collect()
}

#[test]
fn a_vec_polls_every_lazy_child_and_the_ones_woken_later() {
    on_both(|| async {
        let values = yield_vec(chain(10)).await;
        assert_eq!(values, (0..10).rev().collect::<Vec<u32>>());
    });
}

#[coroutine_runtime::coroutine]
fn yield_vec(children: Vec<LocalBoxFuture<'static, u32>>) -> Vec<u32> {
    yield_!(children)
}

#[coroutine_runtime::coroutine]
fn array_handshake() -> [u32; 3] {
    let children: [LocalBoxFuture<'static, u32>; 3] = chain(3)
        .try_into()
        .unwrap_or_else(|_| unreachable!("three children"));
    yield_!(children)
}

#[test]
fn an_array_polls_every_lazy_child() {
    on_both(|| async { assert_eq!(array_handshake().await, [2, 1, 0]) });
}

#[coroutine_runtime::coroutine]
fn hash_map_handshake(n: usize) -> HashMap<usize, u32> {
    // Whatever order the map iterates in, some child waits on one that comes after it.
    let children: HashMap<usize, _> = chain(n).into_iter().enumerate().collect();
    yield_!(children)
}

#[test]
fn a_hash_map_polls_every_lazy_child() {
    on_both(|| async {
        let values = hash_map_handshake(8).await;
        let expected: HashMap<usize, u32> = (0..8_u32).map(|i| (i as usize, 7 - i)).collect();
        assert_eq!(values, expected);
    });
}

#[coroutine_runtime::coroutine]
fn btree_map_handshake() -> BTreeMap<&'static str, u32> {
    let mut children = chain(3).into_iter();
    let mut next = || children.next().expect("three children");
    yield_!(BTreeMap::from([
        ("a", next()),
        ("b", next()),
        ("c", next())
    ]))
}

#[test]
fn a_btree_map_polls_every_lazy_child() {
    on_both(|| async {
        let values = btree_map_handshake().await;
        assert_eq!(values, BTreeMap::from([("a", 2), ("b", 1), ("c", 0)]));
    });
}

#[test]
fn multi_and_try_multi_poll_every_lazy_child() {
    on_both(|| async {
        assert_eq!(multi(chain(4)).await, [3, 2, 1, 0]);
        let fallible: Vec<_> = chain(4)
            .into_iter()
            .map(|child| child.map(Ok::<u32, ()>))
            .collect();
        assert_eq!(try_multi(fallible).await, Ok(vec![3, 2, 1, 0]));
    });
}
