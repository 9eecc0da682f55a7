//! What is emitted when the input has errors: the user's fn, so that callers and IDEs keep
//! working, beside the errors.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Path, Signature, Visibility};

use crate::expand::coroutine_signature;

/// The coroutine's signature with a body that is never reached, plus the errors.
///
/// The body is dropped because it holds the problem (a misplaced yield); keeping the signature
/// means a caller of the fn sees no second error.
pub(crate) fn coroutine(
    attrs: &[Attribute],
    vis: &Visibility,
    sig: &Signature,
    krate: &Path,
    error: &syn::Error,
) -> TokenStream {
    let sig = coroutine_signature(sig);
    let error = error.to_compile_error();
    quote! {
        #(#attrs)*
        #[allow(unused_variables, unused_mut, unreachable_code, clippy::all)]
        #vis #sig {
            #krate::__private::Runner::start(async move { ::core::unreachable!() })
        }
        #error
    }
}

/// The input as it was, plus the error: for items the attribute cannot turn into a coroutine.
pub(crate) fn unchanged(input: TokenStream, error: &syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote! {
        #input
        #error
    }
}
