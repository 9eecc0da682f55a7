//! What is emitted beside an error: the user's item, so that callers and IDEs keep working and
//! the error is the only one.
//!
//! A fn whose body has a problem (a misplaced yield) is still expanded in full: the yield
//! rewriter puts a stand-in of the right type in place of the misplaced yield. The helpers here
//! cover the rest.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Item, Signature};

use crate::expand::coroutine_output;
use crate::valid;

/// The signature with what made it unusable removed (`async`, `const`, the ABI, a variadic), so a
/// coroutine can be generated from it: a caller that awaits the fn sees no second error.
pub(crate) fn signature(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    sig.asyncness = None;
    sig.constness = None;
    sig.abi = None;
    if sig.variadic.take().is_some() {
        // Drop the comma that stood before the `...`.
        sig.inputs = std::mem::take(&mut sig.inputs).into_iter().collect();
    }
    sig
}

/// An item that cannot become a coroutine. A fn declaration without a body becomes the
/// declaration a trait needs, `fn m(&self) -> impl Future<Output = T>;`, so the impls' coroutines
/// match it; any other item is kept as written.
pub(crate) fn not_a_fn(item: &Item, input: TokenStream) -> TokenStream {
    match valid::declaration(item) {
        Some(mut declaration) => {
            declaration.sig.output = coroutine_output(&declaration.sig.output);
            quote!(#declaration)
        }
        None => input,
    }
}

/// `tokens`, followed by the errors.
pub(crate) fn with_errors(mut tokens: TokenStream, error: Option<syn::Error>) -> TokenStream {
    if let Some(error) = error {
        tokens.extend(error.to_compile_error());
    }
    tokens
}
