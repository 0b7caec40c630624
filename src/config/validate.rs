//! The one validation pass at boot. Every problem is collected, so an operator fixes them in one go.

use std::time::Duration;

use secrecy::ExposeSecret;

use super::{Environment, LmsMode, Settings};

/// Returns every problem with `settings`, worded for the operator who has to fix it.
pub fn validate(s: &Settings) -> Vec<String> {
    let mut problems = Vec::new();
    let mut need = |ok: bool, message: String| {
        if !ok {
            problems.push(message);
        }
    };

    let lms = &s.lms;
    need(
        (1..=100).contains(&lms.page_rows),
        format!("lms.page_rows = {} must be between 1 and 100 (the LMS's page limit)", lms.page_rows),
    );
    need(lms.retry.max_attempts >= 1, "lms.retry.max_attempts must be at least 1".into());
    need(lms.retry.base <= lms.retry.cap, "lms.retry.base must not exceed lms.retry.cap".into());
    need(!lms.request_timeout.is_zero(), "lms.request_timeout must be more than 0".into());
    need(!lms.worker_request_timeout.is_zero(), "lms.worker_request_timeout must be more than 0".into());
    need(
        lms.business_timezone.parse::<chrono_tz::Tz>().is_ok(),
        format!("lms.business_timezone = {:?} is not an IANA zone such as Africa/Dar_es_Salaam", lms.business_timezone),
    );
    need(!lms.product_ids.is_empty(), "lms.product_ids must list at least one loan product id".into());
    need(lms.currency.len() == 3, format!("lms.currency = {:?} must be an ISO 4217 code such as TZS", lms.currency));
    if lms.mode == LmsMode::Sandbox {
        let sandbox_legacy = s.sandbox.lms.generation == crate::sandbox::lms::SandboxGeneration::Legacy;
        let client_legacy = lms.generation == crate::lms::Generation::Legacy;
        need(
            sandbox_legacy == client_legacy,
            format!(
                "lms.generation = {:?} but the built-in sandbox LMS runs sandbox.lms.generation = {:?}: set both",
                lms.generation.as_str(),
                if sandbox_legacy { "legacy" } else { "current" }
            ),
        );
    }
    for (product, rule) in &lms.quotes {
        need(
            lms.product_ids.contains(product),
            format!("lms.quotes.\"{product}\" names a product not in lms.product_ids {:?}", lms.product_ids),
        );
        if let Err(why) = rule.check() {
            need(false, format!("lms.quotes.\"{product}\": {why}"));
        }
    }

    if lms.mode == LmsMode::Http {
        for (key, url) in [("lms.auth_base_url", &lms.auth_base_url), ("lms.api_base_url", &lms.api_base_url)] {
            if let Some(problem) = base_url_problem(key, url) {
                need(false, problem);
            }
        }
        need(!lms.partner_email.trim().is_empty(), "lms.partner_email is required when lms.mode = http".into());
        need(
            !lms.partner_password.expose_secret().is_empty(),
            "lms.partner_password is required when lms.mode = http (set MKOPO_LMS__PARTNER_PASSWORD)".into(),
        );
    }

    // Startup pays out through a generic wallet of that name, or through Daraja.
    let default = s.wallets.default.as_str();
    if default == "daraja" {
        need(
            s.wallets.daraja.is_some(),
            "wallets.default = \"daraja\" needs the [wallets.daraja] settings (MKOPO_WALLETS__DARAJA__<KEY>)".into(),
        );
    } else if !s.wallets.generic.contains_key(default) {
        need(
            false,
            format!("wallets.default = {default:?} names no wallet under [wallets.generic] and is not \"daraja\""),
        );
    }
    for (name, wallet) in &s.wallets.generic {
        let sandbox_mount =
            name == "sandbox" && wallet.base_url.trim().is_empty() && s.environment == Environment::Local;
        for problem in wallet.validate() {
            if !(sandbox_mount && problem.starts_with("base_url")) {
                need(false, format!("wallets.generic.{name}: {problem}"));
            }
        }
    }

    if let Some(daraja) = &s.wallets.daraja {
        for problem in daraja.validate() {
            need(false, format!("wallets.{problem}"));
        }
        if s.environment == Environment::Production {
            need(
                daraja.base_url != crate::momo::daraja::settings::SANDBOX_BASE_URL,
                "wallets.daraja.base_url is Safaricom's sandbox, refused in production".into(),
            );
        }
    }

    if s.environment == Environment::Production {
        need(
            lms.mode != LmsMode::Sandbox,
            "lms.mode = sandbox is refused in production: set lms.mode = http with the LMS URLs and credentials".into(),
        );
        need(
            !s.wallets.uses_sandbox(),
            "the sandbox wallet is refused in production: give wallets.generic.<default>.base_url".into(),
        );
        need(
            s.redis.url.as_ref().is_some_and(|u| !u.expose_secret().trim().is_empty()),
            "redis.url is required in production: sessions, callbacks and payouts must be durable (set MKOPO_REDIS__URL)"
                .into(),
        );
        need(
            !s.simulator.enabled,
            "simulator.enabled is refused in production: the browser phone shows any subscriber's loans unguarded"
                .into(),
        );
    }
    need(
        (Duration::from_millis(100)..=Duration::from_secs(60)).contains(&s.redis.reconnect_max_delay),
        "redis.reconnect_max_delay must be between 100ms and 60s".into(),
    );
    need(!s.redis.connect_timeout.is_zero(), "redis.connect_timeout must be more than 0".into());
    need(
        s.readiness.lms_failures == 0 || !s.readiness.lms_window.is_zero(),
        "readiness.lms_window must be more than 0 (or set readiness.lms_failures = 0 to turn the check off)".into(),
    );
    if let Some(url) = &s.redis.url {
        let url = url.expose_secret();
        need(
            url.is_empty() || url.starts_with("redis://") || url.starts_with("rediss://"),
            "redis.url must start with redis:// or rediss://".into(),
        );
    }
    let (ours, old) = (&s.server.trusted_proxies, &s.ussd.trusted_proxies);
    need(
        ours.is_empty() || old.is_empty() || ours == old,
        "ussd.trusted_proxies has moved to server.trusted_proxies (every allow-list uses it) and the two differ: \
         keep only server.trusted_proxies (MKOPO_SERVER__TRUSTED_PROXIES)"
            .into(),
    );
    if let Err(bad) = s.parsed_trusted_proxies() {
        problems.extend(bad);
    }
    problems.extend(currency_problems(s));
    problems.extend(ussd_problems(s));
    problems
}

/// Every wallet must move the currency the gateway lends in: a payment in another currency would be
/// posted to a loan at face value (1,000 KES are not 1,000 TZS), so a mixed configuration never boots.
fn currency_problems(s: &Settings) -> Vec<String> {
    let lending = s.lms.currency.as_str();
    let differs = |currency: &str| !currency.eq_ignore_ascii_case(lending);
    let mut problems = Vec::new();
    for (name, wallet) in s.wallets.generic.iter().filter(|(_, w)| differs(&w.currency)) {
        problems.push(format!(
            "wallets.generic.{name}.currency = {:?} differs from lms.currency = {lending:?}: wallet {name} would \
             pay and collect {} against loans in {lending}; set wallets.generic.{name}.currency = {lending:?} or \
             remove the wallet",
            wallet.currency, wallet.currency
        ));
    }
    if let Some(daraja) = s.wallets.daraja.as_ref().filter(|d| differs(&d.currency)) {
        problems.push(format!(
            "wallets.daraja is enabled, but Daraja (M-Pesa Kenya) moves {:?} and lms.currency = {lending:?}: its \
             payments would be posted to {lending} loans at face value; remove [wallets.daraja] or lend in {}",
            daraja.currency, daraja.currency
        ));
    }
    if s.wallets.uses_sandbox() && differs(&s.sandbox.wallet.currency) {
        problems.push(format!(
            "sandbox.wallet.currency = {:?} differs from lms.currency = {lending:?}: the sandbox wallet would pay \
             and collect in another currency than the loans",
            s.sandbox.wallet.currency
        ));
    }
    problems
}

/// The USSD surface: the deadline must leave time for work, the MAC key must exist, every enabled
/// dialect's guard must be well-formed, and in production every enabled dialect must restrict callers.
fn ussd_problems(s: &Settings) -> Vec<String> {
    let u = &s.ussd;
    let mut problems = Vec::new();
    if u.render_reserve >= u.hop_budget {
        problems.push("ussd.render_reserve must be less than ussd.hop_budget".to_owned());
    }
    if u.session_ttl.is_zero() {
        problems.push("ussd.session_ttl must be more than 0".to_owned());
    }
    if u.path_mac_key.expose_secret().len() < 16 {
        problems.push("ussd.path_mac_key must be at least 16 characters (set MKOPO_USSD__PATH_MAC_KEY)".to_owned());
    }
    if u.languages.is_empty() {
        problems.push("ussd.languages must name at least one language".to_owned());
    }
    if u.screen.budget < 60 || u.screen.ucs2_budget < 30 {
        problems.push("ussd.screen budgets are too small for any screen (at least 60 and 30)".to_owned());
    }
    if u.pin.max_failures == 0 {
        problems.push("ussd.pin.max_failures must be at least 1".to_owned());
    }
    if !crate::menu::date_format_is_valid(&u.date_format) {
        problems.push(format!("ussd.date_format {:?} is not a date pattern chrono can format", u.date_format));
    }
    for (product, presets) in &u.amount_presets_by_product {
        if !s.lms.product_ids.contains(product) {
            problems.push(format!("ussd.amount_presets_by_product.{product:?} names a product not in lms.product_ids"));
        }
        if presets.is_empty() || presets.len() > 4 || presets.contains(&0) {
            problems.push(format!(
                "ussd.amount_presets_by_product.{product:?} must list 1 to 4 amounts above 0 (one screen of choices)"
            ));
        }
    }
    for name in u.dialects.keys() {
        if !["africastalking", "beem", "hubtel"].contains(&name.as_str()) {
            problems.push(format!("ussd.dialects.{name} is not a dialect: use africastalking, beem or hubtel"));
        }
    }
    // A bad proxy list is reported once above, not once per dialect.
    let proxies = s.parsed_trusted_proxies().unwrap_or_default();
    if let Err(more) = crate::routes::ussd::UssdGateway::dialect_routes(u, &proxies) {
        problems.extend(more);
    }
    if s.environment == Environment::Production {
        for (name, d) in u.dialects.iter().filter(|(_, d)| d.enabled) {
            let token = d.path_token.as_ref().is_some_and(|t| !t.expose_secret().is_empty());
            if !token && d.ip_allow.is_empty() {
                problems.push(format!(
                    "ussd.dialects.{name} is enabled without a path_token or ip_allow: production refuses open USSD routes"
                ));
            }
            // AT's `text` holds every input of the session, PINs too; in a query string every proxy and
            // load balancer on the way logs it. Only emulators send GET (docs/ussd.md).
            if d.accept_get == Some(true) {
                problems.push(format!(
                    "ussd.dialects.{name}.accept_get is refused in production: a GET puts the subscriber's inputs, PINs too, in URLs that proxies log"
                ));
            }
        }
    }
    problems
}

fn base_url_problem(key: &str, url: &str) -> Option<String> {
    if url.trim().is_empty() {
        return Some(format!("{key} is required when lms.mode = http"));
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Some(format!("{key} = {url:?} must be an http(s) URL"));
    }
    if url.ends_with('/') || url.ends_with("/v1") {
        return Some(format!("{key} = {url:?} must carry neither `/v1` nor a trailing slash"));
    }
    None
}
