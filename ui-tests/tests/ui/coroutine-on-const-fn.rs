#[coroutine_runtime::coroutine]
const fn constant() -> u32 {
    1
}

fn main() {}
