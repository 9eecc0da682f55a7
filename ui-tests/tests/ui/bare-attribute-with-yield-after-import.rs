use coroutine_runtime::{coroutine, yield_};

#[coroutine]
fn bare() -> u32 {
    yield_!(async { 1 })
}

fn main() {}
