#[coroutine_runtime::coroutine(fast)]
fn quick() -> u32 {
    1
}

fn main() {}
