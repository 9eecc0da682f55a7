#[coroutine_runtime::coroutine(lazy, lazy)]
fn twice() -> u32 {
    1
}

fn main() {}
