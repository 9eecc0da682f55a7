use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_async_block_in_macro() -> usize {
    let blocks = vec![async { yield_!(async { 1 }) }];
    blocks.len()
}

fn main() {}
