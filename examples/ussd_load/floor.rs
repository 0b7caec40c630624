//! The floor: a server that per hop does only the Redis round trips and the one LMS call of a gateway hop.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

// The gateway's own scripts, so the floor's Redis work is the gateway's by construction.
use mkopo::store::{SAVE_VERSIONED, UNLOCK};

/// Loads the gateway's two scripts and answers their SHAs (save, unlock).
pub async fn load_scripts(conn: &mut redis::aio::ConnectionManager) -> redis::RedisResult<(String, String)> {
    let save = redis::cmd("SCRIPT").arg("LOAD").arg(SAVE_VERSIONED).query_async(conn).await?;
    let unlock = redis::cmd("SCRIPT").arg("LOAD").arg(UNLOCK).query_async(conn).await?;
    Ok((save, unlock))
}

const MAIN_SCREEN: &str = "CON Mkopo\n1. Borrow\n2. My balance\n3. Repay\n4. My payments\n5. Language";

pub struct Floor {
    pub redis: redis::aio::ConnectionManager,
    /// `SCRIPT LOAD`ed SHAs of the gateway's scripts, called by `EVALSHA` as the gateway does.
    pub save_sha: String,
    pub unlock_sha: String,
    pub http: reqwest::Client,
    pub lms: String,
    pub bearer: String,
    pub prefix: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AtForm {
    session_id: String,
    phone_number: String,
    #[serde(default)]
    text: String,
}

impl Floor {
    fn keys(&self, form: &AtForm) -> (String, String) {
        let msisdn = form.phone_number.trim_start_matches('+');
        let session = format!("{}:floor:ussd:{msisdn}:{}", self.prefix, form.session_id);
        (session, format!("{}:floor:sub:{msisdn}:resume", self.prefix))
    }

    async fn hop(&self, form: &AtForm) -> Result<String, String> {
        let (key, snapshot) = self.keys(form);
        let lock = format!("{key}:lock");
        let msisdn = form.phone_number.trim_start_matches('+');
        let mut conn = self.redis.clone();
        let token = uuid::Uuid::new_v4().simple().to_string();
        let e = |e: redis::RedisError| e.to_string();
        // As the gateway: the lock travels with the read, the save with the unlock (one pipeline each).
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(&lock).arg(&token).arg("NX").arg("PX").arg(4000);
        pipe.cmd("HMGET").arg(&key).arg("v").arg("d");
        let (locked, (version, _state)): (redis::Value, (Option<u64>, Option<Vec<u8>>)) =
            pipe.query_async(&mut conn).await.map_err(e)?;
        if locked == redis::Value::Nil {
            return Err("session busy".into());
        }
        let hop = if form.text.is_empty() { 1 } else { form.text.split('*').count() + 1 };
        let (reply, end) = if hop == 1 {
            let url = format!("{}/v1/customers/external/{msisdn}", self.lms);
            let response = self.http.get(url).bearer_auth(&self.bearer).send().await.map_err(|e| e.to_string())?;
            let status = response.status();
            let _ = response.bytes().await.map_err(|e| e.to_string())?;
            if status != 200 {
                return Err(format!("LMS customer lookup answered {status}"));
            }
            (MAIN_SCREEN.to_owned(), false)
        } else {
            let url = format!("{}/v1/loans?customerExternalId={msisdn}&status=Active&page=1&rows=50", self.lms);
            let response = self.http.get(url).bearer_auth(&self.bearer).send().await.map_err(|e| e.to_string())?;
            let page: serde_json::Value = response.json().await.map_err(|e| e.to_string())?;
            match page["items"].as_array().map_or(0, Vec::len) {
                0 => ("END You have no active loan.".to_owned(), true),
                n => (format!("CON {n} loan(s)\nOwed: TZS 0\n1. Repay\n0. Back"), false),
            }
        };
        let state = serde_json::json!({
            "m": { "hop": hop, "fp": "0123456789abcdef0123456789abcdef", "reply": { "text": reply, "end": end } },
            "s": { "node": if hop == 1 { "main" } else { "balance-loan" }, "lang": "en", "slots": { "currency": "TZS" } }
        })
        .to_string();
        if hop == 1 {
            let lang = format!("{}:floor:sub:{msisdn}:lang", self.prefix);
            let _: Vec<Option<Vec<u8>>> =
                redis::cmd("MGET").arg(&lang).arg(&snapshot).query_async(&mut conn).await.map_err(e)?;
        } else if !end {
            redis::cmd("SET")
                .arg(&snapshot)
                .arg(format!("{{\"p\":\"{key}\"}}"))
                .arg("PX")
                .arg(300_000)
                .query_async::<()>(&mut conn)
                .await
                .map_err(e)?;
        }
        let mut pipe = redis::pipe();
        pipe.cmd("EVALSHA").arg(&self.save_sha).arg(1).arg(&key).arg(version.unwrap_or(0)).arg(&state).arg(300_000);
        pipe.cmd("EVALSHA").arg(&self.unlock_sha).arg(1).arg(&lock).arg(&token).ignore();
        let (_saved,): (u64,) = pipe.query_async(&mut conn).await.map_err(e)?;
        Ok(reply)
    }
}

/// A plain-text answer on success, 503 with the error otherwise.
fn answer(result: Result<String, String>) -> HttpResponse {
    match result {
        Ok(body) => HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(body),
        Err(error) => HttpResponse::ServiceUnavailable().body(error),
    }
}

pub async fn floor_hop(floor: web::Data<Floor>, form: web::Form<AtForm>) -> HttpResponse {
    answer(floor.hop(&form).await)
}

pub async fn floor_event(floor: web::Data<Floor>, form: web::Form<AtForm>) -> HttpResponse {
    let (key, snapshot) = floor.keys(&form);
    let mut conn = floor.redis.clone();
    // As the gateway: read the record, delete it, keep a copy of a mid-journey state for resuming.
    let deleted = async {
        let (_v, state): (Option<u64>, Option<Vec<u8>>) =
            redis::cmd("HMGET").arg(&key).arg("v").arg("d").query_async(&mut conn).await?;
        redis::cmd("DEL").arg(&key).query_async::<()>(&mut conn).await?;
        redis::cmd("SET")
            .arg(&snapshot)
            .arg(state.unwrap_or_default())
            .arg("PX")
            .arg(120_000)
            .query_async(&mut conn)
            .await
    };
    answer(deleted.await.map(|()| "OK".to_owned()).map_err(|error| error.to_string()))
}
