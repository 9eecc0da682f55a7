#[coroutine_runtime::coroutine(fast)]
fn quick() -> u32 {
    1
}

fn main() {
    // The fn is still emitted, with the default arguments: no second error here.
    let n: u32 = futures::executor::block_on(quick());
    assert_eq!(n, 1);
}
