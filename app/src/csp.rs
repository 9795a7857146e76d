//! The Content-Security-Policy of the console's pages.
//!
//! Pages run only the console's own script and wasm: `'self'` for
//! `/pkg/keywatch.js` and the wasm it fetches, `'wasm-unsafe-eval'` to
//! compile that wasm, and a per-response nonce for the inline hydration
//! bootstrap and resource scripts Leptos writes into the page (Leptos puts
//! the nonce on them itself). Nothing else runs, loads or frames the page.

/// The policy for a page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// A second way out for the page's policy: the security middleware puts one
/// in each request's extensions and, when the response carries no policy,
/// sends the one the shell left here. Leptos applies `ResponseOptions`
/// headers only when the first chunk is ready; a page that once left
/// without them (seen once in CI, cause unknown) then never hydrated.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct PolicySlot(std::sync::Arc<std::sync::OnceLock<http::HeaderValue>>);

#[cfg(feature = "ssr")]
impl PolicySlot {
    /// The policy the page's shell left, if one rendered.
    pub fn policy(&self) -> Option<http::HeaderValue> {
        self.0.get().cloned()
    }

    /// Leaves the page's policy; the first one left wins.
    pub fn leave(&self, policy: http::HeaderValue) {
        let _ = self.0.set(policy);
    }
}

/// Sets the page's policy as a response header while the shell renders, when
/// Leptos has made a nonce for this response (always, on the server).
pub fn send_policy() {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::use_context;
        let Some(nonce) = leptos::nonce::use_nonce() else {
            // The page then leaves with the middleware's script-free policy
            // and never hydrates.
            tracing::warn!("a page is rendered without a nonce, so without its Content-Security-Policy");
            return;
        };
        let policy = match http::HeaderValue::from_str(&page_policy(&nonce)) {
            Ok(policy) => policy,
            Err(error) => return tracing::error!(%error, "the page's Content-Security-Policy is not a header value"),
        };
        let slot =
            use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<PolicySlot>().cloned());
        if let Some(slot) = slot {
            slot.leave(policy.clone());
        }
        match use_context::<leptos_axum::ResponseOptions>() {
            Some(response) => response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy),
            None => tracing::warn!("a page is rendered without response options; its policy goes by the middleware"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_only_own_script_wasm_and_the_nonce() {
        let policy = page_policy("abc");
        assert!(policy.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
    }
}
