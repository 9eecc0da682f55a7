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
    // Polled once by an executor, so that `a` polls `b` polls `c`.
    let mut running = Box::pin(running);
    let waker = std::task::Waker::noop();
    let _ = running
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker));
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
