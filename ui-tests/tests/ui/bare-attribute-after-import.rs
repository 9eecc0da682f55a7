use coroutine_runtime::coroutine;

#[coroutine]
fn bare() -> u32 {
    1
}

fn main() {}
