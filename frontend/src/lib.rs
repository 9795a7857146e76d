//! The browser entry point: hydrates the server-rendered Keywatch UI.

/// Called by the hydration script cargo-leptos generates.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(keywatch_app::App);
    // A readiness signal for browser tests and scripts: after this, every
    // event handler on the page is live.
    let _ = js_sys::Reflect::set(&js_sys::global(), &"__keywatchHydrated".into(), &true.into());
}
