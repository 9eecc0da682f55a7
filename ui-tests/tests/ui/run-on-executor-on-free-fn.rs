use coroutine_runtime::*;

#[run_on_executor]
fn checksum(data: Vec<u8>) -> u64 {
    data.iter().map(|&b| u64::from(b)).sum()
}

fn main() {
    // The fn is kept as it was: its callers see no second error.
    let _: u64 = checksum(vec![1, 2]);
}
