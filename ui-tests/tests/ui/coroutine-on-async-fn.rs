use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
async fn already_async() -> u32 {
    yield_!(async { 1 })
}

fn main() {
    let n: u32 = futures::executor::block_on(already_async());
    assert_eq!(n, 1);
}
