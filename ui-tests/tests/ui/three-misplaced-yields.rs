use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn three_mistakes() -> u32 {
    let a = || yield_!(async { 1 });
    let b = async { yield_!(async { 2 }) };
    fn c() -> u32 {
        yield_!(async { 3 })
    }
    a() + c() + yield_!(b)
}

fn main() {}
