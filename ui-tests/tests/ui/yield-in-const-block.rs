use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_const_block() -> u32 {
    const { yield_!(async { 1 }) }
}

fn main() {}
