//! The Subscribers page: each alarm topic with its subscriptions (endpoints
//! masked), forms to add, remove and re-confirm subscribers, and on the
//! sandbox the outbox of emails SNS sent.

use leptos::prelude::*;

use crate::api::connection::get_console_settings;
use crate::api::subscribers::{
    AddSubscriber, AlarmTopic, ConfirmFromOutbox, OutboxEmail, RemoveSubscriber, ResendConfirmation, Subscriber,
    list_alarm_topics, sandbox_outbox,
};
use crate::components::feedback::ErrorPanel;
use crate::error::AppError;
use keywatch_domain::sns::{PROTOCOLS, SubscriptionStatus, validate_endpoint};

/// How often the page refreshes subscriptions and the outbox in the browser.
const REFRESH_MS: u64 = 3_000;

/// The Subscribers page.
#[component]
pub fn SubscribersPage() -> impl IntoView {
    let add = ServerAction::<AddSubscriber>::new();
    let remove = ServerAction::<RemoveSubscriber>::new();
    let resend = ServerAction::<ResendConfirmation>::new();
    let confirm = ServerAction::<ConfirmFromOutbox>::new();
    let tick = refresh_tick(REFRESH_MS);
    let versions = move || {
        (add.version().get(), remove.version().get(), resend.version().get(), confirm.version().get(), tick.get())
    };
    let topics = Resource::new(versions, |_| list_alarm_topics());
    let outbox = Resource::new(versions, |_| sandbox_outbox());
    let settings = OnceResource::new(get_console_settings());
    let actions = Actions { add, remove, resend };

    view! {
        <h1>"Subscribers"</h1>
        <p class="hint">
            "Who SNS tells when a managed alarm changes state. Email, email-json and HTTPS endpoints must confirm \
             before SNS delivers to them."
        </p>
        <ActionOutcome action=add success="Subscription requested" />
        <ActionOutcome action=remove success="Subscription removed" />
        <ActionOutcome action=resend success="Confirmation requested again" />
        <Transition fallback=|| view! { <p class="loading">"Loading topics…"</p> }>
            {move || Suspend::new(async move {
                match topics.await {
                    Ok(topics) if topics.is_empty() => view! {
                        <p class="empty">"No alarm topic yet: create the lab's logging stack, or an alarm whose actions publish to a topic."</p>
                    }.into_any(),
                    Ok(topics) => topics
                        .into_iter()
                        .map(|topic| view! { <TopicPanel topic actions /> })
                        .collect_view()
                        .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let sandbox = settings.await.ok().is_some_and(|s| s.sandbox_endpoint.is_some());
                sandbox.then(|| view! { <OutboxPanel outbox confirm /> })
            })}
        </Suspense>
    }
}

/// A signal that changes every `period_ms` in the browser (never on the
/// server), for pages that refresh without a reload.
pub fn refresh_tick(period_ms: u64) -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    Effect::new(move |_| {
        if let Ok(handle) =
            set_interval_with_handle(move || set_tick.update(|t| *t += 1), std::time::Duration::from_millis(period_ms))
        {
            on_cleanup(move || handle.clear());
        }
    });
    tick
}

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddSubscriber>,
    remove: ServerAction<RemoveSubscriber>,
    resend: ServerAction<ResendConfirmation>,
}

/// The last outcome of an action: its error, or a short confirmation.
#[component]
fn ActionOutcome<A>(action: ServerAction<A>, success: &'static str) -> impl IntoView
where
    A: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    move || match action.value().get() {
        Some(Ok(_)) => Some(view! { <p class="notice" role="status">{success}</p> }.into_any()),
        Some(Err(error)) => Some(view! { <ErrorPanel error /> }.into_any()),
        None => None,
    }
}

#[component]
fn TopicPanel(topic: AlarmTopic, actions: Actions) -> impl IntoView {
    let name = crate::api::subscribers::topic_name(&topic.topic_arn).to_owned();
    let alarms =
        if topic.alarm_names.is_empty() { "no managed alarm yet".to_owned() } else { topic.alarm_names.join(", ") };
    let topic_arn = topic.topic_arn.clone();
    let (protocol, set_protocol) = signal("email".to_owned());
    let (endpoint, set_endpoint) = signal(String::new());
    // Checked as the user types (after hydration); the server checks again
    // before calling SNS.
    let problem = move || {
        let endpoint = endpoint.get();
        (!endpoint.is_empty()).then(|| validate_endpoint(&protocol.get(), &endpoint).err()).flatten()
    };
    let rows = topic
        .subscribers
        .into_iter()
        .map(|subscriber| view! { <SubscriberRow subscriber topic_arn=topic.topic_arn.clone() actions /> })
        .collect_view();
    let table_label = format!("Subscribers of {name}");
    view! {
        <section class="panel" aria-label=format!("Topic {name}")>
            <h2>{name.clone()}</h2>
            <dl class="facts">
                <dt>"Topic ARN"</dt><dd><code>{topic.topic_arn.clone()}</code></dd>
                <dt>"Alarms"</dt><dd>{alarms}</dd>
            </dl>
            <table class="table" aria-label=table_label>
                <thead><tr><th>"Protocol"</th><th>"Endpoint"</th><th>"Status"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            <ActionForm action=actions.add>
                <input type="hidden" name="input[topic_arn]" value=topic_arn />
                <div class="form-row">
                    <label>
                        "Protocol"
                        <select name="input[protocol]" on:change=move |ev| set_protocol.set(event_target_value(&ev))>
                            {PROTOCOLS.iter().map(|p| view! { <option value=*p>{*p}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>
                        "Endpoint"
                        <input type="text" name="input[endpoint]" maxlength="2048" on:input=move |ev| set_endpoint.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class="button" disabled=move || problem().is_some()>"Add subscriber"</button>
                </div>
                {move || problem().map(|message| view! { <p class="field-error" role="alert">{message}</p> })}
            </ActionForm>
        </section>
    }
}

#[component]
fn SubscriberRow(subscriber: Subscriber, topic_arn: String, actions: Actions) -> impl IntoView {
    let (class, label) = match subscriber.status {
        SubscriptionStatus::Confirmed => ("status-confirmed", subscriber.status.label()),
        _ => ("status-pending", subscriber.status.label()),
    };
    let protocol = subscriber.protocol.clone();
    let masked_endpoint = subscriber.endpoint.clone();
    let action = match (subscriber.status, subscriber.subscription_arn.clone()) {
        (SubscriptionStatus::Confirmed, Some(arn)) => view! {
            <ActionForm action=actions.remove attr:class="inline-form">
                <input type="hidden" name="input[subscription_arn]" value=arn />
                <button type="submit" class="link-button">"Remove"</button>
            </ActionForm>
        }
        .into_any(),
        (SubscriptionStatus::PendingConfirmation, _) => view! {
            <ActionForm action=actions.resend attr:class="inline-form">
                <input type="hidden" name="input[topic_arn]" value=topic_arn />
                <input type="hidden" name="input[protocol]" value=protocol />
                <input type="hidden" name="input[masked_endpoint]" value=masked_endpoint />
                <button type="submit" class="link-button">"Request confirmation again"</button>
            </ActionForm>
        }
        .into_any(),
        _ => ().into_any(),
    };
    view! {
        <tr>
            <td>{subscriber.protocol}</td>
            <td><code>{subscriber.endpoint}</code></td>
            <td class=class>{label}</td>
            <td>{action}</td>
        </tr>
    }
}

#[component]
fn OutboxPanel(
    outbox: Resource<Result<Vec<OutboxEmail>, AppError>>,
    confirm: ServerAction<ConfirmFromOutbox>,
) -> impl IntoView {
    view! {
        <section class="panel" aria-label="Outbox">
            <h2>"Outbox"</h2>
            <p class="hint">"The sandbox keeps the emails SNS sends instead of mailing them."</p>
            <ActionOutcome action=confirm success="Subscription confirmed" />
            <Transition fallback=|| view! { <p class="loading">"Loading the outbox…"</p> }>
                {move || Suspend::new(async move {
                    match outbox.await {
                        Ok(emails) if emails.is_empty() => view! { <p class="empty">"No email sent yet."</p> }.into_any(),
                        Ok(emails) => view! {
                            <table class="table" aria-label="Outbox emails">
                                <thead><tr><th>"Sent (UTC)"</th><th>"To"</th><th>"Subject"</th><th></th></tr></thead>
                                <tbody>
                                    {emails.into_iter().map(|email| view! { <OutboxRow email confirm /> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn OutboxRow(email: OutboxEmail, confirm: ServerAction<ConfirmFromOutbox>) -> impl IntoView {
    let confirmation = email.confirmable.then(|| {
        view! {
            <ActionForm action=confirm attr:class="inline-form">
                <input type="hidden" name="input[message_id]" value=email.message_id.clone() />
                <button type="submit" class="link-button">"Confirm subscription"</button>
            </ActionForm>
        }
    });
    view! {
        <tr>
            <td>{email.sent_at.get(..19).unwrap_or(&email.sent_at).replace('T', " ")}</td>
            <td>{email.to}</td>
            <td>
                <details>
                    <summary>{email.subject}</summary>
                    <pre class="body">{email.body}</pre>
                </details>
            </td>
            <td>{confirmation}</td>
        </tr>
    }
}
