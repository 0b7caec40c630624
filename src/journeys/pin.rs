//! The optional subscriber PIN: set at registration (entered twice), asked before a borrow, stored only
//! as an Argon2id hash, locked after `ussd.pin.max_failures` wrong entries for `ussd.pin.lockout`. The
//! first entry waits for the second only as a keyed MAC in the session; the PIN itself is never stored
//! or logged. Hashing runs on the blocking pool: it is deliberately slow and memory-hard.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use super::{Ctx, JourneyError, Journeys};
use crate::menu::{Secret, TaskResult, Value};

const STAGED: &str = "pin_stage";

impl Journeys {
    pub(super) async fn pin_gate(&self, ctx: &mut Ctx<'_>) -> Result<TaskResult, JourneyError> {
        if !self.settings.pin.enabled {
            return Ok(TaskResult::outcome("off"));
        }
        if self.sessions.pin_failures(ctx.msisdn).await? >= u64::from(self.settings.pin.max_failures) {
            return Ok(TaskResult::outcome("locked"));
        }
        Ok(TaskResult::outcome(if self.sessions.pin_hash(ctx.msisdn).await?.is_some() { "set" } else { "unset" }))
    }

    pub(super) fn pin_stage(&self, ctx: &mut Ctx<'_>, pin: &Secret) -> Result<TaskResult, JourneyError> {
        let tag = self.pin_tag(ctx, pin);
        Ok(TaskResult::outcome("ok").with(STAGED, Value::Text(tag)))
    }

    pub(super) async fn pin_set(&self, ctx: &mut Ctx<'_>, pin: &Secret) -> Result<TaskResult, JourneyError> {
        let staged = ctx.state.slots.text(STAGED).map(str::to_owned);
        ctx.state.slots.remove(STAGED);
        if staged.as_deref() != Some(self.pin_tag(ctx, pin).as_str()) {
            return Ok(TaskResult::outcome("mismatch").with_error("error-pin-mismatch"));
        }
        let pin = pin.0.clone();
        let phc = tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            Argon2::default().hash_password(pin.as_bytes(), &salt).map(|h| h.to_string())
        })
        .await
        .map_err(|e| JourneyError::Broken(format!("PIN hashing task failed: {e}")))?
        .map_err(|e| JourneyError::Broken(format!("PIN hashing failed: {e}")))?;
        self.sessions.set_pin_hash(ctx.msisdn, &phc).await?;
        self.sessions.clear_pin_failures(ctx.msisdn).await?;
        tracing::info!(msisdn = %ctx.msisdn, "subscriber PIN set");
        Ok(TaskResult::outcome("ok"))
    }

    pub(super) async fn pin_check(&self, ctx: &mut Ctx<'_>, pin: &Secret) -> Result<TaskResult, JourneyError> {
        let max = u64::from(self.settings.pin.max_failures);
        if self.sessions.pin_failures(ctx.msisdn).await? >= max {
            return Ok(TaskResult::outcome("locked"));
        }
        let Some(phc) = self.sessions.pin_hash(ctx.msisdn).await? else {
            return Ok(TaskResult::outcome("locked"));
        };
        let pin = pin.0.clone();
        let good = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc).is_ok_and(|hash| Argon2::default().verify_password(pin.as_bytes(), &hash).is_ok())
        })
        .await
        .map_err(|e| JourneyError::Broken(format!("PIN check task failed: {e}")))?;
        if good {
            self.sessions.clear_pin_failures(ctx.msisdn).await?;
            return Ok(TaskResult::outcome("ok"));
        }
        let failures = self.sessions.add_pin_failure(ctx.msisdn, self.settings.pin.lockout).await?;
        tracing::warn!(msisdn = %ctx.msisdn, failures, "wrong PIN");
        if failures >= max {
            return Ok(TaskResult::outcome("locked"));
        }
        Ok(TaskResult::outcome("wrong")
            .with("tries", Value::Count((max - failures) as u32))
            .with_error("error-pin-wrong"))
    }

    /// MAC of the PIN bound to this session, so a staged first entry is useless anywhere else.
    fn pin_tag(&self, ctx: &Ctx<'_>, pin: &Secret) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.settings.path_mac_key.expose_secret().as_bytes())
            .expect("HMAC accepts any key length");
        mac.update(ctx.key.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(pin.0.as_bytes());
        mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}
