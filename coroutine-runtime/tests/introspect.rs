//! Tests of `introspect`: the live tree of suspended coroutines.
use std::future::Future;

use coroutine_runtime::introspect::{self, Node, Snapshot};
use coroutine_runtime::*;
use std::time::Duration;

/// The node whose name ends with `::suffix`.
fn find<'a>(tree: &'a Snapshot, suffix: &str) -> &'a Node {
    tree.find(|n| n.name().ends_with(&format!("::{suffix}")))
        .unwrap_or_else(|| panic!("no `{suffix}` in\n{tree}"))
}

mod chain {
    use super::*;

    pub(crate) static LINES: std::sync::Mutex<[u32; 3]> = std::sync::Mutex::new([0; 3]);

    #[coroutine_runtime::coroutine]
    pub(crate) fn a() -> u32 {
        LINES.lock().unwrap()[0] = line!() + 1;
        yield_!(b()) + 1
    }

    #[coroutine_runtime::coroutine]
    fn b() -> u32 {
        LINES.lock().unwrap()[1] = line!() + 1;
        yield_!(c()) + 1
    }

    #[coroutine_runtime::coroutine]
    fn c() -> u32 {
        LINES.lock().unwrap()[2] = line!() + 1;
        yield_!(futures::future::pending::<u32>())
    }
}

#[test]
fn chain_a_b_c_at_their_lines() {
    let running = chain::a();
    // Polled by an executor, so that `a` polls `b` polls `c`; each level's first poll is a trip
    // through the executor (fairness), so one poll more per level.
    let mut running = Box::pin(running);
    for _ in 0..3 {
        let _ = poll_once(&mut running);
    }
    let tree = introspect::snapshot();
    let lines = *chain::LINES.lock().unwrap();
    let a = find(&tree, "a");
    assert_eq!(a.name(), "introspect::chain::a", "{tree}");
    assert_eq!(a.location(), (file!(), lines[0], 9), "{tree}");
    assert!(!a.is_running());
    assert_eq!(a.children().len(), 1, "{tree}");
    let b = &a.children()[0];
    assert_eq!(b.name(), "introspect::chain::b");
    assert_eq!(b.location(), (file!(), lines[1], 9));
    let c = &b.children()[0];
    assert_eq!(c.name(), "introspect::chain::c");
    assert_eq!(c.location(), (file!(), lines[2], 9));
    assert!(c.children().is_empty());
    println!("{tree}");
    drop(running);
    assert!(
        introspect::snapshot()
            .find(|n| n.name().starts_with("introspect::chain"))
            .is_none()
    );
}

/// Polls `future` on this thread with a waker that does nothing, twice: a coroutine's first
/// poll after its call is only a trip through the executor (fairness), the second resumes it.
fn poll_once<F: Future + Unpin>(future: &mut F) -> std::task::Poll<F::Output> {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    match std::pin::Pin::new(&mut *future).poll(&mut cx) {
        std::task::Poll::Pending => std::pin::Pin::new(future).poll(&mut cx),
        ready @ std::task::Poll::Ready(_) => ready,
    }
}

/// The names of `node`'s children, without the test crate's prefix.
fn child_names(node: &Node) -> Vec<&str> {
    node.children()
        .iter()
        .map(|c| c.name().rsplit("::").next().unwrap())
        .collect()
}

mod never {
    use super::*;

    /// Suspends forever (until dropped); tag 0 returns at once.
    #[coroutine_runtime::coroutine]
    pub(crate) fn stuck(tag: u32) -> u32 {
        if tag == 0 {
            return 0;
        }
        yield_!(futures::future::pending::<()>());
        tag
    }

    /// Returns without suspending.
    #[coroutine_runtime::coroutine]
    pub(crate) fn quick(tag: u32) -> u32 {
        yield_!(std::future::ready(tag))
    }
}

mod collections {
    use super::never::stuck;
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_vec() -> Vec<u32> {
        yield_!(vec![stuck(1), stuck(2), stuck(3)])
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_array() -> [u32; 2] {
        yield_!([stuck(1), stuck(2)])
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_hash_map() -> HashMap<u32, u32> {
        yield_!(HashMap::from([(1, stuck(1)), (2, stuck(2))]))
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_btree_map() -> BTreeMap<u32, u32> {
        yield_!(BTreeMap::from([(1, stuck(1)), (2, stuck(2))]))
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_tuple() -> (u32, u32, u32) {
        yield_!((stuck(1), stuck(2), async { 3 }))
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_multi() -> Vec<u32> {
        yield_!(multi(vec![stuck(1), stuck(0), stuck(3)]))
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_try_multi() -> Result<Vec<u32>, ()> {
        yield_!(try_multi(vec![ok(stuck(1)), ok(stuck(2))]))
    }

    #[coroutine_runtime::coroutine(lazy)]
    fn ok(inner: Runner<impl Future<Output = u32>>) -> Result<u32, ()> {
        Ok(yield_!(inner))
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_wait_iterator() -> u32 {
        let mut waiting = WaitIterator::new(vec![stuck(1), stuck(2)]);
        yield_!(waiting.next())
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_with_timeout() -> Result<u32, TimeoutError> {
        yield_!(with_timeout(Duration::from_secs(3600), stuck(1)))
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_sub() -> u32 {
        yield_!(stuck(1))
    }
}

/// Suspends `parent`, then checks that its node has `expected` children named `stuck` (and
/// only those), and that every one of them is gone once it is dropped.
fn check_children<F: Future + Unpin>(mut parent: F, name: &str, expected: usize) -> Snapshot {
    assert!(poll_once(&mut parent).is_pending());
    let tree = introspect::snapshot();
    let node = find(&tree, &format!("collections::{name}"));
    assert_eq!(
        child_names(node),
        vec!["stuck"; expected],
        "children of {name}:\n{tree}"
    );
    assert!(
        node.children()
            .iter()
            .all(|c| c.children().is_empty() && !c.is_running())
    );
    let (_, line, _) = node.children()[0].location();
    assert!(line > 0);
    drop(parent);
    let after = introspect::snapshot();
    assert!(
        after
            .find(|n| n.name().ends_with(&format!("::{name}")))
            .is_none(),
        "{name} still there after drop:\n{after}"
    );
    tree
}

#[test]
fn children_of_every_collection_and_combinator() {
    let tree = check_children(collections::by_vec(), "by_vec", 3);
    assert_eq!(
        find(&tree, "by_vec").waits_on(),
        Some("3 of 3 pending"),
        "{tree}"
    );
    check_children(collections::by_array(), "by_array", 2);
    check_children(collections::by_hash_map(), "by_hash_map", 2);
    check_children(collections::by_btree_map(), "by_btree_map", 2);
    check_children(collections::by_tuple(), "by_tuple", 2);
    // The child that returned at once never appears.
    let tree = check_children(collections::by_multi(), "by_multi", 2);
    assert_eq!(find(&tree, "by_multi").waits_on(), Some("2 of 3 pending"));
    check_children(collections::by_wait_iterator(), "by_wait_iterator", 2);
    check_children(collections::by_sub(), "by_sub", 1);
    let tree = check_children(collections::by_with_timeout(), "by_with_timeout", 1);
    let waits = find(&tree, "by_with_timeout").waits_on().unwrap();
    assert!(waits.starts_with("with_timeout ("), "{waits}");
}

#[test]
fn try_multi_children_sit_under_their_wrappers() {
    let mut parent = collections::by_try_multi();
    assert!(poll_once(&mut parent).is_pending());
    let tree = introspect::snapshot();
    let node = find(&tree, "by_try_multi");
    assert_eq!(child_names(node), ["ok", "ok"], "{tree}");
    for ok in node.children() {
        assert_eq!(child_names(ok), ["stuck"], "{tree}");
    }
    assert_eq!(node.waits_on(), Some("2 of 2 pending"));
    drop(parent);
}

mod finished {
    use super::*;

    #[coroutine_runtime::coroutine]
    pub(crate) fn never_suspends() -> u32 {
        let a = yield_!(never::quick(1));
        a + yield_!(async { 2 })
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn cycle() -> u32 {
        yield_!(moment);
        1
    }
}

#[test]
fn a_coroutine_that_never_suspends_never_appears() {
    let done = finished::never_suspends();
    assert!(done.is_finished());
    let tree = introspect::snapshot();
    assert!(tree.find(|n| n.name().contains("never_suspends")).is_none());
    assert!(tree.find(|n| n.name().ends_with("::quick")).is_none());
    assert_eq!(futures::executor::block_on(done), 3);
}

#[test]
fn a_million_create_drop_cycles_leave_nothing() {
    for i in 0..1_000_000 {
        let mut running = never::stuck(i + 1);
        if i % 2 == 0 {
            // Half of them polled once more by an executor, half dropped right after the call.
            let _ = poll_once(&mut running);
        }
        drop(running);
    }
    // And a thousand that run to their end through a real suspension.
    for _ in 0..1000 {
        assert_eq!(futures::executor::block_on(finished::cycle()), 1);
    }
    let tree = introspect::snapshot();
    let left = tree
        .iter()
        .filter(|n| n.name().ends_with("::stuck") || n.name().ends_with("::cycle"))
        .count();
    // Other tests run at the same time and may hold a few `stuck` coroutines of their own.
    assert!(left < 100, "{left} left:\n{tree}");
}

mod exec {
    use super::*;

    #[coroutine_runtime::coroutine]
    pub(crate) fn root(done: futures::channel::oneshot::Receiver<()>) -> u32 {
        yield_!(mid(done)) + 1
    }

    #[coroutine_runtime::coroutine]
    fn mid(done: futures::channel::oneshot::Receiver<()>) -> u32 {
        let (a, b) = yield_!((leaf(done), napping()));
        a + b
    }

    #[coroutine_runtime::coroutine]
    fn leaf(done: futures::channel::oneshot::Receiver<()>) -> u32 {
        yield_!(done).map_or(0, |()| 1)
    }

    #[coroutine_runtime::coroutine]
    fn napping() -> u32 {
        yield_!(sleep(Duration::from_millis(1)));
        1
    }
}

/// Serializes the executor tests: they look for the same names.
static EXECUTORS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits (up to 10 s) until the `exec` chain shows root → mid → leaf, checks it, and releases it.
fn check_exec_chain(release: futures::channel::oneshot::Sender<()>) {
    let started = std::time::Instant::now();
    loop {
        let tree = introspect::snapshot();
        if let Some(root) = tree.find(|n| n.name() == "introspect::exec::root") {
            if child_names(root) == ["mid"] && child_names(&root.children()[0]) == ["leaf"] {
                assert!(root.children()[0].children()[0].children().is_empty());
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no chain:\n{tree}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    release.send(()).unwrap();
}

#[test]
fn the_chain_on_every_executor() {
    let _one = EXECUTORS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let gone = || {
        introspect::snapshot()
            .find(|n| n.name().starts_with("introspect::exec::"))
            .is_none()
    };

    // futures::executor on another thread.
    let (release, done) = futures::channel::oneshot::channel();
    let thread = std::thread::spawn(move || futures::executor::block_on(exec::root(done)));
    check_exec_chain(release);
    assert_eq!(thread.join().unwrap(), 3);
    assert!(gone());

    // tokio, both flavours.
    for multi_thread in [false, true] {
        let runtime = if multi_thread {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread().build()
        }
        .unwrap();
        let (release, done) = futures::channel::oneshot::channel();
        let task = runtime.spawn(exec::root(done));
        let thread = std::thread::spawn(move || runtime.block_on(task).unwrap());
        check_exec_chain(release);
        assert_eq!(thread.join().unwrap(), 3);
        assert!(gone());
    }

    // smol.
    let (release, done) = futures::channel::oneshot::channel();
    let thread = std::thread::spawn(move || {
        let executor = smol::LocalExecutor::new();
        smol::block_on(executor.run(executor.spawn(exec::root(done))))
    });
    check_exec_chain(release);
    assert_eq!(thread.join().unwrap(), 3);
    assert!(gone());

    // The IoLoop, checked from inside.
    let (release, done) = futures::channel::oneshot::channel();
    let io_loop = IoLoop::new();
    let finished = std::rc::Rc::new(std::cell::Cell::new(false));
    let flag = finished.clone();
    io_loop.spawn_callback(move || async move {
        assert_eq!(exec::root(done).await, 3);
        flag.set(true);
    });
    io_loop.run_sync(|| async move {
        // Let the loop run `napping` to its end first: the check below blocks the loop.
        let started = std::time::Instant::now();
        while introspect::snapshot()
            .find(|n| n.name() == "introspect::exec::napping")
            .is_some()
            || introspect::snapshot()
                .find(|n| n.name() == "introspect::exec::leaf")
                .is_none()
        {
            assert!(started.elapsed() < Duration::from_secs(10));
            sleep(Duration::from_millis(5)).await;
        }
        check_exec_chain(release);
        while !finished.get() {
            sleep(Duration::from_millis(1)).await;
        }
    });
    assert!(gone());
}

mod load {
    use super::*;

    #[coroutine_runtime::coroutine]
    pub(crate) fn worker(rounds: u32) -> u32 {
        let mut sum = 0;
        for i in 0..rounds {
            sum += yield_!(step(i));
        }
        sum
    }

    #[coroutine_runtime::coroutine]
    fn step(i: u32) -> u32 {
        if i % 3 == 0 {
            yield_!(tokio::task::yield_now());
        }
        yield_!(vec![moment, moment]);
        1
    }
}

#[test]
fn snapshots_from_another_thread_under_load() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut snapshots = 0_u32;
            let mut seen = 0_usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let tree = introspect::snapshot();
                seen += tree
                    .iter()
                    .filter(|n| n.name().starts_with("introspect::load::"))
                    .count();
                // Every node of the tree is printable and well formed.
                let _ = tree.to_string();
                let _ = tree.to_json();
                snapshots += 1;
            }
            (snapshots, seen)
        })
    };
    let total: u32 = runtime.block_on(async {
        let tasks: Vec<_> = (0..200).map(|_| tokio::spawn(load::worker(200))).collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (snapshots, seen) = watcher.join().unwrap();
    assert_eq!(total, 200 * 200);
    assert!(snapshots > 0);
    assert!(
        seen > 0,
        "the watcher never saw a worker in {snapshots} snapshots"
    );
    let tree = introspect::snapshot();
    assert!(
        tree.find(|n| n.name().starts_with("introspect::load::"))
            .is_none(),
        "{tree}"
    );
}

#[path = "golden/coroutines.rs"]
mod golden;

/// `json` with every `"age_us":N` set to 0, every `"id":N` numbered in order of appearance and
/// the time left of sleeps cut off.
fn normalized(json: &str) -> String {
    let mut out = String::new();
    let mut rest = json;
    let mut ids = 0;
    while let Some(at) = rest.find(['"']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let number = |rest: &mut &str, out: &mut String, key: &str, value: String| {
            out.push_str(key);
            out.push_str(&value);
            *rest = rest[key.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        };
        if rest.starts_with("\"age_us\":") {
            number(&mut rest, &mut out, "\"age_us\":", "0".into());
        } else if rest.starts_with("\"id\":") {
            ids += 1;
            number(&mut rest, &mut out, "\"id\":", ids.to_string());
        } else if rest.starts_with("\"sleep (") {
            out.push_str("\"sleep (…)\"");
            rest = &rest[rest[1..].find('"').unwrap() + 2..];
        } else {
            out.push('"');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn json_against_the_golden_file() {
    let pool = ThreadPoolExecutor::new(1);
    let (release, job) = std::sync::mpsc::channel();
    let mut server = golden::server(pool, job);
    let service = golden::Service;
    let mut method = Box::pin(service.method());
    let mut bare = golden::bare();
    assert!(poll_once(&mut server).is_pending());
    assert!(poll_once(&mut method).is_pending());
    assert!(poll_once(&mut bare).is_pending());
    let tree = introspect::snapshot();
    let mine: Vec<Node> = tree
        .roots()
        .iter()
        .filter(|n| n.name().starts_with("introspect::golden::"))
        .cloned()
        .collect();
    release_on_failure(&release, mine.len() == 3);
    assert_eq!(mine.len(), 3, "{tree}");
    // Through `to_json` of a snapshot holding only these roots.
    let json = tree.to_json();
    let mut parts: Vec<String> = Vec::new();
    for root in &mine {
        let needle = format!(
            "\"name\":\"{}\",\"file\":\"{}\",\"line\":{},",
            root.name(),
            root.location().0,
            root.location().1
        );
        let start = json.find(&needle).unwrap();
        let start = json[..start].rfind("{\"id\":").unwrap();
        // The object ends where its braces balance.
        let mut depth = 0;
        let mut end = start;
        for (i, c) in json[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = start + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        parts.push(normalized(&json[start..end]));
    }
    let actual = format!("{}\n", parts.join("\n"));
    let golden_path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/introspect.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(golden_path, &actual).unwrap();
    }
    let golden = std::fs::read_to_string(golden_path).unwrap_or_default();
    release_on_failure(&release, actual == golden);
    assert_eq!(actual, golden, "UPDATE_GOLDEN=1 rewrites the golden file");
    println!("{tree}");
    release.send(()).unwrap();
    drop(server);
    drop(method);
    drop(bare);
}

/// Lets the pool's job end before a failing assertion drops (and joins) the pool.
fn release_on_failure(release: &std::sync::mpsc::Sender<()>, ok: bool) {
    if !ok {
        let _ = release.send(());
    }
}

mod stuck_loop {
    use super::*;

    #[coroutine_runtime::coroutine]
    pub(crate) fn app() {
        yield_!((slow(400), slow(400), fast()));
    }

    #[coroutine_runtime::coroutine]
    fn slow(millis: u64) {
        yield_!(sleep(Duration::from_millis(millis)));
    }

    #[coroutine_runtime::coroutine]
    fn fast() {
        yield_!(moment);
    }
}

#[test]
fn the_loop_reports_each_stuck_coroutine_once() {
    let io_loop = IoLoop::new();
    let reported = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = reported.clone();
    io_loop.set_stuck_threshold(Duration::from_millis(150), move |node| {
        if node.name().starts_with("introspect::stuck_loop::") {
            seen.borrow_mut()
                .push(node.name().rsplit("::").next().unwrap().to_owned());
        }
    });
    io_loop.run_sync(stuck_loop::app);
    let mut reported = reported.borrow().clone();
    reported.sort();
    // `app` and both `slow`s waited 400 ms; `fast` only one trip of the loop; nobody twice.
    assert_eq!(reported, ["app", "slow", "slow"]);
}

mod panicking {
    use super::*;

    #[coroutine_runtime::coroutine]
    pub(crate) fn outer() {
        yield_!(inner());
    }

    pub(crate) static PANIC_LINE: std::sync::atomic::AtomicU32 =
        std::sync::atomic::AtomicU32::new(0);

    #[coroutine_runtime::coroutine]
    fn inner() {
        yield_!(moment);
        PANIC_LINE.store(line!() + 1, std::sync::atomic::Ordering::Relaxed);
        yield_!(std::future::poll_fn(|_| -> std::task::Poll<()> {
            panic!("boom")
        }));
    }
}

#[test]
fn current_gives_the_chain_to_a_panic_hook() {
    let chain = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = chain.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |_| {
        if std::thread::current().name() == Some("panicking") {
            *seen.lock().unwrap() = introspect::current()
                .iter()
                .map(|n| (n.name().to_owned(), n.location().1))
                .collect();
        }
    }));
    let result = std::thread::Builder::new()
        .name("panicking".into())
        .spawn(|| futures::executor::block_on(panicking::outer()))
        .unwrap()
        .join();
    std::panic::set_hook(previous);
    assert!(result.is_err());
    let chain = chain.lock().unwrap();
    let names: Vec<&str> = chain.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "introspect::panicking::outer",
            "introspect::panicking::inner"
        ]
    );
    // `inner`'s second yield, the one that panicked.
    let line = panicking::PANIC_LINE.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(chain[1].1, line);
}

#[test]
fn a_hundred_thousand_suspended_coroutines() {
    let mut all: Vec<_> = (1..=100_000).map(never::stuck).collect();
    for running in &mut all {
        assert!(poll_once(running).is_pending());
    }
    let tree = introspect::snapshot();
    let count = tree
        .roots()
        .iter()
        .filter(|n| n.name().ends_with("::stuck"))
        .count();
    assert!(count >= 100_000, "{count}");
    drop(all);
    let tree = introspect::snapshot();
    let count = tree
        .roots()
        .iter()
        .filter(|n| n.name().ends_with("::stuck"))
        .count();
    assert!(count < 100, "{count}");
}

mod napping {
    use super::*;

    #[coroutine_runtime::coroutine]
    pub(crate) fn nap() {
        yield_!(sleep(Duration::from_secs(30)));
    }
}

#[test]
fn ages_grow_and_sleeps_count_down() {
    let mut nap = napping::nap();
    assert!(poll_once(&mut nap).is_pending());
    std::thread::sleep(Duration::from_millis(30));
    let tree = introspect::snapshot();
    let node = find(&tree, "nap");
    assert!(node.age() >= Duration::from_millis(30), "{tree}");
    assert!(node.age() < Duration::from_secs(30), "{tree}");
    let waits = node.waits_on().unwrap();
    assert!(
        waits.starts_with("sleep (29.") && waits.ends_with("s left)"),
        "{waits}"
    );
    assert_eq!(
        tree.older_than(Duration::from_millis(20))
            .iter()
            .filter(|n| n.name().ends_with("::nap"))
            .count(),
        1
    );
    assert!(
        tree.older_than(Duration::from_secs(20))
            .iter()
            .all(|n| !n.name().ends_with("::nap"))
    );
    let pruned = tree.pruned(Duration::from_millis(20));
    assert!(pruned.find(|n| n.name().ends_with("::nap")).is_some());
    let text = tree.to_string();
    assert!(
        text.lines()
            .any(|l| l.starts_with("introspect::napping::nap  ") && l.contains("suspended ")),
        "{text}"
    );
}

mod exact {
    use super::*;
    use futures::channel::oneshot::Receiver;
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

    pub(crate) static LEAF: AtomicU32 = AtomicU32::new(0);
    pub(crate) static TUPLE: AtomicU32 = AtomicU32::new(0);
    pub(crate) static WAIT: AtomicU32 = AtomicU32::new(0);

    #[coroutine_runtime::coroutine]
    pub(crate) fn leaf(done: Receiver<u32>) -> u32 {
        LEAF.store(line!() + 1, Relaxed);
        yield_!(done).unwrap_or(0)
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_tuple(a: Receiver<u32>, b: Receiver<u32>) -> u32 {
        TUPLE.store(line!() + 1, Relaxed);
        let (x, y, z) = yield_!((leaf(a), leaf(b), async { 3 }));
        x + y + z
    }

    #[coroutine_runtime::coroutine]
    pub(crate) fn by_wait_iterator(a: Receiver<u32>, b: Receiver<u32>, c: Receiver<u32>) -> u32 {
        let mut waiting = WaitIterator::new(vec![leaf(a), leaf(b), leaf(c)]);
        let mut sum = 0;
        while !waiting.done() {
            WAIT.store(line!() + 1, Relaxed);
            sum += yield_!(waiting.next());
        }
        sum
    }
}

/// Serializes the tests of `exact`: they look for the same names.
static EXACT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The Display lines of the subtree of the node named `name`, each age replaced by `…`.
fn subtree_lines(tree: &Snapshot, name: &str) -> Vec<String> {
    let node = find(tree, name);
    node.to_string()
        .lines()
        .map(|line| match line.find("suspended ") {
            Some(at) => {
                let rest = &line[at + "suspended ".len()..];
                let end = rest.find(',').unwrap_or(rest.len());
                format!("{}suspended …{}", &line[..at], &rest[end..])
            }
            None => line.to_owned(),
        })
        .collect()
}

#[test]
fn tuple_children_and_count_at_exact_lines() {
    use std::sync::atomic::Ordering::Relaxed;
    let _one = EXACT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (send_a, a) = futures::channel::oneshot::channel();
    let (_send_b, b) = futures::channel::oneshot::channel();
    let mut parent = exact::by_tuple(a, b);
    assert!(poll_once(&mut parent).is_pending());
    let tree = introspect::snapshot();
    let (file, tuple, leaf) = (
        file!(),
        exact::TUPLE.load(Relaxed),
        exact::LEAF.load(Relaxed),
    );
    let leaf_line = format!("  introspect::exact::leaf  {file}:{leaf}:9  suspended …");
    assert_eq!(
        subtree_lines(&tree, "by_tuple"),
        [
            format!("introspect::exact::by_tuple  {file}:{tuple}:25  suspended …, 2 of 3 pending"),
            leaf_line.clone(),
            leaf_line.clone(),
        ],
        "{tree}"
    );
    // One child done: one left, and the count says so.
    send_a.send(1).unwrap();
    assert!(poll_once(&mut parent).is_pending());
    let tree = introspect::snapshot();
    assert_eq!(
        subtree_lines(&tree, "by_tuple"),
        [
            format!("introspect::exact::by_tuple  {file}:{tuple}:25  suspended …, 1 of 3 pending"),
            leaf_line,
        ],
        "{tree}"
    );
    drop(parent);
    assert!(
        introspect::snapshot()
            .find(|n| n.name().starts_with("introspect::exact::"))
            .is_none()
    );
}

#[test]
fn wait_iterator_children_and_count_across_its_yields() {
    use std::sync::atomic::Ordering::Relaxed;
    let _one = EXACT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (_send_a, a) = futures::channel::oneshot::channel();
    let (send_b, b) = futures::channel::oneshot::channel();
    let (_send_c, c) = futures::channel::oneshot::channel();
    let mut parent = exact::by_wait_iterator(a, b, c);
    assert!(poll_once(&mut parent).is_pending());
    let (file, wait, leaf) = (
        file!(),
        exact::WAIT.load(Relaxed),
        exact::LEAF.load(Relaxed),
    );
    let leaf_line = format!("  introspect::exact::leaf  {file}:{leaf}:9  suspended …");
    let expect = |pending: usize| {
        let mut lines = vec![format!(
            "introspect::exact::by_wait_iterator  {file}:{wait}:20  suspended …, \
             {pending} of 3 pending"
        )];
        lines.extend(std::iter::repeat_n(leaf_line.clone(), pending));
        lines
    };
    let tree = introspect::snapshot();
    assert_eq!(
        subtree_lines(&tree, "by_wait_iterator"),
        expect(3),
        "{tree}"
    );
    // The middle one finishes: the loop takes its output and yields `next()` again; the two
    // others, which nobody woke, are still under it.
    send_b.send(2).unwrap();
    assert!(poll_once(&mut parent).is_pending());
    let tree = introspect::snapshot();
    assert_eq!(
        subtree_lines(&tree, "by_wait_iterator"),
        expect(2),
        "{tree}"
    );
    assert!(
        tree.roots()
            .iter()
            .all(|n| n.name() != "introspect::exact::leaf"),
        "{tree}"
    );
    drop(parent);
}

mod shared {
    use super::*;
    use futures::FutureExt;
    use futures::channel::oneshot::Receiver;
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

    pub(crate) static LINES: [AtomicU32; 4] = [const { AtomicU32::new(0) }; 4];

    #[coroutine_runtime::coroutine]
    fn inner(done: Receiver<u32>) -> u32 {
        LINES[0].store(line!() + 1, Relaxed);
        yield_!(done).unwrap_or(0)
    }

    #[coroutine_runtime::coroutine]
    fn first(shared: impl Future<Output = u32>) -> u32 {
        LINES[1].store(line!() + 1, Relaxed);
        yield_!(shared)
    }

    #[coroutine_runtime::coroutine]
    fn second(shared: impl Future<Output = u32>) -> u32 {
        LINES[2].store(line!() + 1, Relaxed);
        yield_!(shared) * 10
    }

    /// `inner` awaited by `first` and `second` through `Shared` handles.
    #[coroutine_runtime::coroutine]
    pub(crate) fn both(done: Receiver<u32>) -> u32 {
        let shared = inner(done).shared();
        LINES[3].store(line!() + 1, Relaxed);
        let (a, b) = yield_!((first(shared.clone()), second(shared)));
        a + b
    }
}

#[test]
fn a_shared_coroutine_appears_once_with_a_reference_from_the_second_parent() {
    use std::sync::atomic::Ordering::Relaxed;
    let (send, done) = futures::channel::oneshot::channel();
    let mut both = shared::both(done);
    assert!(poll_once(&mut both).is_pending());
    // `second` polled `inner`'s body first (while `both` started, `first`'s poll of its handle
    // only took `inner`'s runner through its first trip): `inner` is shown under `second`,
    // and `first` has a reference to it.
    let tree = introspect::snapshot();
    let [inner, first, second, both_line] = shared::LINES.each_ref().map(|l| l.load(Relaxed));
    let file = file!();
    assert_eq!(
        subtree_lines(&tree, "both"),
        [
            format!("introspect::shared::both  {file}:{both_line}:22  suspended …, 2 of 2 pending"),
            format!("  introspect::shared::first  {file}:{first}:9  suspended …"),
            format!(
                "    ↪ introspect::shared::inner  {file}:{inner}:9  \
                 (shown under introspect::shared::second)"
            ),
            format!("  introspect::shared::second  {file}:{second}:9  suspended …"),
            format!("    introspect::shared::inner  {file}:{inner}:9  suspended …"),
        ],
        "{tree}"
    );
    // Once in `iter`, and the reference names it and where it is shown.
    let shown: Vec<&Node> = tree
        .iter()
        .filter(|n| n.name() == "introspect::shared::inner")
        .collect();
    assert_eq!(shown.len(), 1, "{tree}");
    let host = find(&tree, "second");
    let reference = &find(&tree, "first").children()[0];
    assert!(reference.is_reference() && !shown[0].is_reference());
    assert_eq!(reference.id(), shown[0].id());
    assert_eq!(reference.shown_under(), Some(host.id()));
    assert!(reference.children().is_empty());
    let json = tree.to_json();
    let expected = format!(
        r#"{{"ref":{},"shown_under":{},"name":"introspect::shared::inner","file":"{file}","line":{inner},"column":9}}"#,
        shown[0].id(),
        host.id()
    );
    assert!(json.contains(&expected), "{json}");
    // Both get the value once `inner` ends, and all of it is gone.
    send.send(4).unwrap();
    assert_eq!(poll_once(&mut both), std::task::Poll::Ready(44));
    assert!(
        introspect::snapshot()
            .find(|n| n.name().starts_with("introspect::shared::"))
            .is_none()
    );
}

mod fresh {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

    pub(crate) static LINES: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];

    #[coroutine_runtime::coroutine]
    pub(crate) fn outer() -> u32 {
        let called = caller();
        LINES[0].store(line!() + 1, Relaxed);
        yield_!(called)
    }

    #[coroutine_runtime::coroutine]
    fn caller() -> u32 {
        let child = never::stuck(1);
        LINES[1].store(line!() + 1, Relaxed);
        yield_!(child)
    }
}

#[test]
fn a_freshly_called_coroutine_is_under_its_caller_from_the_start() {
    use std::sync::atomic::Ordering::Relaxed;
    // Called, and never polled: every level has only run up to its first suspension.
    let running = fresh::outer();
    let tree = introspect::snapshot();
    let [outer, caller] = fresh::LINES.each_ref().map(|l| l.load(Relaxed));
    let file = file!();
    let lines = subtree_lines(&tree, "outer");
    assert_eq!(
        lines[..2],
        [
            format!("introspect::fresh::outer  {file}:{outer}:9  suspended …"),
            format!("  introspect::fresh::caller  {file}:{caller}:9  suspended …"),
        ],
        "{tree}"
    );
    assert_eq!(lines.len(), 3, "{tree}");
    assert!(
        lines[2].starts_with("    introspect::never::stuck  "),
        "{tree}"
    );
    drop(running);
    assert!(
        introspect::snapshot()
            .find(|n| n.name().starts_with("introspect::fresh::"))
            .is_none()
    );
}

mod unwinding {
    use super::*;

    /// Its child suspends (and so shows it, running) before it panics.
    #[coroutine_runtime::coroutine]
    pub(crate) fn parent() -> u32 {
        let _child = never::stuck(7);
        panic!("boom after a child suspended")
    }
}

#[test]
fn a_coroutine_that_panics_leaves_nothing() {
    let panicked = unwinding::parent(); // the runner keeps the panic for its first poll
    let tree = introspect::snapshot();
    assert!(
        tree.find(|n| n.name().starts_with("introspect::unwinding::"))
            .is_none(),
        "{tree}"
    );
    drop(panicked);
}
