use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn empty_yield() {
    yield_!();
}

fn main() {}
