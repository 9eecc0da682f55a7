use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_array_length() -> usize {
    let zeros = [0_u8; yield_!(async { 1 })];
    let ones: [u8; yield_!(async { 2 })] = [];
    zeros.len() + ones.len()
}

fn main() {}
