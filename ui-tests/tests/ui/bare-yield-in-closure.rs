coroutine_runtime::coroutines! {
    fn bare_in_closure() -> u32 {
        let f = || yield std::future::ready(1);
        f()
    }
}

fn main() {}
