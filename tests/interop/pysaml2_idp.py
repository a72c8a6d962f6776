#!/usr/bin/env python3
"""pysaml2 as the IdP of fedkit's interoperability test (tests/tests/interop_pysaml2.rs).

This script only *produces* IdP messages; every judgement is made by fedkit in Rust.

    python3 pysaml2_idp.py JOB.json

JOB.json (written by the Rust test) names the IdP key pair, fedkit's SP metadata, an output
directory and a list of cases. For each case pysaml2 (as `saml2.server.Server`, configured
from the SP metadata only):

* when the case carries one of fedkit's AuthnRequests (HTTP-Redirect URL, signed or not, or
  an HTTP-POST form value), parses it with `Server.parse_authn_request` — verifying its
  signature against the SP signing certificate of the metadata when the request is signed
  (`want_authn_requests_signed`) — and answers it with `Server.response_args` (ACS URL,
  InResponseTo, NameIDPolicy taken from the request);
* otherwise answers IdP-initiated, to the ACS URL of the metadata;
* builds the Response with `Server.create_authn_response`: signed as the case says
  (assertion, response, both, none) with the case's signature and digest algorithms, and
  the assertion encrypted to the SP metadata's encryption certificate with the case's
  block cipher and key transport (pysaml2 encrypts through the xmlsec1 CLI).

Results go to OUT/results.json: per case the Response file, what pysaml2 read from the
request, or the error pysaml2 raised (a refused request is a result, not a crash).
"""

import json
import shutil
import sys
import traceback
import urllib.parse
from importlib.metadata import version

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.sigver import get_pem_wrapped_unwrapped, make_temp, pre_encryption_part

SIGN = {
    "assertion": (False, True),
    "response": (True, False),
    "both": (True, True),
    "none": (False, False),
}


class VariantServer(Server):
    """A pysaml2 Server whose assertion encryption uses the case's algorithms.

    pysaml2's own `_encrypt_assertion` always asks xmlsec1 for tripledes-cbc with
    rsa-oaep-mgf1p; this one passes the case's `EncryptedData`/`EncryptedKey` methods and
    session key type to the same pysaml2 calls (`pre_encryption_part`,
    `sec.encrypt_assertion`), with the SP encryption certificate from the metadata.
    """

    encryption = None

    def _encrypt_assertion(self, encrypt_cert, sp_entity_id, response, node_xpath=None):
        enc = self.encryption
        if enc is None:
            return super()._encrypt_assertion(encrypt_cert, sp_entity_id, response, node_xpath)
        certs = [(None, encrypt_cert)] if encrypt_cert else self.metadata.certs(sp_entity_id, "any", "encryption")
        if not certs:
            raise RuntimeError(f"no encryption certificate for {sp_entity_id} in the SP metadata")
        _name, cert = certs[0]
        wrapped, unwrapped = get_pem_wrapped_unwrapped(cert)
        tmp = make_temp(wrapped.encode("ascii"), decode=False, delete_tmpfiles=self.config.delete_tmpfiles)
        template = pre_encryption_part(msg_enc=enc["data"], key_enc=enc["key_transport"], encrypt_cert=unwrapped)
        return self.sec.encrypt_assertion(
            response, tmp.name, template, key_type=enc["session_key"], node_xpath=node_xpath
        )


def make_server(job, requests_signed):
    idp = job["idp"]
    conf = IdPConfig()
    conf.load(
        {
            "entityid": idp["entity_id"],
            "key_file": idp["key"],
            "cert_file": idp["cert"],
            "xmlsec_binary": shutil.which("xmlsec1"),
            "metadata": {"local": [job["sp_metadata"]]},
            "accepted_time_diff": 60,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [
                            (idp["sso_url"], BINDING_HTTP_REDIRECT),
                            (idp["sso_url"], BINDING_HTTP_POST),
                        ],
                    },
                    "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    "want_authn_requests_signed": requests_signed,
                    "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                }
            },
        }
    )
    return VariantServer(config=conf)


def parse_request(server, request):
    """fedkit's AuthnRequest as pysaml2 receives it; returns the parsed request."""
    if request["binding"] == "redirect":
        query = urllib.parse.urlsplit(request["url"]).query
        params = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        return server.parse_authn_request(
            params["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=params.get("RelayState"),
            sigalg=params.get("SigAlg"),
            signature=params.get("Signature"),
        )
    if request["binding"] == "post":
        return server.parse_authn_request(request["saml_request"], BINDING_HTTP_POST)
    raise ValueError(f"unknown binding {request['binding']!r}")


def run_case(servers, job, case):
    request = case.get("request")
    server = servers[bool(request and request.get("signed"))]
    server.encryption = case.get("encryption")
    out = {"error": None, "request": None, "response": None}
    if request:
        try:
            parsed = parse_request(server, request)
        except Exception as e:  # pysaml2 refusing the request is a result the test judges
            out["error"] = f"request refused by pysaml2: {type(e).__name__}: {e}"
            return out
        if parsed is None:
            out["error"] = "request refused by pysaml2: parse_authn_request returned None"
            return out
        msg = parsed.message
        args = server.response_args(msg)
        out["request"] = {
            "id": msg.id,
            "issuer": msg.issuer.text,
            "acs_url": msg.assertion_consumer_service_url,
            "destination": msg.destination,
            "signed_xml": msg.signature is not None,
        }
        in_response_to = args["in_response_to"]
        destination = args["destination"]
        sp_entity_id = args["sp_entity_id"]
        name_id_policy = args["name_id_policy"]
    else:
        in_response_to = None
        sp_entity_id = job["sp_entity_id"]
        destination = server.metadata.assertion_consumer_service(sp_entity_id, BINDING_HTTP_POST)[0]["location"]
        name_id_policy = None

    sign_response, sign_assertion = SIGN[case["sign"]]
    identity = job["identity"]
    response = server.create_authn_response(
        identity["attributes"],
        in_response_to,
        destination,
        sp_entity_id,
        name_id_policy=name_id_policy,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=identity["name_id"]),
        authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": job["idp"]["entity_id"]},
        sign_response=sign_response,
        sign_assertion=sign_assertion,
        encrypt_assertion=case.get("encryption") is not None,
        sign_alg=case["sign_alg"],
        digest_alg=case["digest_alg"],
    )
    path = f"{job['out_dir']}/{case['name']}.xml"
    with open(path, "w", encoding="utf-8") as f:
        f.write(str(response))
    out["response"] = path
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        job = json.load(f)
    servers = {False: make_server(job, False), True: make_server(job, True)}
    results = {
        "pysaml2": version("pysaml2"),
        "xmlsec1": servers[False].sec.crypto.version,
        "cases": {},
    }
    for case in job["cases"]:
        try:
            results["cases"][case["name"]] = run_case(servers, job, case)
        except Exception:
            results["cases"][case["name"]] = {
                "error": "pysaml2 failed: " + traceback.format_exc(),
                "request": None,
                "response": None,
            }
    with open(f"{job['out_dir']}/results.json", "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
