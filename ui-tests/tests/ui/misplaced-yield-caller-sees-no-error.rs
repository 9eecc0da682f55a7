use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn broken(x: u32) -> u32 {
    let f = || yield_!(async { x });
    f()
}

fn main() {
    let n: u32 = futures::executor::block_on(broken(1));
    assert_eq!(n + 1, 2);
}
