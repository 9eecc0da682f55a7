//! A tour of every coroutine pattern of Tornado's guide, each printed with its timing.
//!
//! Run it with `cargo run --example tour`. (The parallel sections arrive with the parallel yields.)

use coroutine_runtime::{Return, yield_};
use std::future::ready;

#[coroutine_runtime::coroutine]
fn add() -> u32 {
    let a = yield_!(ready(1));
    Return(a + yield_!(ready(2)))
}

fn main() {
    println!("yield two ready futures: {}", futures::executor::block_on(add()));
}
