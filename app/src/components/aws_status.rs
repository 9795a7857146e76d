//! The degraded-state panel: shown above every page while a poller's rounds
//! fail (AWS throttling CloudWatch, say), so a page that shows stored data
//! says why it may be behind instead of failing.

use leptos::prelude::*;

use crate::api::operations::get_aws_status;
use crate::pages::subscribers::refresh_tick;

/// How often the browser asks again.
const REFRESH_MS: u64 = 10_000;

/// Nothing while all is well; one line per failing poller otherwise.
#[component]
pub fn AwsStatusPanel() -> impl IntoView {
    let tick = refresh_tick(REFRESH_MS);
    let status = Resource::new(move || tick.get(), |_| get_aws_status());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                // The panel is advice: if asking fails, the page itself still shows.
                status.await.ok().filter(|status| !status.degraded.is_empty()).map(|status| {
                    let throttled = status.degraded.iter().all(|poller| poller.throttled);
                    let heading = if throttled { "AWS is throttling Keywatch" } else { "AWS is failing some of Keywatch's calls" };
                    view! {
                        <section class="panel panel-degraded" role="status" data-testid="aws-degraded">
                            <h2>{heading}</h2>
                            <ul>
                                {status.degraded.iter().map(|poller| view! { <li>{poller.sentence()}</li> }).collect_view()}
                            </ul>
                        </section>
                    }
                })
            })}
        </Transition>
    }
}
