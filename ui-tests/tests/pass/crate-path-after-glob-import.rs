// rustc's suggestion for a bare `#[coroutine]`, `#[crate::coroutine]`, works after a glob import
// at the crate root.
use coroutine_runtime::*;

#[crate::coroutine]
fn imported() -> u32 {
    yield_!(moment);
    2
}

fn main() {
    assert_eq!(futures::executor::block_on(imported()), 2);
}
