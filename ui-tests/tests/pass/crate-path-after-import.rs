// rustc's suggestion for a bare `#[coroutine]`, `#[crate::coroutine]`, works after an import at
// the crate root.
use coroutine_runtime::{coroutine, moment, yield_};

#[crate::coroutine]
fn imported() -> u32 {
    yield_!(moment);
    1
}

fn main() {
    assert_eq!(futures::executor::block_on(imported()), 1);
}
