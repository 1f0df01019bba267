//! The OpenAPI 3.1 description, generated from the handlers and types (utoipa), and a
//! self-contained page that renders it (no CDN: the page is served by this API).
use axum::http::header;
use axum::response::{Html, IntoResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{handlers, http, jobs, market};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Calor API",
        description = "Rent GPUs paid on Solana. Sign in with your wallet (Sign-In With Solana), \
            quote and open jobs as unsigned transactions your wallet signs, watch them run, stop them \
            and read their settlement. Errors are RFC 9457 problem details with a stable `code`.",
    ),
    paths(
        http::challenge, http::verify, http::refresh, http::logout, http::me,
        handlers::create_job, handlers::relay, handlers::get_job, handlers::list_jobs,
        handlers::stop_job, handlers::job_events, handlers::job_access, handlers::gpus, handlers::network,
        handlers::network_history, handlers::stakes, handlers::listings,
    ),
    components(schemas(
        http::ProblemBody, jobs::JobEvent, market::GpuCatalog, market::GpuModelView,
        market::RegionAvailability, market::RateView,
    )),
    modifiers(&Bearer, &Problems),
    tags(
        (name = "auth", description = "Sign-In With Solana and sessions"),
        (name = "jobs", description = "Open, watch and stop rentals"),
        (name = "market", description = "GPUs, nodes and the network"),
        (name = "staking", description = "Stakes and rewards"),
    )
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The access token from `POST /api/auth/verify` (at most an hour)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Errors are served as `application/problem+json`: every 4xx and 5xx response says so.
struct Problems;

impl Modify for Problems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.delete,
                &mut item.put,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                for (status, response) in operation.responses.responses.iter_mut() {
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    if let utoipa::openapi::RefOr::T(response) = response {
                        if let Some(content) = response.content.shift_remove("application/json") {
                            response
                                .content
                                .insert("application/problem+json".to_string(), content);
                        }
                    }
                }
            }
        }
    }
}

/// The description as JSON, rendered once.
pub fn spec_json() -> &'static str {
    static SPEC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SPEC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the description serialises")
    })
}

pub async fn spec() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], spec_json())
}

pub async fn docs_page() -> Html<&'static str> {
    Html(DOCS_PAGE)
}

const DOCS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Calor API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1f;background:#fafafa}
main{max-width:960px;margin:auto;padding:24px}
h1{margin:0 0 4px}.op{background:#fff;border:1px solid #ddd;border-radius:8px;margin:12px 0;padding:12px 16px}
.m{display:inline-block;min-width:64px;font-weight:700;font-family:monospace}.get{color:#0a7}.post{color:#06c}.delete{color:#c33}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f3f3f5;padding:8px;overflow:auto;border-radius:6px}
table{border-collapse:collapse}td{padding:2px 8px;vertical-align:top}summary{cursor:pointer}
</style></head><body><main>
<h1>Calor API</h1><p id="about"></p><p><a href="/api/openapi.json">openapi.json</a></p><div id="ops">Loading…</div>
</main><script>
const esc=s=>String(s??'').replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
function ref(spec,s){while(s&&s.$ref){s=spec.components.schemas[s.$ref.split('/').pop()]}return s}
fetch('/api/openapi.json').then(r=>r.json()).then(spec=>{
 document.getElementById('about').textContent=spec.info.description||'';
 const out=[];
 for(const [path,item] of Object.entries(spec.paths)){for(const [method,op] of Object.entries(item)){
  const params=(op.parameters||[]).map(p=>`<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${esc(p.description)}</td></tr>`).join('');
  const body=op.requestBody?`<details><summary>Request body</summary><pre>${esc(JSON.stringify(ref(spec,op.requestBody.content['application/json'].schema),null,1))}</pre></details>`:'';
  const resp=Object.entries(op.responses||{}).map(([code,r])=>`<tr><td><b>${esc(code)}</b></td><td>${esc(r.description)}</td></tr>`).join('');
  out.push(`<div class="op"><span class="m ${method}">${method.toUpperCase()}</span> <code>${esc(path)}</code>${op.security?' 🔒':''}
   <div>${esc(op.description||op.summary||'')}</div>${params?`<table>${params}</table>`:''}${body}<table>${resp}</table></div>`);
 }}
 document.getElementById('ops').innerHTML=out.join('');
});
</script></body></html>"#;

#[cfg(test)]
mod tests {
    /// The description the typed API client is generated from (`sdk/ts/src/generated`, shared
    /// by the TypeScript SDK and the web app): a change to the API's shapes must be committed
    /// with the regenerated client.
    #[test]
    fn the_committed_description_is_current() {
        let value: serde_json::Value = serde_json::from_str(super::spec_json()).unwrap();
        let spec = serde_json::to_string_pretty(&value).unwrap() + "\n";
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../sdk/ts/src/generated/openapi.json"
        );
        if std::env::var_os("CALOR_UPDATE_OPENAPI").is_some() {
            std::fs::write(path, &spec).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == spec,
            "sdk/ts/src/generated/openapi.json is stale: run `CALOR_UPDATE_OPENAPI=1 cargo test -p calor-api --lib openapi` then `npm run codegen -w @calor/sdk`"
        );
    }
}
