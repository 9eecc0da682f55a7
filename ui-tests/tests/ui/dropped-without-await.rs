#![deny(unused_must_use)]

use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn work() -> u32 {
    yield_!(moment);
    1
}

fn main() {
    work();
}
