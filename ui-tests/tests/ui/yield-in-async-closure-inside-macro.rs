use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_async_closure_in_macro() -> usize {
    let closures = vec![async || yield_!(async { 1 })];
    closures.len()
}

fn main() {}
