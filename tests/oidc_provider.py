"""A small but real OpenID Connect provider for the console's tests, on loopback (Starlette + Authlib's joserfc).

Discovery document, JWKS, /authorize (authorization code; PKCE S256 required; signs in `next_user`
without a form) and /token (client authentication, the code once, the PKCE verifier checked; an
RS256 ID token with iss, sub, aud, exp, iat, nonce, email and groups). `mode` makes the next ID
token wrong on purpose: "wrong-aud", "wrong-aud-azp", "wrong-iss", "expired", "tampered" (payload changed after signing),
"other-key" (signed with a key not in the JWKS) or "no-nonce".
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import urlencode


class Provider:
    """The provider's state: its key, registered client, who signs in next, codes issued."""

    def __init__(self, client_id: str = "console-test-client", client_secret: str = "console-test-secret"):
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.other = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.client_id, self.client_secret = client_id, client_secret
        self.next_user: dict = {}
        self.mode: str | None = None
        self.codes: dict[str, dict] = {}
        self.base = ""
        self.authorize_requests: list[dict] = []

    def id_token(self, claims: dict) -> str:
        from joserfc import jwt

        key = self.other if self.mode == "other-key" else self.key
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        if self.mode == "tampered":
            head, body, sig = token.split(".")
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            data["email"] = "intruder@leeds.example"
            body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
            token = ".".join((head, body, sig))
        return token

    def app(self):
        """The provider as an ASGI app."""
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
        from starlette.routing import Route

        async def discovery(request):
            b = self.base
            return JSONResponse({
                "issuer": b, "authorization_endpoint": b + "/authorize", "token_endpoint": b + "/token",
                "jwks_uri": b + "/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"]})

        async def jwks(request):
            return JSONResponse({"keys": [self.key.as_dict(private=False)]})

        async def authorize(request):
            q = dict(request.query_params)
            self.authorize_requests.append(q)
            if q.get("client_id") != self.client_id or q.get("response_type") != "code":
                return PlainTextResponse("unknown client or response type", status_code=400)
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return PlainTextResponse("PKCE (S256) is required", status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"q": q, "user": dict(self.next_user)}
            return RedirectResponse(q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")}),
                                    status_code=302)

        async def token(request):
            form = dict(await request.form())
            auth = request.headers.get("authorization", "")
            cid, secret = form.get("client_id"), form.get("client_secret")
            if auth.lower().startswith("basic "):
                cid, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            if cid != self.client_id or secret != self.client_secret:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.pop(form.get("code", ""), None)      # a code works once
            if grant is None or form.get("redirect_uri") != grant["q"]["redirect_uri"]:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != grant["q"]["code_challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE verifier"}, status_code=400)
            now = int(time.time())
            claims = {"iss": self.base, "sub": grant["user"].get("sub", "u1"), "aud": self.client_id,
                      "iat": now, "exp": now + 600, "nonce": grant["q"].get("nonce"), **grant["user"]}
            if self.mode in ("wrong-aud", "wrong-aud-azp"):
                claims["aud"] = "some-other-application"
            if self.mode == "wrong-aud-azp":       # another app's token that names us as the authorised party
                claims["azp"] = self.client_id
            if self.mode == "wrong-iss":
                claims["iss"] = "https://login.elsewhere.example"
            if self.mode == "expired":
                claims["iat"], claims["exp"] = now - 7200, now - 3600
            if self.mode == "no-nonce":
                claims.pop("nonce")
            return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                 "expires_in": 600, "id_token": self.id_token(claims)})

        return Starlette(routes=[Route("/.well-known/openid-configuration", discovery), Route("/jwks", jwks),
                                 Route("/authorize", authorize), Route("/token", token, methods=["POST"])])
