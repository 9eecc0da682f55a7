use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn yields_a_vec_of_numbers() -> Vec<u32> {
    yield_!(vec![1_u32, 2, 3])
}

fn main() {}
