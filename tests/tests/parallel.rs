//! Yielding collections: `Vec`, arrays, `HashMap`, `BTreeMap`, tuples, nesting; their order,
//! overlap, cancellation and cost, on futures' executor and on tokio.

use coroutine_runtime::*;
use coroutine_tests::{DropCounter, DropToken, Forever, InFlight, Rng, later, on_both, poll_once};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::future::{Future, ready};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

#[coroutine_runtime::coroutine]
fn reverse_finishers() -> Vec<u64> {
    // The first finishes last.
    yield_!(vec![later(120, 1), later(60, 2), later(0, 3)])
}

#[test]
fn yield_vec_keeps_input_order() {
    on_both(|| async { assert_eq!(reverse_finishers().await, [1, 2, 3]) });
}

#[coroutine_runtime::coroutine]
fn ten_waits(in_flight: &InFlight) -> Vec<usize> {
    // Lazy children: each starts its 100 ms wait when first polled, so a join that waited for
    // them one after another would never have two in flight.
    yield_!(
        (0..10)
            .map(|i| in_flight.track(async move { later(100, i).await }))
            .collect::<Vec<_>>()
    )
}

#[test]
fn ten_100ms_waits_in_a_vec_overlap() {
    on_both(|| async {
        let in_flight = InFlight::default();
        assert_eq!(ten_waits(&in_flight).await, (0..10).collect::<Vec<_>>());
        assert_eq!(
            in_flight.most(),
            10,
            "all ten waits were in flight together"
        );
    });
}

#[coroutine_runtime::coroutine]
fn fetch_by_url(urls: Vec<&'static str>) -> HashMap<&'static str, usize> {
    // The seed's `yield {url: fetch(url) for url in urls}`.
    let children: HashMap<_, _> = urls
        .into_iter()
        .map(|url| (url, later(url.len() as u64 * 10, url.len())))
        .collect();
    yield_!(children)
}

#[test]
fn yield_hash_map_keeps_its_keys() {
    on_both(|| async {
        let lengths = fetch_by_url(vec!["a", "bbb", "cc", "dddd"]).await;
        let expected = HashMap::from([("a", 1), ("bbb", 3), ("cc", 2), ("dddd", 4)]);
        assert_eq!(lengths, expected);
    });
}

#[coroutine_runtime::coroutine]
fn btree_lengths() -> BTreeMap<u32, String> {
    let children = BTreeMap::from([
        (3, later(10, "three".to_string())),
        (1, later(30, "one".to_string())),
        (2, later(20, "two".to_string())),
    ]);
    yield_!(children)
}

#[test]
fn yield_btree_map_keeps_its_keys() {
    on_both(|| async {
        let map = btree_lengths().await;
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            [(1, "one".into()), (2, "two".into()), (3, "three".into())]
        );
    });
}

#[derive(Debug, PartialEq)]
struct Post(u32);

#[coroutine_runtime::coroutine]
fn find_post(id: u32) -> Option<Post> {
    yield_!(later(20, ()));
    Some(Post(id))
}

#[coroutine_runtime::coroutine]
fn neighbours(id: u32) -> (Option<Post>, String, u8) {
    // The seed's `prev_post, next_post = yield [future_0, future_1]`, with three types.
    let (prev_post, next_title, flag) = yield_!((
        find_post(id - 1),
        later(10, format!("post {}", id + 1)),
        ready(7_u8)
    ));
    (prev_post, next_title, flag)
}

#[test]
fn yield_tuple_gives_heterogeneous_outputs() {
    on_both(|| async {
        assert_eq!(
            neighbours(5).await,
            (Some(Post(4)), "post 6".to_string(), 7)
        );
    });
}

#[coroutine_runtime::coroutine]
fn twelve() -> String {
    let (a, b, c, d, e, f, g, h, i, j, k, l) = yield_!((
        ready(1_u8),
        ready(2_u16),
        ready(3_u32),
        later(10, 4_u64),
        ready(5_usize),
        ready(-6_i8),
        ready(7_i16),
        ready(8_i32),
        later(5, 9_i64),
        ready("ten"),
        moment,
        ready('c'),
    ));
    format!("{a} {b} {c} {d} {e} {f} {g} {h} {i} {j} {k:?} {l}")
}

#[test]
fn yield_tuple_of_twelve() {
    on_both(|| async { assert_eq!(twelve().await, "1 2 3 4 5 -6 7 8 9 ten () c") });
}

#[coroutine_runtime::coroutine]
fn array_of_waits() -> [u32; 3] {
    yield_!([later(30, 1), later(0, 2), later(15, 3)])
}

#[test]
fn yield_array_gives_an_array() {
    on_both(|| async { assert_eq!(array_of_waits().await, [1, 2, 3]) });
}

/// A grid and a map of pairs.
type Nested = (Vec<Vec<u32>>, HashMap<&'static str, (u32, String)>);

#[coroutine_runtime::coroutine]
fn nested() -> Nested {
    let grid = yield_!(vec![
        vec![later(20, 1), later(0, 2)],
        vec![],
        vec![later(10, 3)],
    ]);
    let pairs = yield_!(HashMap::from([
        ("x", (later(10, 1), later(0, "one".to_string()))),
        ("y", (later(0, 2), later(10, "two".to_string()))),
    ]));
    (grid, pairs)
}

#[test]
fn nested_collections_work() {
    on_both(|| async {
        let (grid, pairs) = nested().await;
        assert_eq!(grid, [vec![1, 2], vec![], vec![3]]);
        assert_eq!(pairs["x"], (1, "one".to_string()));
        assert_eq!(pairs["y"], (2, "two".to_string()));
    });
}

#[coroutine_runtime::coroutine]
fn empties() -> (Vec<u32>, HashMap<u8, u32>, [u32; 0]) {
    let v = yield_!(Vec::<std::future::Ready<u32>>::new());
    let m = yield_!(HashMap::<u8, std::future::Ready<u32>>::new());
    let a = yield_!([] as [std::future::Ready<u32>; 0]);
    (v, m, a)
}

#[test]
fn empty_collections_resolve_at_once() {
    let mut running = empties();
    // Nothing to wait on: the coroutine finished during the call.
    assert_eq!(
        poll_once(&mut running),
        Poll::Ready((Vec::new(), HashMap::new(), []))
    );
}

/// Tornado's `test_moment`: `name` is appended five times, each followed by a yield of
/// `moment` or of a completed future.
#[coroutine_runtime::coroutine]
fn append_five(calls: &RefCell<String>, name: char, use_moment: bool) {
    for _ in 0..5 {
        calls.borrow_mut().push(name);
        if use_moment {
            yield_!(moment);
        } else {
            yield_!(ready(()));
        }
    }
}

#[coroutine_runtime::coroutine]
fn two_appenders(calls: &RefCell<String>, a_moment: bool, b_moment: bool) {
    yield_!(vec![
        append_five(calls, 'a', a_moment),
        append_five(calls, 'b', b_moment)
    ]);
}

#[test]
fn moment_lets_coroutines_in_a_vec_take_turns() {
    on_both(|| async {
        let calls = RefCell::new(String::new());
        two_appenders(&calls, false, false).await;
        assert_eq!(calls.take(), "aaaaabbbbb");
        two_appenders(&calls, true, true).await;
        assert_eq!(calls.take(), "ababababab");
        two_appenders(&calls, true, false).await;
        assert_eq!(calls.take(), "abbbbbaaaa");
    });
}

/// A yieldable user type: a row id that stands for a fetch.
struct UserId(u64);

impl IntoYielded for UserId {
    type Output = String;
    type Future = Pin<Box<dyn Future<Output = String> + Send>>;

    fn into_yielded(self) -> Self::Future {
        let id = self.0;
        Box::pin(async move { format!("user {}", later(30 - id * 10, id).await) })
    }
}

#[coroutine_runtime::coroutine]
fn users() -> Vec<String> {
    yield_!(vec![UserId(0), UserId(1), UserId(2)])
}

#[test]
fn user_types_are_yieldable_inside_a_vec() {
    on_both(|| async { assert_eq!(users().await, ["user 0", "user 1", "user 2"]) });
}

/// Holds a token, finishes after `millis`.
async fn finish_with(token: DropToken, millis: u64) {
    later(millis, ()).await;
    drop(token);
}

#[test]
fn dropping_a_yielded_vec_drops_every_child() {
    let counter = DropCounter::new();
    let mut waiting = multi(vec![
        Forever(counter.token()),
        Forever(counter.token()),
        Forever(counter.token()),
    ]);
    assert_eq!(poll_once(&mut waiting), Poll::Pending);
    assert_eq!(poll_once(&mut waiting), Poll::Pending);
    assert_eq!(counter.dropped(), 0);
    drop(waiting);
    assert_eq!(counter.dropped(), 3);
}

#[test]
fn a_finished_child_is_dropped_before_the_others_finish() {
    /// Ready at once, and counts its drop.
    struct ReadyHolding(#[allow(dead_code)] DropToken);
    impl Future for ReadyHolding {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }
    let counter = DropCounter::new();
    let forever = Forever(counter.token());
    let mut waiting = multi(vec![
        futures::future::Either::Left(ReadyHolding(counter.token())),
        futures::future::Either::Right(forever),
    ]);
    assert_eq!(poll_once(&mut waiting), Poll::Pending);
    assert_eq!(
        counter.dropped(),
        1,
        "the ready child was dropped when it finished"
    );
}

#[test]
fn a_yielded_vec_can_be_spawned_on_tokio() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let counter = DropCounter::new();
    let children: Vec<_> = (0..4_u64)
        .map(|i| {
            let token = counter.token();
            async move {
                finish_with(token, 40 - i * 10).await;
                i
            }
        })
        .collect();
    let results = runtime
        .block_on(coroutine_tests::deadline(
            coroutine_tests::LIMIT,
            "the future on tokio",
            async { tokio::spawn(multi(children)).await },
        ))
        .expect("the task finished");
    assert_eq!(results, [0, 1, 2, 3]);
    assert_eq!(counter.dropped(), 4);
}

/// Pending until its flag is set; counts its polls.
struct Gate {
    /// Set to open the gate.
    open: Arc<std::sync::atomic::AtomicBool>,
    /// How many times it was polled.
    polls: Arc<AtomicUsize>,
    /// The waker of the last poll.
    waker: Arc<std::sync::Mutex<Option<Waker>>>,
}

impl Future for Gate {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.open.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_wake_up_polls_only_the_woken_children() {
    let gates: Vec<_> = (0..100)
        .map(|_| Gate {
            open: Arc::default(),
            polls: Arc::default(),
            waker: Arc::default(),
        })
        .collect();
    let handles: Vec<_> = gates
        .iter()
        .map(|g| (g.open.clone(), g.polls.clone(), g.waker.clone()))
        .collect();
    let polls = |i: usize| handles[i].1.load(Ordering::SeqCst);
    let total_polls = || (0..100).map(polls).sum::<usize>();
    let mut waiting = multi(gates);
    // The first pass polls each child once, the second gives each its own waker.
    assert_eq!(poll_once(&mut waiting), Poll::Pending);
    assert_eq!(poll_once(&mut waiting), Poll::Pending);
    assert_eq!(total_polls(), 200);
    // Open gates 70 and 5 (woken in that order): only they are polled, in input order.
    for i in [70, 5] {
        handles[i].0.store(true, Ordering::SeqCst);
        handles[i].2.lock().unwrap().take().unwrap().wake();
    }
    assert_eq!(poll_once(&mut waiting), Poll::Pending);
    assert_eq!(total_polls(), 202);
    assert_eq!((polls(5), polls(70)), (3, 3));
    // A poll with nothing woken polls nothing.
    assert_eq!(poll_once(&mut waiting), Poll::Pending);
    assert_eq!(total_polls(), 202);
    for (open, _, waker) in &handles {
        open.store(true, Ordering::SeqCst);
        if let Some(waker) = waker.lock().unwrap().take() {
            waker.wake();
        }
    }
    assert!(poll_once(&mut waiting).is_ready());
    assert_eq!(total_polls(), 300);
}

#[test]
fn ten_thousand_children_woken_from_another_thread_in_random_order() {
    let n = 10_000;
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..n)
        .map(|_| futures::channel::oneshot::channel::<usize>())
        .unzip();
    let mut senders: Vec<_> = senders.into_iter().map(Some).collect();
    let waker_thread = std::thread::spawn(move || {
        for (k, i) in Rng::new(0).shuffled(n).into_iter().enumerate() {
            senders[i].take().unwrap().send(i * 2).unwrap();
            if k % 1000 == 0 {
                std::thread::yield_now();
            }
        }
    });
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let results = runtime.block_on(coroutine_tests::deadline(
        coroutine_tests::LIMIT,
        "the future on tokio",
        multi(receivers),
    ));
    waker_thread.join().unwrap();
    let results: Vec<usize> = results.into_iter().map(Result::unwrap).collect();
    assert_eq!(results, (0..n).map(|i| i * 2).collect::<Vec<_>>());
}

/// Yields `children` (ready or pending at first) and gives the outputs.
#[coroutine_runtime::coroutine]
fn yield_vec_of<F: Future<Output = u64> + 'static>(children: Vec<F>) -> Vec<u64> {
    yield_!(children)
}

#[test]
fn a_yielded_vec_gives_a_vec_with_no_spare_capacity() {
    for n in [1, 7, 100, 1000] {
        let values = futures::executor::block_on(yield_vec_of((0..n).map(ready).collect()));
        assert_eq!(values, (0..n).collect::<Vec<_>>());
        assert_eq!(values.capacity(), values.len(), "{n} ready children");
        let pending = (0..n).map(|i| later(1, i)).collect();
        let values = futures::executor::block_on(yield_vec_of(pending));
        assert_eq!(values.len(), usize::try_from(n).unwrap());
        assert_eq!(values.capacity(), values.len(), "{n} pending children");
        let fallible = try_multi((0..n).map(|i| ready(Ok::<_, ()>(i))).collect::<Vec<_>>());
        let values = futures::executor::block_on(fallible).unwrap();
        assert_eq!(values.capacity(), values.len(), "{n} children of try_multi");
    }
}

#[test]
fn a_yielded_hash_map_gives_a_map_sized_for_its_keys() {
    let n = 1000;
    let children: HashMap<u64, _> = (0..n).map(|i| (i, later(1, i * 2))).collect();
    let map = futures::executor::block_on(multi(children));
    assert_eq!(map.len(), 1000);
    assert_eq!(map[&999], 1998);
    // A map made for 1,000 keys has room for fewer than 2,000.
    assert!(
        map.capacity() >= 1000 && map.capacity() < 2000,
        "{}",
        map.capacity()
    );
}

/// The handles of a [`Gate`]: its flag, its poll count and its last waker.
type GateHandle = (
    Arc<std::sync::atomic::AtomicBool>,
    Arc<AtomicUsize>,
    Arc<std::sync::Mutex<Option<Waker>>>,
);

/// `n` closed gates and their handles.
fn closed_gates(n: usize) -> (Vec<Gate>, Vec<GateHandle>) {
    (0..n)
        .map(|_| {
            let gate = Gate {
                open: Arc::default(),
                polls: Arc::default(),
                waker: Arc::default(),
            };
            let handle = (gate.open.clone(), gate.polls.clone(), gate.waker.clone());
            (gate, handle)
        })
        .unzip()
}

/// The polls of every gate, added up.
fn total_polls(handles: &[GateHandle]) -> usize {
    handles.iter().map(|h| h.1.load(Ordering::SeqCst)).sum()
}

#[test]
fn joins_one_after_another_on_a_thread_reuse_the_wakers_and_poll_only_woken_children() {
    std::thread::spawn(|| {
        for round in 0..3 {
            let (gates, handles) = closed_gates(300);
            let mut waiting = multi(gates);
            assert_eq!(poll_once(&mut waiting), Poll::Pending);
            assert_eq!(total_polls(&handles), 300);
            assert_eq!(poll_once(&mut waiting), Poll::Pending);
            // The thread's first join gives the children their wakers in a second pass; the
            // next ones reuse them, and give them at once.
            let expected = if round == 0 { 600 } else { 300 };
            assert_eq!(total_polls(&handles), expected, "round {round}");
            for (k, i) in Rng::new(0).shuffled(300).into_iter().enumerate() {
                handles[i].0.store(true, Ordering::SeqCst);
                handles[i].2.lock().unwrap().take().unwrap().wake();
                let poll = poll_once(&mut waiting);
                assert_eq!(poll.is_ready(), k == 299);
                assert_eq!(total_polls(&handles), expected + k + 1, "round {round}");
            }
        }
    })
    .join()
    .unwrap();
}

#[test]
fn a_waker_kept_after_its_join_has_finished_does_not_reach_the_next_join() {
    std::thread::spawn(|| {
        let (gates, old) = closed_gates(100);
        let mut waiting = multi(gates);
        assert_eq!(poll_once(&mut waiting), Poll::Pending);
        assert_eq!(poll_once(&mut waiting), Poll::Pending);
        // Opened and woken, but every waker stays where the gate put it.
        for handle in &old {
            handle.0.store(true, Ordering::SeqCst);
            handle.2.lock().unwrap().as_ref().unwrap().wake_by_ref();
        }
        assert!(poll_once(&mut waiting).is_ready());
        drop(waiting);
        let (gates, handles) = closed_gates(100);
        let mut waiting = multi(gates);
        assert_eq!(poll_once(&mut waiting), Poll::Pending);
        assert_eq!(poll_once(&mut waiting), Poll::Pending);
        // The old wakers were still held: the new join made its own, in a second pass.
        assert_eq!(total_polls(&handles), 200);
        for handle in &old {
            handle.2.lock().unwrap().take().unwrap().wake();
        }
        assert_eq!(poll_once(&mut waiting), Poll::Pending);
        assert_eq!(total_polls(&handles), 200);
    })
    .join()
    .unwrap();
}
