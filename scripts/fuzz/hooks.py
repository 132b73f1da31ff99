"""Schemathesis hooks for scripts/fuzz-api.sh (loaded with SCHEMATHESIS_HOOKS).

1. `before_call` signs each provider webhook as the provider does, with the secret the live API was
   started with, so the fuzzer's bodies reach the event parsing instead of stopping at the
   signature (401). Only positive cases (schema-valid requests) are signed, and only when the
   generated header already has its documented shape: a negative case is sent as generated, and
   must be refused (signing it could turn it into a valid request).

2. `state_dependent_rejection` narrows what schemathesis.toml allows. There, some operations let
   `positive_data_acceptance` take a 400, 410 or 422 for a schema-valid request, because whether
   the request can succeed depends on something no schema can say (a signed state, a sealed cursor,
   a key used before, what the connection asked for). This check fails any such rejection whose
   error code (and detail) is not one of those state-dependent ones, so a request the document
   calls valid and the API refuses for any other reason is still a failure. A "positive" case whose
   parameters or body do not match their documented schemas is not judged: the stateful phase fills
   them from other responses through links it infers by name (a Linkflow connection id into
   Powens' numeric `connection_id`), and those values need not be schema-valid.
"""
import base64
import hashlib
import hmac
import json
import os
import re

import jsonschema_rs
import schemathesis
from schemathesis.core import NotSet

SECRETS = {
    "/webhooks/oxlin": os.environ.get("OXLIN_WEBHOOK_SECRET", ""),
    "/webhooks/flinks": os.environ.get("FLINKS_WEBHOOK_SECRET", ""),
    "/webhooks/lnkfi": os.environ.get("LNKFI_WEBHOOK_SECRET", ""),
}
HEX64 = "0123456789abcdef"


def _is_hex64(value):
    return isinstance(value, str) and len(value) == 64 and all(c in HEX64 for c in value.lower())


def _signature(path, raw, secret, current):
    """The header to send, or None to leave the generated one (not the documented shape)."""
    mac = hmac.new(secret.encode("ascii"), raw, hashlib.sha256)
    if path == "/webhooks/oxlin":
        name = "X-Oxlin-Signature"
        ok = isinstance(current.get(name), str) and current[name].startswith("sha256=") and _is_hex64(current[name][7:])
        return (name, "sha256=" + mac.hexdigest()) if ok else None
    if path == "/webhooks/flinks":
        name = "flinks-authenticity-key"
        value = current.get(name)
        ok = isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9+/]{43}=", value) is not None
        return (name, base64.b64encode(mac.digest()).decode("ascii")) if ok else None
    if path == "/webhooks/lnkfi":
        name = "X-LnkFi-Webhook-Signature"
        return (name, mac.hexdigest()) if _is_hex64(current.get(name)) else None
    return None


@schemathesis.hook
def before_call(context, case, **kwargs):
    path = case.operation.path
    secret = SECRETS.get(path)
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if not secret or case.headers is None:
        return
    if not isinstance(case.body, (dict, list, str, int, float, bool)):
        return
    # Sign the very bytes sent: requests serializes `json=` bodies with json.dumps(body, allow_nan=False)
    # (ASCII: ensure_ascii). The body stays the generated object, so the checks still validate it.
    raw = json.dumps(case.body, allow_nan=False).encode("ascii")
    header = _signature(path, raw, secret, case.headers)
    if header is not None:
        case.headers[header[0]] = header[1]


# operationId -> {status: {error code: required detail text, or None for any}}: the rejections of a
# schema-valid request that depend on state or the world, each as api/openapi.ts documents it.
STATE_DEPENDENT = {
    # The state is an HMAC only Linkflow makes; an issued one is single-use.
    **{f"{p}Callback": {400: {"invalid_state": None}} for p in ("oxlin", "flinks", "powens", "lnkfi")},
    # Cursors are sealed and bound to the connection or filters they were issued for.
    "listConnections": {400: {"invalid_cursor": None}},
    "listTransactions": {400: {"invalid_cursor": None}},
    "syncTransactions": {400: {"invalid_cursor": None}},
    # A key used before for another body; a provider/mode pair or institution the deployment lacks.
    "createConnection": {422: {"idempotency_key_reused": None, "unsupported_mode": None, "provider_not_configured": None}},
    # Starting the session's connection, or renewing / extending an existing one, as those routes refuse.
    "createConnectSession": {
        422: {"unsupported_mode": None, "provider_not_configured": None, "validation_failed": "no redirect channel"},
    },
    # Fields and regexps are the ones the connection asked for; values must be encrypted with its key.
    "submitCredentials": {
        422: {"invalid_credentials": None, "provider_rejected": None, "validation_failed": "each field may appear once"},
    },
    # Answers per the challenge's own fields; JSON Schema cannot say "unique by id" (credentials neither).
    "answerChallenge": {
        410: {"challenge_expired": None},
        422: {"invalid_answers": None, "provider_rejected": None, "validation_failed": "each field may appear once"},
    },
    # Consent only for the accounts the connection listed.
    "giveConsent": {422: {"validation_failed": "unknown_account_ids"}},
    # Only a connection with a redirect channel renews.
    "requestRenewal": {422: {"validation_failed": "no redirect channel"}},
    # A provider the deployment has no settings for (the document lists every provider Linkflow knows).
    "listInstitutions": {422: {"provider_not_configured": None}},
    # Whether the host resolves, and to what, is the world's.
    "createWebhookEndpoint": {422: {"webhook_url_unresolvable": None, "webhook_url_forbidden": None}},
    # The (unsigned) vendor header must name the signed body's vendor_id.
    "lnkfiWebhook": {400: {"invalid_event": "differs from X-LnkFi-Webhook-Vendor-Id"}},
    # Whether a sealed payload opens depends on the configured keys (LINKFLOW_PAYLOAD_KEYS).
    "decodePayloads": {422: {"payload_not_decodable": None}},
}


# The pattern that says "no NUL, no lone surrogate" (api/openapi.ts, STORABLE_TEXT): the Rust regex
# engine cannot compile it, and the generator already keeps to it (schemathesis.toml [generation]).
STORABLE_TEXT_PATTERN = "^[^\\u0000\\ud800-\\udfff]*$"


def _without_storable_text_pattern(schema):
    """The schema with the STORABLE_TEXT pattern left out wherever it appears."""
    if isinstance(schema, dict):
        return {k: _without_storable_text_pattern(v) for k, v in schema.items() if not (k == "pattern" and v == STORABLE_TEXT_PATTERN)}
    if isinstance(schema, list):
        return [_without_storable_text_pattern(v) for v in schema]
    return schema


def _matches(schema, value):
    try:
        return jsonschema_rs.is_valid(_without_storable_text_pattern(schema), value)
    except Exception:  # a schema the Rust validator cannot compile: judge the case as sent
        return True


def _request_conforms(case):
    """Whether every parameter the case sends, and its body, match what the document gives them."""
    operation = case.operation
    for parameters, values in (
        (operation.query, case.query),
        (operation.path_parameters, case.path_parameters),
        (operation.headers, case.headers),
        (operation.cookies, case.cookies),
    ):
        for parameter in parameters:
            if values and parameter.name in values and not _matches(parameter.validation_schema, values[parameter.name]):
                return False
    if case.body is not None and not isinstance(case.body, NotSet):
        for body in operation.body:
            if body.media_type == case.media_type and not _matches(body.validation_schema, case.body):
                return False
    return True


@schemathesis.check
def state_dependent_rejection(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if not _request_conforms(case):
        return None
    allowed = STATE_DEPENDENT.get(case.operation.definition.raw.get("operationId"), {})
    if response.status_code not in allowed:
        return None
    try:
        error = json.loads(response.content)["error"]
    except Exception:
        raise AssertionError(f"{response.status_code} without the error shape: {response.content[:200]!r}")
    code = error.get("code")
    if code not in allowed[response.status_code]:
        raise AssertionError(f"Schema-valid request refused with {response.status_code} {code}: not a state-dependent refusal ({error})")
    needed = allowed[response.status_code][code]
    if needed is not None and needed not in json.dumps(error.get("details")) + str(error.get("message")):
        raise AssertionError(f"Schema-valid request refused with {response.status_code} {code} for another reason: {error}")
    return None
