use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn count(early: bool) -> u32 {
    let v = yield_!(async { "three" });
    if early {
        return v;
    }
    3
}

fn main() {}
