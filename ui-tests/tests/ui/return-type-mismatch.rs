use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn count() -> u32 {
    let v = yield_!(async { "three" });
    return Return(v);
}

fn main() {}
