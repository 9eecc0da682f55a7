use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_closure() -> u32 {
    let f = || yield_!(async { 1 });
    f()
}

fn main() {}
