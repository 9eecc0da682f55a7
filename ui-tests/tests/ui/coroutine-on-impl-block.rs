struct Client;

#[coroutine_runtime::coroutine]
impl Client {
    fn fetch(&self) -> u32 {
        1
    }
}

fn main() {}
