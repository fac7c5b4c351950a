"""Helpers for the vms_auth system tests: keys made by python3-cryptography, tokens minted by
python3-jwt (PyJWT) -- a JWT implementation independent of the module under test."""
import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    """An HS256 secret (the stack's), an RSA-2048 key, an EC P-256 key and a JWKS with two more."""

    def __init__(self, st):
        d = st.path("auth-keys")
        with open(st.secret_file()) as f:
            self.secret = f.read().strip()
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.jwks_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwks_ec = ec.generate_private_key(ec.SECP384R1())
        self.rsa_pem = self._pub_pem(self.rsa)
        self.ec_pem = self._pub_pem(self.ec)
        self.rsa_path = os.path.join(d, "rsa.pem")
        self.ec_path = os.path.join(d, "ec.pem")
        self.jwks_path = os.path.join(d, "jwks.json")
        with open(self.rsa_path, "wb") as f:
            f.write(self.rsa_pem)
        with open(self.ec_path, "wb") as f:
            f.write(self.ec_pem)
        keys = []
        for k, kid, alg, cls in ((self.jwks_rsa, "jwks-rsa", "RS256", jwt.algorithms.RSAAlgorithm),
                                 (self.jwks_ec, "jwks-ec", "ES384", jwt.algorithms.ECAlgorithm)):
            jwk = json.loads(cls.to_jwk(k.public_key()))
            if jwk["kty"] == "EC":
                # RFC 7518 6.2.1.2: x and y are full-length; PyJWT 2.6 drops leading zero bytes
                # (about one key in 64), which vms_auth rightly refuses.
                n = k.public_key().public_numbers()
                size = (k.curve.key_size + 7) // 8
                jwk["x"] = b64url(n.x.to_bytes(size, "big"))
                jwk["y"] = b64url(n.y.to_bytes(size, "big"))
            jwk.update({"kid": kid, "alg": alg, "use": "sig"})
            keys.append(jwk)
        with open(self.jwks_path, "w") as f:
            json.dump({"keys": keys}, f)

    @staticmethod
    def _pub_pem(k):
        return k.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)

    def nginx_lines(self):
        return (f"vms_auth_public_key {self.rsa_path} kid=rsa1;\n"
                f"vms_auth_public_key {self.ec_path};\n"
                f"vms_auth_jwks {self.jwks_path};")

    def token(self, alg="HS256", kid=None, ttl=600, **claims):
        now = int(time.time())
        payload = {"sub": "alice", "exp": now + ttl, "iat": now, "jti": uuid.uuid4().hex}
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        key = {"HS256": self.secret, "RS256": self.rsa, "ES256": self.ec}.get(alg)
        if kid == "jwks-rsa":
            key = self.jwks_rsa
        elif kid == "jwks-ec":
            key = self.jwks_ec
        headers = {"kid": kid} if kid else None
        return jwt.encode(payload, key, algorithm=alg, headers=headers)


def forge_hs256(payload, secret_bytes):
    """HS256 token 'signed' with arbitrary bytes (PyJWT refuses PEM keys as HMAC secrets)."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps(payload).encode())
    sig = hmac.new(secret_bytes, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


def bearer(tok):
    return {"Authorization": f"Bearer {tok}"}
