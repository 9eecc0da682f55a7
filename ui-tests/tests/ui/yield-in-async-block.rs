use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_async_block() -> u32 {
    let inner = async { yield_!(async { 1 }) };
    yield_!(inner)
}

fn main() {}
